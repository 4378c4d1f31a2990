"""Saving and loading JAX models and checkpoints without pickle, and the optional JAX install."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spinup.utils.checks import UserError


def _python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


# A stand-in for an uninstalled package: Python refuses to import a name mapped to None.
NO_JAX = "import sys\nfor m in ('jax', 'flax', 'optax'): sys.modules[m] = None\n"


def test_import_spinup_needs_no_jax():
    r = _python(NO_JAX + "import spinup\nprint(spinup.ppo_pytorch.__name__)\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "ppo"


@pytest.mark.parametrize("name", ["ppo_jax", "dqn_jax"])
def test_jax_algorithm_without_jax_says_how_to_install(name):
    r = _python(NO_JAX + f"from spinup.utils.checks import UserError\ntry:\n    from spinup import {name}\n"
                "except UserError as e:\n    print(e)\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == ('The JAX versions of the algorithms need JAX, Flax and Optax; install them with '
                                '`pip install -e ".[jax]"`.')


def test_plain_import_does_not_load_jax_and_unknown_names_still_fail():
    r = _python("import sys, spinup\nprint('jax' in sys.modules)\ntry:\n    spinup.nope_jax\n"
                "except AttributeError as e:\n    print(e)\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split("\n")[:2] == ["False", "module 'spinup' has no attribute 'nope_jax'"]


jax = pytest.importorskip("jax")
pytest.importorskip("flax")
optax = pytest.importorskip("optax")

import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402

import spinup.algos.jax.dqn.core as dqn_core  # noqa: E402
import spinup.algos.jax.ppo.core as ppo_core  # noqa: E402
from spinup.utils import jax_saver  # noqa: E402
from spinup.utils.envs import make_env_by_id  # noqa: E402


def _params(module):
    return {"/".join(map(str, p)): np.asarray(v[...]) for p, v in nnx.to_flat_state(nnx.state(module, nnx.Param))}


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_model_round_trip_and_load_policy_and_env(tmp_path, env_id):
    env = make_env_by_id(env_id)
    ac_kwargs = dict(hidden_sizes=(8, 4), activation=jax.nn.relu)
    ac = ppo_core.MLPActorCritic(env.observation_space, env.action_space, **ac_kwargs, rngs=nnx.Rngs(3))
    run = tmp_path / "run_s0"
    jax_saver.save_model(jax_saver.model_path(str(run)), ac, env, ac_kwargs)
    assert jax_saver.has_jax_model(str(run)) and sorted(os.listdir(run / "jax_save")) == ["model.npz"]
    # pickle-free: every entry reads with allow_pickle=False, the record is plain JSON
    with np.load(run / "jax_save" / "model.npz", allow_pickle=False) as data:
        record = json.loads(str(data["__record__"]))
    assert record["env_id"] == env_id and record["ac_kwargs"]["hidden_sizes"] == [8, 4]

    loaded, _ = jax_saver.load_model(str(run / "jax_save" / "model.npz"))
    a, b = _params(ac), _params(loaded)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    obs = jnp.asarray(np.random.default_rng(0).normal(size=(5, env.observation_space.shape[0])), jnp.float32)
    np.testing.assert_array_equal(loaded.act(obs, deterministic=True), ac.act(obs, deterministic=True))
    np.testing.assert_array_equal(loaded.v(obs), ac.v(obs))

    env2, get_action = jax_saver.load_policy_and_env(str(run), deterministic=True)
    assert env2.spec.id == env_id
    o, _ = env2.reset(seed=0)
    act = get_action(o)
    assert env2.action_space.contains(act if env_id == "CartPole-v1" else np.clip(act, -2, 2).astype(np.float32))
    np.testing.assert_array_equal(act, np.asarray(ac.act(jnp.asarray(o, jnp.float32), deterministic=True)))
    # sampled actions come from a seeded key: the same function twice gives the same actions
    _, sample1 = jax_saver.load_policy_and_env(str(run))
    _, sample2 = jax_saver.load_policy_and_env(str(run))
    assert [np.asarray(sample1(o)).tolist() for _ in range(3)] == [np.asarray(sample2(o)).tolist() for _ in range(3)]


class _NoIdEnv:
    """An environment with spaces and no registered id (only the spaces are saved)."""

    spec = None

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space
        self.unwrapped = self


def test_image_q_network_round_trip(tmp_path):
    from gymnasium.spaces import Box, Discrete

    env = _NoIdEnv(Box(0, 255, (10, 10, 3), np.uint8), Discrete(4))
    q = dqn_core.QNetwork(env.observation_space, env.action_space, hidden_sizes=(8,), rngs=nnx.Rngs(1))
    path = jax_saver.model_path(str(tmp_path), 7)
    jax_saver.save_model(path, q, env, dict(hidden_sizes=(8,)))
    loaded, record = jax_saver.load_model(path)
    assert "env_id" not in record
    obs = jnp.asarray(np.random.default_rng(0).integers(0, 256, (2, 10, 10, 3)), jnp.uint8)
    np.testing.assert_array_equal(loaded.q(obs), q.q(obs))
    assert jax_saver.load_policy_and_env(str(tmp_path))[0] is None  # no id, no config.json: no env


def test_find_model_picks_the_last_save_and_explains_what_is_missing(tmp_path):
    env = make_env_by_id("CartPole-v1")
    ac = ppo_core.MLPActorCritic(env.observation_space, env.action_space, hidden_sizes=(4,))
    with pytest.raises(UserError, match="holds no saved JAX policy"):
        jax_saver.find_model(str(tmp_path))
    for itr in (3, 10):
        jax_saver.save_model(jax_saver.model_path(str(tmp_path), itr), ac, env, dict(hidden_sizes=(4,)))
    assert jax_saver.find_model(str(tmp_path)).endswith("model10.npz")
    assert jax_saver.find_model(str(tmp_path), 3).endswith("model3.npz")
    with pytest.raises(UserError, match="no policy saved at iteration 5; found: model10.npz, model3.npz"):
        jax_saver.find_model(str(tmp_path), 5)


def test_damaged_or_foreign_files_are_refused(tmp_path):
    bad = tmp_path / "jax_save" / "model.npz"
    bad.parent.mkdir()
    np.savez(bad, w=np.array([object()], dtype=object))  # needs pickle to read
    with pytest.raises(UserError, match="damaged or was not written by spinup"):
        jax_saver.load_model(str(bad))
    np.savez(bad, w=np.zeros(3))  # readable, but no record
    with pytest.raises(UserError, match="did not write"):
        jax_saver.load_model(str(bad))
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UserError, match="damaged"):
        jax_saver.load_model(str(bad))


def test_nonfinite_parameters_are_named():
    from gymnasium.spaces import Box

    ac = ppo_core.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), hidden_sizes=(4,))
    assert jax_saver.nonfinite_parameters(ac) == []
    ac.pi.log_std[...] = jnp.array([0.0, jnp.nan])
    assert jax_saver.nonfinite_parameters(ac) == ["pi/log_std"]


def test_checkpoint_round_trip_of_params_optimizer_state_and_keys(tmp_path):
    from gymnasium.spaces import Box

    ac = ppo_core.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), hidden_sizes=(4,), rngs=nnx.Rngs(0))
    params = nnx.state(ac, nnx.Param)
    opt = optax.adam(1e-2)
    opt_state = opt.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    updates, opt_state = opt.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    tree = {"params": params, "opt": opt_state, "key": jax.random.key(5), "raw_key": jax.random.PRNGKey(6),
            "buf": np.arange(6.0).reshape(2, 3), "t": 17}
    path = str(tmp_path / "ckpt.npz")
    jax_saver.save_checkpoint(path, tree)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file was renamed into place
    with np.load(path, allow_pickle=False) as data:
        assert "opt/0/count" in data.files

    # restore into a fresh tree of the same structure
    fresh_params = nnx.state(ppo_core.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), hidden_sizes=(4,),
                                                     rngs=nnx.Rngs(9)), nnx.Param)
    like = {"params": fresh_params, "opt": opt.init(fresh_params), "key": jax.random.key(0),
            "raw_key": jax.random.PRNGKey(0), "buf": np.zeros((2, 3)), "t": 0}
    back = jax_saver.restore_checkpoint(path, like)
    for (p1, a), (p2, b) in zip(jax.tree_util.tree_leaves_with_path(tree), jax.tree_util.tree_leaves_with_path(back)):
        assert p1 == p2
        if jax_saver._is_prng_key(a):
            np.testing.assert_array_equal(jax.random.normal(a, (3,)), jax.random.normal(b, (3,)))
        else:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
            assert type(a) is type(b) or (isinstance(a, jax.Array) and isinstance(b, jax.Array))
    assert int(back["opt"][0].count) == 1 and back["t"] == 17
    # the restored optimiser state continues exactly as the original would
    u1, _ = opt.update(grads, tree["opt"], tree["params"])
    u2, _ = opt.update(grads, back["opt"], back["params"])
    assert jax.tree.all(jax.tree.map(lambda x, y: bool(jnp.array_equal(x, y)), u1, u2))

    like.pop("t")
    with pytest.raises(UserError, match=r"does not fit this run: it holds \['t'\]"):
        jax_saver.restore_checkpoint(path, like)
    with open(path, "rb") as f:
        head = f.read(200)
    with open(path, "wb") as f:  # a checkpoint cut short, as by a full disk
        f.write(head)
    with pytest.raises(UserError, match="damaged"):
        jax_saver.restore_checkpoint(path, like)
