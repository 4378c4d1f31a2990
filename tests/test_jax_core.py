"""The JAX core.py files against their PyTorch twins: with the same weights, the same numbers.

Each test builds the PyTorch network, copies its weights into the NNX one (tests/jax_torch_weights.py)
and compares log-probs, entropies, values, Q-values and actions in float32, within 1e-5.
"""

import inspect

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("flax")

import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402
from gymnasium.spaces import Box, Discrete  # noqa: E402

import spinup.algos.jax.ddpg.core as jddpg  # noqa: E402
import spinup.algos.jax.dqn.core as jdqn  # noqa: E402
import spinup.algos.jax.ppo.core as jppo  # noqa: E402
import spinup.algos.jax.sac.core as jsac  # noqa: E402
import spinup.algos.jax.td3.core as jtd3  # noqa: E402
import spinup.algos.jax.trpo.core as jtrpo  # noqa: E402
import spinup.algos.jax.vpg.core as jvpg  # noqa: E402
import spinup.algos.pytorch.ddpg.core as tddpg  # noqa: E402
import spinup.algos.pytorch.dqn.core as tdqn  # noqa: E402
import spinup.algos.pytorch.ppo.core as tppo  # noqa: E402
import spinup.algos.pytorch.sac.core as tsac  # noqa: E402
import spinup.algos.pytorch.td3.core as ttd3  # noqa: E402
import spinup.algos.pytorch.trpo.core as ttrpo  # noqa: E402
from spinup.utils.checks import UserError  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from tests.jax_torch_weights import copy_torch_weights, split_flat, to_nnx_state  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)
HID = dict(hidden_sizes=(16, 16))


def _close(j, t):
    t = t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)
    np.testing.assert_allclose(np.asarray(j), t, **TOL)


def _pair(tcore, jcore, obs_space, act_space, cls="MLPActorCritic", **kw):
    torch.manual_seed(0)
    t = getattr(tcore, cls)(obs_space, act_space, **kw)
    j = getattr(jcore, cls)(obs_space, act_space, **kw, rngs=nnx.Rngs(1))
    return t, j


def _obs(n, dim, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# The on-policy family
# ----------------------------------------------------------------------------------------------


def test_on_policy_cores_are_one_file():
    """VPG and PPO share one core.py; TRPO's is the same file with its own section at the end."""
    vpg, ppo, trpo = (inspect.getsource(m) for m in (jvpg, jppo, jtrpo))
    assert vpg == ppo
    shared = trpo.replace("from jax.flatten_util import ravel_pytree\n", "")
    assert shared.startswith(ppo.rstrip("\n"))


@pytest.mark.parametrize("act_space", [Box(-1, 1, (2,)), Discrete(3)], ids=["box", "discrete"])
def test_on_policy_actor_critic_matches_pytorch(act_space):
    obs_space = Box(-np.inf, np.inf, (4,))
    t, j = _pair(tppo, jppo, obs_space, act_space, **HID)  # both default to tanh
    obs = _obs(7, 4)
    with torch.no_grad():
        if isinstance(act_space, Box):
            act = np.random.default_rng(1).normal(size=(7, 2)).astype(np.float32)
        else:
            act = np.array([0, 1, 2, 2, 1, 0, 1])
        t_obs, t_act = torch.as_tensor(obs), torch.as_tensor(act)
        copy_torch_weights(t, j)
        assert jppo.count_vars(j) == sum(tppo.count_vars(m) for m in [t.pi, t.v])
        t_pi, t_logp = t.pi(t_obs, t_act)
        j_pi, j_logp = j.pi(jnp.asarray(obs), jnp.asarray(act))
        _close(j_logp, t_logp)
        _close(j_pi.entropy(), t_pi.entropy())
        _close(j.v(jnp.asarray(obs)), t.v(t_obs))
        _close(j.act(jnp.asarray(obs), deterministic=True), t.act(t_obs, deterministic=True))


def test_on_policy_step_is_consistent_with_its_parts():
    """step() returns a sample, V at obs, and the sample's log-prob under the policy."""
    j = jppo.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), **HID, rngs=nnx.Rngs(0))
    obs = jnp.asarray(_obs(5, 3))
    a, v, logp = j.step(obs, jax.random.key(3))
    assert a.shape == (5, 2) and v.shape == (5,) and logp.shape == (5,)
    np.testing.assert_allclose(logp, j.pi(obs, a)[1], **TOL)
    np.testing.assert_allclose(v, j.v(obs), **TOL)
    np.testing.assert_array_equal(a, j.act(obs, key=jax.random.key(3)))
    with pytest.raises(ValueError, match="PRNG key"):
        j.act(obs)


