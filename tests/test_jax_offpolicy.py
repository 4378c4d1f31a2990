"""The JAX twins of DDPG, TD3, SAC and DQN against their PyTorch twins, and their runs.

With the PyTorch networks' weights copied in, the backups on a fixed batch agree within 1e-5, and
one update step (the same batch, the same noise) moves every parameter by the same amount within
1e-4. The runs store cut-offs as not done, repeat themselves for a seed, resume exactly, and
refuse bad input in one sentence.
"""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("jax")
pytest.importorskip("flax")
pytest.importorskip("optax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402

import spinup  # noqa: E402
import spinup.algos.jax.ddpg.ddpg as jddpg  # noqa: E402
import spinup.algos.jax.dqn.core as jdqn_core  # noqa: E402
import spinup.algos.jax.dqn.dqn as jdqn  # noqa: E402
import spinup.algos.jax.sac.core as jsac_core  # noqa: E402
import spinup.algos.jax.sac.sac as jsac  # noqa: E402
import spinup.algos.jax.td3.core as jtd3_core  # noqa: E402
import spinup.algos.jax.td3.td3 as jtd3  # noqa: E402
import spinup.algos.pytorch.dqn.core as tdqn_core  # noqa: E402
import spinup.algos.pytorch.dqn.dqn as tdqn  # noqa: E402
import spinup.algos.pytorch.sac.core as tsac_core  # noqa: E402
import spinup.algos.pytorch.sac.sac as tsac  # noqa: E402
import spinup.algos.pytorch.td3.core as ttd3_core  # noqa: E402
import spinup.algos.pytorch.td3.td3 as ttd3  # noqa: E402
from jax_torch_weights import copy_torch_weights, to_nnx_state  # noqa: E402
from spinup.utils.checks import UserError  # noqa: E402
from test_offpolicy import ScriptedEnv  # noqa: E402
from test_reliability import CrashAt, read_progress, small_kwargs  # noqa: E402

HID = dict(hidden_sizes=(16, 16))
B = 8


def _batch(obs_dim, act_dim=None, n_actions=None, seed=0):
    rng = np.random.default_rng(seed)
    act = (rng.integers(0, n_actions, size=B).astype(np.int32) if n_actions
           else rng.uniform(-1, 1, size=(B, act_dim)).astype(np.float32))
    return dict(obs=rng.normal(size=(B, obs_dim)).astype(np.float32), obs2=rng.normal(size=(B, obs_dim)).astype(np.float32),
                act=act, rew=rng.normal(size=B).astype(np.float32),
                done=np.array([0, 1] * (B // 2), dtype=np.float32))


def _torch_batch(batch):
    out = {k: torch.as_tensor(v) for k, v in batch.items()}
    if out["act"].dtype == torch.int32:
        out["act"] = out["act"].long()
    return out


def _pair(tcore_cls, jcore_cls, obs_space, act_space, seed=0):
    torch.manual_seed(seed)
    t = tcore_cls(obs_space, act_space, **HID)
    j = jcore_cls(obs_space, act_space, **HID)
    copy_torch_weights(t, j)
    return t, j


PENDULUM_SPACES = (gym.spaces.Box(-np.inf, np.inf, (3,), np.float32), gym.spaces.Box(-2.0, 2.0, (1,), np.float32))


# ----------------------------------------------------------------------------------------------
# Backups on a fixed batch
# ----------------------------------------------------------------------------------------------


# Whole training runs, twice each: SAC and DQN in the default suite, DDPG and TD3 (whose loops are
# TD3's minus a step, or with one) with the slow checks, so that the default suite stays short on 2 cores.
RUN_TWICE = [pytest.param("ddpg", marks=pytest.mark.slow), pytest.param("td3", marks=pytest.mark.slow), "sac", "dqn"]


def test_td3_target_matches_pytorch(monkeypatch):
    t, j = _pair(ttd3_core.MLPActorCritic, jtd3_core.MLPActorCritic, *PENDULUM_SPACES)
    batch, key = _batch(3, 1), jax.random.PRNGKey(3)
    eps = np.asarray(jax.random.normal(key, (B, 1)))  # what the JAX target draws from key
    monkeypatch.setattr(torch, "randn_like", lambda x: torch.as_tensor(eps))
    y_t = ttd3.compute_q_target(_torch_batch(batch), t, 0.99, 2.0, 0.4, 1.0)
    y_j = jtd3.compute_q_target(batch, j, 0.99, 2.0, 0.4, 1.0, key)
    np.testing.assert_allclose(np.asarray(y_j), y_t.numpy(), atol=1e-5)


def test_sac_target_matches_pytorch(monkeypatch):
    t, j = _pair(tsac_core.MLPActorCritic, jsac_core.MLPActorCritic, *PENDULUM_SPACES)
    batch, key = _batch(3, 1), jax.random.PRNGKey(4)
    eps = np.asarray(jax.random.normal(key, (B, 1)))
    monkeypatch.setattr(torch.distributions.Normal, "rsample",
                        lambda self, sample_shape=torch.Size(): self.loc + torch.as_tensor(eps) * self.scale)
    y_t = tsac.compute_q_target(_torch_batch(batch), t, t, 0.99, 0.2)
    y_j = jsac.compute_q_target(batch, j, j, 0.99, 0.2, key)
    np.testing.assert_allclose(np.asarray(y_j), y_t.numpy(), atol=1e-5)


@pytest.mark.parametrize("double_dqn", [True, False])
def test_dqn_target_matches_pytorch(double_dqn):
    obs_space, act_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(3)
    t, j = _pair(tdqn_core.QNetwork, jdqn_core.QNetwork, obs_space, act_space)
    t_targ, j_targ = _pair(tdqn_core.QNetwork, jdqn_core.QNetwork, obs_space, act_space, seed=1)
    batch = _batch(4, n_actions=3)
    y_t = tdqn.compute_q_target(_torch_batch(batch), t, t_targ, 0.99, double_dqn)
    y_j = jdqn.compute_q_target(batch, j, j_targ, 0.99, double_dqn)
    np.testing.assert_allclose(np.asarray(y_j), y_t.numpy(), atol=1e-5)


# ----------------------------------------------------------------------------------------------
# One update step, run by the algorithms themselves on the same batch with the same weights
# ----------------------------------------------------------------------------------------------


def _one_update(monkeypatch, tmp_path, name, env_id, batch, **kw):
    """Run each twin for one step, with one update on ``batch``; the parameters' change in each."""
    tmod, jmod = {"td3": (ttd3, jtd3), "sac": (tsac, jsac), "dqn": (tdqn, jdqn)}[name]
    made = {}

    def torch_ac(obs_space, act_space, **ac_kwargs):
        torch.manual_seed(0)
        made["t"] = tmod.core.MLPActorCritic(obs_space, act_space, **ac_kwargs) if name != "dqn" else \
            tmod.core.QNetwork(obs_space, act_space, **ac_kwargs)
        made["t0"] = {k: v.clone() for k, v in made["t"].state_dict().items()}
        return made["t"]

    def jax_ac(obs_space, act_space, rngs=None, **ac_kwargs):
        cls = jmod.core.QNetwork if name == "dqn" else jmod.core.MLPActorCritic
        made["j"] = cls(obs_space, act_space, rngs=rngs, **ac_kwargs)
        nnx.update(made["j"], to_nnx_state(made["t0"], made["j"]))  # the torch weights before its update
        made["j0"] = jax.tree.map(np.asarray, nnx.state(made["j"], nnx.Param))
        return made["j"]

    monkeypatch.setattr(tmod.ReplayBuffer, "sample_batch", lambda self, batch_size=32: _torch_batch(batch))
    monkeypatch.setattr(jmod.ReplayBuffer, "sample_batch", lambda self, batch_size=32: batch)
    run = dict(ac_kwargs=HID, steps_per_epoch=1, epochs=1, update_after=0, update_every=1, num_test_episodes=1,
               max_ep_len=5, **kw)
    getattr(tmod, name)(lambda: gym.make(env_id), actor_critic=torch_ac, logger_kwargs=dict(output_dir=str(tmp_path / "t")),
                        **run)
    getattr(jmod, name)(lambda: gym.make(env_id), actor_critic=jax_ac, logger_kwargs=dict(output_dir=str(tmp_path / "j")),
                        **run)
    j_delta = jax.tree.map(lambda a, a0: np.asarray(a) - a0, nnx.state(made["j"], nnx.Param), made["j0"])
    # to_nnx_state writes into the module it is given: hand it a throwaway clone
    t_delta = {k: v - made["t0"][k] for k, v in made["t"].state_dict().items()}
    t_delta_nnx = to_nnx_state(t_delta, nnx.clone(made["j"]))
    return jax.tree.leaves(t_delta_nnx), jax.tree.leaves(j_delta)


def _assert_same_moves(t_leaves, j_leaves):
    assert len(t_leaves) == len(j_leaves)
    moved = 0
    for t, j in zip(t_leaves, j_leaves):
        np.testing.assert_allclose(np.asarray(j), np.asarray(t), atol=1e-4)
        moved += float(np.abs(np.asarray(t)).max()) > 0
    assert moved > 0  # the step changed something, so the comparison means something


def test_td3_update_matches_pytorch(monkeypatch, tmp_path):
    eps = np.asarray(jax.random.normal(jax.random.PRNGKey(5), (B, 1)), np.float32)
    monkeypatch.setattr(torch, "randn_like", lambda x: torch.as_tensor(eps))
    normal = jax.random.normal
    monkeypatch.setattr(jax.random, "normal", lambda key, shape=(), dtype=jnp.float32: jnp.asarray(eps)
                        if tuple(shape) == (B, 1) else normal(key, shape, dtype))
    # timer 0: the policy and the targets move too
    _assert_same_moves(*_one_update(monkeypatch, tmp_path, "td3", "Pendulum-v1", _batch(3, 1), start_steps=100))


@pytest.mark.parametrize("alpha", [0.2, "auto"])
def test_sac_update_matches_pytorch(monkeypatch, tmp_path, alpha):
    eps = np.asarray(jax.random.normal(jax.random.PRNGKey(6), (B, 1)), np.float32)
    monkeypatch.setattr(torch.distributions.Normal, "rsample",
                        lambda self, sample_shape=torch.Size(): self.loc + torch.as_tensor(eps) * self.scale)
    monkeypatch.setattr(jsac_core.Normal, "rsample", lambda self, key: self.loc + self.scale * jnp.asarray(eps))
    _assert_same_moves(*_one_update(monkeypatch, tmp_path, "sac", "Pendulum-v1", _batch(3, 1), start_steps=100,
                                    alpha=alpha))


def test_dqn_update_matches_pytorch(monkeypatch, tmp_path):
    _assert_same_moves(*_one_update(monkeypatch, tmp_path, "dqn", "CartPole-v1", _batch(4, n_actions=2)))


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_termination_stored_done_and_cut_offs_not(name, tmp_path, recorded_buffers):
    module = {"ddpg": jddpg, "td3": jtd3, "sac": jsac}[name]
    buffers = recorded_buffers(module)
    getattr(module, name)(ScriptedEnv, ac_kwargs=HID, steps_per_epoch=12, epochs=1, start_steps=100, update_after=0,
                          update_every=4, batch_size=4, num_test_episodes=1, max_ep_len=4,
                          logger_kwargs=dict(output_dir=str(tmp_path)))
    (buf,) = buffers
    assert buf.obs_buf[:12, 0].tolist() == [0, 1, 2, 100, 101, 102, 200, 201, 202, 203, 300, 301]
    assert buf.obs2_buf[:12, 0].tolist() == [1, 2, 3, 101, 102, 103, 201, 202, 203, 204, 301, 302]
    assert buf.done_buf[:12].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def _env_for(name):
    return "CartPole-v1" if name == "dqn" else "Pendulum-v1"


@pytest.mark.parametrize("name", RUN_TWICE)
def test_same_seed_gives_identical_progress(name, tmp_path):
    algo, kw = getattr(spinup, name + "_jax"), small_kwargs(name)
    kw["epochs"] = 2
    for run in ("a", "b"):
        algo(lambda: gym.make(_env_for(name)), seed=7, logger_kwargs=dict(output_dir=str(tmp_path / run)), **kw)
    pd.testing.assert_frame_equal(read_progress(tmp_path / "a"), read_progress(tmp_path / "b"), check_exact=True)


@pytest.mark.parametrize("name", RUN_TWICE)
def test_resumed_run_matches_uninterrupted_run(name, tmp_path):
    algo, env_name, kw = getattr(spinup, name + "_jax"), _env_for(name), small_kwargs(name)
    algo(lambda: gym.make(env_name), logger_kwargs=dict(output_dir=str(tmp_path / "full")), **kw)
    crash_step = int(kw["steps_per_epoch"] * 2.5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        algo(lambda: CrashAt(gym.make(env_name), crash_step), logger_kwargs=dict(output_dir=str(tmp_path / "part")), **kw)
    algo(lambda: gym.make(env_name), resume=str(tmp_path / "part"), **kw)
    full, resumed = read_progress(tmp_path / "full"), read_progress(tmp_path / "part")
    assert len(resumed) == kw["epochs"]
    pd.testing.assert_frame_equal(full, resumed, check_exact=True)


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_discrete_actions_refused(name, tmp_path):
    with pytest.raises(UserError, match=rf"^{name} needs continuous \(Box\) actions but CartPole-v1 has Discrete"):
        getattr(spinup, name + "_jax")(lambda: gym.make("CartPole-v1"), logger_kwargs=dict(output_dir=str(tmp_path)))


def test_continuous_actions_refused_by_dqn(tmp_path):
    with pytest.raises(UserError, match=r"^dqn needs discrete actions but Pendulum-v1 has Box actions"):
        spinup.dqn_jax(lambda: gym.make("Pendulum-v1"), logger_kwargs=dict(output_dir=str(tmp_path)))


def test_devices_refused_in_one_sentence(tmp_path):
    out = dict(output_dir=str(tmp_path))
    with pytest.raises(UserError, match="device must be 'cpu', 'cuda' or 'auto'"):
        spinup.sac_jax(lambda: gym.make("Pendulum-v1"), device="tpu", logger_kwargs=out)
    if not jsac_core._gpus():
        with pytest.raises(UserError, match=r"^device='cuda' was asked for but JAX sees 0 GPU\(s\)"):
            spinup.sac_jax(lambda: gym.make("Pendulum-v1"), device="cuda", logger_kwargs=out)


def test_replay_buffer_too_big_refused(tmp_path):
    with pytest.raises(UserError, match="replay"):
        spinup.dqn_jax(lambda: gym.make("CartPole-v1"), replay_size=10**13, logger_kwargs=dict(output_dir=str(tmp_path)))