def test_categorical_entropy_with_a_zero_probability_is_finite():
    pi = jppo.Categorical(logits=jnp.array([0.0, -jnp.inf, 1.0]))
    t = torch.distributions.Categorical(logits=torch.tensor([0.0, -float("inf"), 1.0]))
    _close(pi.entropy(), t.entropy())


@pytest.mark.parametrize("act_space", [Box(-1, 1, (2,)), Discrete(3)], ids=["box", "discrete"])
def test_on_policy_uint8_observations_are_scaled_as_in_pytorch(act_space):
    """uint8 observations (pixels, RAM bytes) enter both twins' networks multiplied by 1/255."""
    obs_space = Box(0, 255, (6,), dtype=np.uint8)
    t, j = _pair(tppo, jppo, obs_space, act_space, **HID)
    assert jppo.obs_scale(obs_space) == tppo.obs_scale(obs_space) == 1.0 / 255
    assert jppo.obs_scale(Box(-1, 1, (6,))) == 1.0
    copy_torch_weights(t, j)
    raw = np.random.default_rng(2).integers(0, 256, size=(5, 6)).astype(np.float32)
    act = np.zeros((5, 2), np.float32) if isinstance(act_space, Box) else np.array([0, 1, 2, 1, 0])
    with torch.no_grad():
        t_pi, t_logp = t.pi(torch.as_tensor(raw), torch.as_tensor(act))
        _close(j.pi(jnp.asarray(raw), jnp.asarray(act))[1], t_logp)
        _close(j.v(jnp.asarray(raw)), t.v(torch.as_tensor(raw)))
        # Unscaled, the same weights would give other numbers: the factor is really applied.
        unscaled = jppo.MLPActorCritic(Box(-np.inf, np.inf, (6,)), act_space, **HID, rngs=nnx.Rngs(1))
        nnx.update(unscaled, nnx.state(j, nnx.Param))
        assert not np.allclose(unscaled.v(jnp.asarray(raw)), t.v(torch.as_tensor(raw)).numpy(), atol=1e-3)


@pytest.mark.parametrize("core", [jvpg, jtrpo, jppo], ids=["vpg", "trpo", "ppo"])
def test_on_policy_to_env_action_clips_and_shifts_by_start(core):
    box = Box(-1, 1, (2,))
    np.testing.assert_array_equal(core.to_env_action(np.array([3.0, -0.5]), box), [1.0, -0.5])
    assert core.to_env_action(np.array(2), Discrete(3, start=5)) == 7
    assert core.to_env_action(np.array(0), Discrete(3)) == 0


class _SpacesOnly:
    """An environment without a registered id: enough to save a model's record."""

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space, self.spec = observation_space, action_space, None
        self.unwrapped = self


@pytest.mark.parametrize("act_space", [Box(-0.1, 0.1, (2,)), Discrete(3, start=5)], ids=["box", "discrete"])
def test_jax_test_policy_clips_and_shifts_actions_as_training_does(act_space, tmp_path):
    from spinup.utils import jax_saver

    obs_space = Box(-1, 1, (3,))
    ac = jppo.MLPActorCritic(obs_space, act_space, **HID, rngs=nnx.Rngs(0))
    jax_saver.save_model(jax_saver.model_path(str(tmp_path)), ac, _SpacesOnly(obs_space, act_space), HID)
    _, get_action = jax_saver.load_policy_and_env(str(tmp_path))
    acts = [get_action(o) for o in _obs(50, 3)]
    if isinstance(act_space, Box):
        assert all(np.all(np.abs(a) <= 0.1) for a in acts)
        assert any(np.any(np.abs(a) == 0.1) for a in acts)  # std 0.6 samples: some hit the bounds
    else:
        assert {int(a) for a in acts} <= {5, 6, 7} and len({int(a) for a in acts}) > 1


def test_trpo_kl_hvp_and_cg_match_pytorch():
    obs_space, obs = Box(-np.inf, np.inf, (4,)), _obs(9, 4)
    for act_space in (Box(-1, 1, (2,)), Discrete(3)):
        t, j = _pair(ttrpo, jtrpo, obs_space, act_space, **HID)
        copy_torch_weights(t, j)
        t_obs = torch.as_tensor(obs)
        # KL between the policy and a perturbed copy of it
        t_old = t.pi._distribution(t_obs)
        t_old = type(t_old)(**({"loc": t_old.loc.detach() + 0.1, "scale": t_old.scale.detach() * 1.2}
                               if isinstance(act_space, Box) else {"logits": t_old.logits.detach() * 0.5}))
        j_old = j.pi._distribution(jnp.asarray(obs))
        j_old = (jtrpo.Normal(j_old.loc + 0.1, j_old.scale * 1.2) if isinstance(act_space, Box)
                 else jtrpo.Categorical(j_old.logits * 0.5))
        _close(jtrpo.mean_kl(j_old, j.pi._distribution(jnp.asarray(obs))),
               ttrpo.mean_kl(t_old, t.pi._distribution(t_obs)))

        # The Hessian of that KL times a fixed vector, in each framework's own way
        params = list(t.pi.parameters())
        flat0 = ttrpo.get_flat_params_from(t.pi)
        x = torch.as_tensor(np.random.default_rng(2).normal(size=flat0.numel()).astype(np.float32))
        grad_kl = ttrpo.flat_grad(ttrpo.mean_kl(t_old, t.pi._distribution(t_obs)), params, create_graph=True)
        t_hx = ttrpo.hessian_vector_product(grad_kl, params, x)
        # The flat vectors order and lay out the parameters differently: map x and H x across.
        def to_jax_flat(flat):
            return ravel_pytree(to_nnx_state(split_flat(flat, t.pi), j.pi))[0]

        j_flat0 = jtrpo.get_flat_params_from(j.pi)
        np.testing.assert_allclose(j_flat0, to_jax_flat(flat0.detach()), **TOL)
        graphdef, state = nnx.split(j.pi, nnx.Param)
        unravel = ravel_pytree(state)[1]

        def kl_of_flat(flat):
            return jtrpo.mean_kl(j_old, nnx.merge(graphdef, unravel(flat))._distribution(jnp.asarray(obs)))

        j_hx = jtrpo.hessian_vector_product(kl_of_flat, j_flat0, to_jax_flat(x))
        np.testing.assert_allclose(j_hx, to_jax_flat(t_hx.detach()), rtol=1e-4, atol=1e-5)

        # set_flat_params_to writes the vector back where get_flat_params_from read it
        jtrpo.set_flat_params_to(j.pi, j_flat0 + 1.0)
        np.testing.assert_allclose(jtrpo.get_flat_params_from(j.pi), j_flat0 + 1.0)

    a = np.random.default_rng(4).normal(size=(6, 6)).astype(np.float32)
    a = a @ a.T + 6 * np.eye(6, dtype=np.float32)
    b = np.arange(6, dtype=np.float32)
    t_x = ttrpo.conjugate_gradient(lambda v: torch.as_tensor(a) @ v, torch.as_tensor(b))
    j_x = jtrpo.conjugate_gradient(lambda v: jnp.asarray(a) @ v, jnp.asarray(b))
    _close(j_x, t_x)
    np.testing.assert_allclose(a @ np.asarray(j_x), b, atol=1e-3)


# ----------------------------------------------------------------------------------------------
# DDPG, TD3, SAC
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3"])
def test_deterministic_actor_critic_matches_pytorch(name):
    tcore, jcore = {"ddpg": (tddpg, jddpg), "td3": (ttd3, jtd3)}[name]
    obs_space, act_space = Box(-np.inf, np.inf, (5,)), Box(-2, 2, (3,))
    t, j = _pair(tcore, jcore, obs_space, act_space, **HID)
    copy_torch_weights(t, j)
    obs = _obs(6, 5)
    act = np.random.default_rng(1).uniform(-2, 2, size=(6, 3)).astype(np.float32)
    t_obs, t_act = torch.as_tensor(obs), torch.as_tensor(act)
    with torch.no_grad():
        _close(j.act(jnp.asarray(obs)), t.act(t_obs))
        _close(j.pi(jnp.asarray(obs)), t.pi(t_obs))
        for q in ("q",) if name == "ddpg" else ("q1", "q2"):
            _close(getattr(j, q)(jnp.asarray(obs), jnp.asarray(act)), getattr(t, q)(t_obs, t_act))
    assert jcore.count_vars(j) == tcore.count_vars(t)


def test_sac_matches_pytorch_for_the_same_noise(monkeypatch):
    obs_space, act_space = Box(-np.inf, np.inf, (5,)), Box(-3, 3, (2,))
    t, j = _pair(tsac, jsac, obs_space, act_space, **HID)
    copy_torch_weights(t, j)
    obs = _obs(8, 5) * 3  # large inputs, so some |u| are big and the stable correction matters
    t_obs, j_obs = torch.as_tensor(obs), jnp.asarray(obs)
    key = jax.random.key(7)
    # The noise JAX draws from key, handed to torch's rsample in place of its own
    eps = np.array(jax.random.normal(key, (8, 2)))
    monkeypatch.setattr(torch.distributions.Normal, "rsample",
                        lambda self, sample_shape=torch.Size(): self.loc + torch.as_tensor(eps) * self.scale)
    with torch.no_grad():
        t_a, t_logp = t.pi(t_obs)
        j_a, j_logp = j.pi(j_obs, key=key)
        _close(j_a, t_a)
        _close(j_logp, t_logp)
        t_a, t_logp = t.pi(t_obs, deterministic=True)
        j_a, j_logp = j.pi(j_obs, deterministic=True)
        _close(j_a, t_a)
        _close(j_logp, t_logp)
        _close(j.act(j_obs, deterministic=True), t.act(t_obs, deterministic=True))
        for q in ("q1", "q2"):
            _close(getattr(j, q)(j_obs, j_a), getattr(t, q)(t_obs, t_a))


def test_squashed_logp_is_stable_and_matches_pytorch():
    u = np.array([[-30.0, -5.0, 0.0, 5.0, 30.0]], dtype=np.float32)
    mu, std = np.zeros_like(u), np.full_like(u, 2.0)
    j = jsac.squashed_gaussian_logp(jsac.Normal(jnp.asarray(mu), jnp.asarray(std)), jnp.asarray(u))
    t = tsac.squashed_gaussian_logp(torch.distributions.Normal(torch.as_tensor(mu), torch.as_tensor(std)),
                                    torch.as_tensor(u))
    assert np.isfinite(np.asarray(j)).all()
    _close(j, t)


def test_sac_sampling_needs_a_key():
    j = jsac.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), **HID)
    with pytest.raises(ValueError, match="PRNG key"):
        j.act(jnp.zeros(3))


@pytest.mark.parametrize("core", [jddpg, jtd3, jsac, jdqn], ids=["ddpg", "td3", "sac", "dqn"])
def test_polyak_update_is_the_lerp(core):
    p = {"a": jnp.arange(3.0), "b": {"c": jnp.ones((2, 2))}}
    p_targ = {"a": jnp.zeros(3), "b": {"c": jnp.full((2, 2), 5.0)}}
    new = core.polyak_update(p, p_targ, 0.9)
    np.testing.assert_allclose(new["a"], 0.1 * np.arange(3.0), atol=1e-6)
    np.testing.assert_allclose(new["b"]["c"], 0.9 * 5 + 0.1, atol=1e-6)
    same = core.polyak_update(p, p_targ, 0.0)
    assert jax.tree.all(jax.tree.map(lambda x, y: bool((x == y).all()), same, p))


def test_jax_off_policy_core_helpers_stay_identical():
    for helper in ("get_device", "_gpus", "polyak_update", "uniform_init", "linear", "mlp", "count_vars",
                   "combined_shape"):
        sources = {inspect.getsource(getattr(c, helper)) for c in (jddpg, jtd3, jsac, jdqn)}
        assert len(sources) == 1, f"the copies of {helper} differ"


def _layer_params(net):
    """(fan_in, weights, bias) of each dense or convolutional layer, in either framework, as numpy."""
    if isinstance(net, torch.nn.Module):
        return [(int(np.prod(m.weight.shape[1:])), m.weight.detach().numpy(), m.bias.detach().numpy())
                for m in net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    return [(int(np.prod(m.kernel.shape[:-1])), np.asarray(m.kernel[...]), np.asarray(m.bias[...]))
            for _, m in nnx.iter_modules(net) if isinstance(m, (nnx.Linear, nnx.Conv))]


NETWORKS = [
    (tppo, jppo, "MLPActorCritic", Box(-np.inf, np.inf, (8,)), Box(-1, 1, (2,))),
    (ttrpo, jtrpo, "MLPActorCritic", Box(-np.inf, np.inf, (8,)), Discrete(3)),
    (tddpg, jddpg, "MLPActorCritic", Box(-np.inf, np.inf, (8,)), Box(-1, 1, (2,))),
    (ttd3, jtd3, "MLPActorCritic", Box(-np.inf, np.inf, (8,)), Box(-1, 1, (2,))),
    (tsac, jsac, "MLPActorCritic", Box(-np.inf, np.inf, (8,)), Box(-1, 1, (2,))),
    (tdqn, jdqn, "QNetwork", Box(-np.inf, np.inf, (4,)), Discrete(2)),
    (tdqn, jdqn, "QNetwork", Box(0, 255, (84, 84, 4), np.uint8), Discrete(6)),
    (tdqn, jdqn, "QNetwork", Box(0, 1, (10, 10, 4), np.uint8), Discrete(3)),
]


@pytest.mark.parametrize("tcore,jcore,cls,obs_space,act_space", NETWORKS,
                         ids=["ppo", "trpo", "ddpg", "td3", "sac", "dqn", "dqn-atari", "dqn-minatar"])
def test_jax_networks_start_from_pytorchs_initialisation(tcore, jcore, cls, obs_space, act_space):
    """Both twins draw every weight and bias from U(+-1/sqrt(fan_in)), PyTorch's default, so that
    a JAX run starts from the same distribution as its PyTorch twin (not from Flax's wider one)."""
    t, j = _pair(tcore, jcore, obs_space, act_space, cls=cls)
    layers = {"torch": _layer_params(t), "jax": _layer_params(j)}
    assert len(layers["torch"]) == len(layers["jax"]) > 0
    assert sorted(f for f, _, _ in layers["torch"]) == sorted(f for f, _, _ in layers["jax"])
    for framework, params in layers.items():
        for fan_in, w, b in params:
            bound = 1 / np.sqrt(fan_in)
            for x in (w, b):
                assert np.abs(x).max() <= bound, (framework, fan_in)
            if w.size >= 2000:  # enough draws for the spread to pin the distribution down
                # U(-a, a) has standard deviation a/sqrt(3); Flax's default would give sqrt(3) times more.
                assert abs(w.std() / (bound / np.sqrt(3)) - 1) < 0.05, (framework, fan_in, w.std())
                assert abs(w.mean()) < 0.05 * bound, (framework, fan_in)


def test_get_device():
    assert jddpg.get_device("cpu").platform == "cpu"
    assert jddpg.get_device("auto").platform in ("cpu", "gpu")
    with pytest.raises(UserError, match="must be 'cpu', 'cuda' or 'auto'"):
        jddpg.get_device("tpu")
    if not jddpg._gpus():
        with pytest.raises(UserError, match="JAX sees 0 GPU"):
            jddpg.get_device("cuda:0")


# ----------------------------------------------------------------------------------------------
# DQN
# ----------------------------------------------------------------------------------------------


def test_dqn_mlp_matches_pytorch():
    t, j = _pair(tdqn, jdqn, Box(-np.inf, np.inf, (4,)), Discrete(3), cls="QNetwork", **HID)
    copy_torch_weights(t, j)
    obs = _obs(5, 4)
    with torch.no_grad():
        _close(j.q(jnp.asarray(obs)), t.q(torch.as_tensor(obs)))
        np.testing.assert_array_equal(j.act(jnp.asarray(obs)), t.act(torch.as_tensor(obs)))


@pytest.mark.parametrize("shape,dtype", [((10, 10, 4), np.uint8), ((4, 10, 10), np.uint8),
                                         ((40, 40, 2), np.uint8), ((10, 10, 3), np.bool_)],
                         ids=["hwc-small", "chw-small", "hwc-nature", "minatar-bool"])
def test_dqn_cnn_matches_pytorch(shape, dtype):
    high = 1 if dtype == np.bool_ else 255
    obs_space = Box(0, high, shape, dtype=dtype)
    t, j = _pair(tdqn, jdqn, obs_space, Discrete(5), cls="QNetwork", **HID)
    # The conv output is flattened (C, H, W) in torch and (H, W, C) here: reorder the first head layer.
    with torch.no_grad():
        c, h, w = (shape[2], shape[0], shape[1]) if not tdqn.is_channels_first(shape) else shape
        features = t.q.conv[:-1](torch.zeros(1, c, h, w)).shape[1:]
    copy_torch_weights(t, j, image_features=tuple(features))
    obs = np.random.default_rng(0).integers(0, high + 1, size=(3, *shape)).astype(dtype)
    with torch.no_grad():
        _close(j.q(jnp.asarray(obs)), t.q(torch.as_tensor(obs)))
        _close(j.q(jnp.asarray(obs[0])), t.q(torch.as_tensor(obs[0])))  # one observation, no batch axis
        np.testing.assert_array_equal(j.act(jnp.asarray(obs)), t.act(torch.as_tensor(obs)))
    assert jdqn.count_vars(j) == tdqn.count_vars(t)


@pytest.mark.parametrize("core", [jvpg, jtrpo, jppo], ids=["vpg", "trpo", "ppo"])
def test_gaussian_parameters_keep_their_types_through_an_optimiser_step(core):
    """A weakly typed log_std turns strongly typed after one Adam step, and every jitted function that
    takes the parameters compiles again: the first epochs of a Box run paid twice the compile time."""
    import optax

    j = core.MLPActorCritic(Box(-1, 1, (3,)), Box(-1, 1, (2,)), **HID, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(j.pi, optax.adam(1e-3), wrt=nnx.Param)
    avals = lambda: jax.tree.map(lambda a: a.aval, nnx.state((j.pi, optimizer)))  # noqa: E731
    before = avals()
    obs, act = jnp.asarray(_obs(4, 3)), jnp.zeros((4, 2))
    optimizer.update(j.pi, nnx.grad(lambda m: m(obs, act)[1].sum())(j.pi))
    assert avals() == before
