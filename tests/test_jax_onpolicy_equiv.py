"""The JAX on-policy updates against their PyTorch twins: same weights, same batch, same numbers.

The loss functions live inside ``ppo()``, ``vpg()`` and ``trpo()``, as closures over the network and
the hyperparameters. The tests take each one's source out of the algorithm file and compile it with
those free names bound, so what is compared is the code the algorithms run, not a copy of it. Both
sides get the batch (obs, act, adv, logp_old, ret), the PyTorch network's weights are copied into the
NNX one, and losses, gradients, TRPO's KL, Hessian-vector product and step must agree within 1e-4.
"""

import ast
import inspect

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("flax")

import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402
from gymnasium.spaces import Box, Discrete  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

import spinup.algos.jax.ppo.ppo as jppo  # noqa: E402
import spinup.algos.jax.trpo.trpo as jtrpo  # noqa: E402
import spinup.algos.jax.vpg.vpg as jvpg  # noqa: E402
import spinup.algos.pytorch.ppo.ppo as tppo  # noqa: E402
import spinup.algos.pytorch.trpo.trpo as ttrpo  # noqa: E402
import spinup.algos.pytorch.vpg.vpg as tvpg  # noqa: E402

from tests.jax_torch_weights import copy_torch_weights, split_flat, to_nnx_state  # noqa: E402

TOL = dict(rtol=1e-4, atol=1e-4)
N, OBS_DIM = 32, 5
SPACES = [Box(-1, 1, (2,)), Discrete(3)]
IDS = ["box", "discrete"]


def nested_function(module, outer: str, name: str, **free):
    """Function ``name`` defined inside ``module.outer``, compiled with its free names set to ``free``."""
    tree = ast.parse(inspect.getsource(module))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == outer)
    node = next(n for n in ast.walk(fn) if isinstance(n, ast.FunctionDef) and n.name == name)
    namespace = dict(vars(module), **free)
    exec(compile(ast.Module([node], type_ignores=[]), module.__file__, "exec"), namespace)
    return namespace[name]


def _pair(algo_t, algo_j, act_space):
    obs_space = Box(-np.inf, np.inf, (OBS_DIM,))
    torch.manual_seed(0)
    t = algo_t.core.MLPActorCritic(obs_space, act_space, hidden_sizes=(16, 16))
    j = algo_j.core.MLPActorCritic(obs_space, act_space, hidden_sizes=(16, 16), rngs=nnx.Rngs(1))
    copy_torch_weights(t, j)
    return t, j


def _batch(t, act_space):
    """A batch whose old log-probs differ from the current ones, so PPO's clip is active for some."""
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(N, OBS_DIM)).astype(np.float32)
    with torch.no_grad():
        act = t.pi._distribution(torch.as_tensor(obs)).sample().numpy()
        logp = t.pi(torch.as_tensor(obs), torch.as_tensor(act))[1].numpy()
    data = dict(obs=obs, act=act, adv=rng.normal(size=N).astype(np.float32),
                logp=(logp + rng.normal(scale=0.3, size=N)).astype(np.float32),
                ret=rng.normal(size=N).astype(np.float32))
    return ({k: torch.as_tensor(v) for k, v in data.items()}, {k: jnp.asarray(v) for k, v in data.items()})


def _close(j, t):
    t = t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)
    np.testing.assert_allclose(np.asarray(j), t, **TOL)


def _torch_grads(loss, module) -> dict:
    module.zero_grad()
    loss.backward()
    return {name: p.grad.clone() for name, p in module.named_parameters()}


def _close_grads(j_grads, t_grads, j_module):
    want = to_nnx_state(t_grads, j_module)
    for (path, got), (_, exp) in zip(nnx.to_flat_state(j_grads), nnx.to_flat_state(want), strict=True):
        np.testing.assert_allclose(np.asarray(got[...]), np.asarray(exp[...]), **TOL, err_msg=str(path))


@pytest.mark.parametrize("act_space", SPACES, ids=IDS)
@pytest.mark.parametrize("name", ["ppo", "vpg"])
def test_policy_and_value_losses_and_gradients_match(name, act_space):
    algo_t, algo_j = {"ppo": (tppo, jppo), "vpg": (tvpg, jvpg)}[name]
    t, j = _pair(algo_t, algo_j, act_space)
    t_data, j_data = _batch(t, act_space)
    t_loss_pi = nested_function(algo_t, name, "compute_loss_pi", ac=t, clip_ratio=0.2)
    j_loss_pi = nested_function(algo_j, name, "compute_loss_pi", clip_ratio=0.2)
    t_loss_v = nested_function(algo_t, name, "compute_loss_v", ac=t)
    j_loss_v = nested_function(algo_j, name, "compute_loss_v")

    t_l, t_info = t_loss_pi(t_data)
    (j_l, j_info), j_g = nnx.value_and_grad(j_loss_pi, has_aux=True)(j.pi, j_data)
    _close(j_l, t_l)
    for k in t_info:
        _close(j_info[k], t_info[k])
    if name == "ppo":  # the perturbed old log-probs put some ratios outside the clip range
        assert 0 < t_info["cf"] < 1
    _close_grads(j_g, _torch_grads(t_l, t.pi), j.pi)

    t_lv = t_loss_v(t_data)
    j_lv, j_gv = nnx.value_and_grad(j_loss_v)(j.v, j_data)
    _close(j_lv, t_lv)
    _close_grads(j_gv, _torch_grads(t_lv, t.v), j.v)


@pytest.mark.parametrize("act_space", SPACES, ids=IDS)
def test_trpo_surrogate_kl_hvp_and_step_match(act_space):
    t, j = _pair(ttrpo, jtrpo, act_space)
    t_data, j_data = _batch(t, act_space)
    t_loss_pi = nested_function(ttrpo, "trpo", "compute_loss_pi", ac=t)
    j_loss_pi = nested_function(jtrpo, "trpo", "compute_loss_pi")
    t_kl = nested_function(ttrpo, "trpo", "compute_kl", ac=t)
    j_kl = nested_function(jtrpo, "trpo", "compute_kl")
    damping, delta, cg_iters = 0.1, 0.01, 10

    def to_jax_flat(flat):
        return ravel_pytree(to_nnx_state(split_flat(flat.detach(), t.pi), j.pi))[0]

    # PyTorch, wired as trpo()'s update() does
    params = list(t.pi.parameters())
    t_l, t_info = t_loss_pi(t_data)
    with torch.no_grad():
        t_old, _ = t.pi(t_data["obs"])
    t_g = ttrpo.core.flat_grad(t_l, params)
    grad_kl = ttrpo.core.flat_grad(t_kl(t_data, t_old), params, create_graph=True)

    def t_Hx(x):
        return ttrpo.core.hessian_vector_product(grad_kl, params, x) + damping * x

    t_x = ttrpo.core.conjugate_gradient(t_Hx, t_g, cg_iters)
    t_step = torch.sqrt(2 * delta / (torch.dot(t_x, t_Hx(t_x)) + ttrpo.EPS)) * t_x
    probe = torch.as_tensor(np.random.default_rng(3).normal(size=t_g.numel()).astype(np.float32))
    t_hx_probe = t_Hx(probe)
    old = ttrpo.core.get_flat_params_from(t.pi)
    ttrpo.core.set_flat_params_to(t.pi, old - t_step)
    with torch.no_grad():
        t_kl_new, t_l_new = t_kl(t_data, t_old), t_loss_pi(t_data)[0]

    # JAX, wired as the JAX trpo()'s update() does
    graphdef, state = nnx.split(j.pi, nnx.Param)
    flat0, unravel = ravel_pytree(state)

    def pi_at(flat):
        return nnx.merge(graphdef, unravel(flat))

    (j_l, j_info), j_g = jax.value_and_grad(lambda p: j_loss_pi(pi_at(p), j_data), has_aux=True)(flat0)
    j_old = pi_at(flat0)(j_data["obs"])[0]

    def j_Hx(x):
        return jtrpo.core.hessian_vector_product(lambda p: j_kl(pi_at(p), j_data, j_old), flat0, x) + damping * x

    j_x = jtrpo.core.conjugate_gradient(j_Hx, j_g, cg_iters)
    j_step = jnp.sqrt(2 * delta / (jnp.dot(j_x, j_Hx(j_x)) + jtrpo.EPS)) * j_x
    j_kl_new, j_l_new = j_kl(pi_at(flat0 - j_step), j_data, j_old), j_loss_pi(pi_at(flat0 - j_step), j_data)[0]

    _close(j_l, t_l)
    _close(j_info["ent"], t_info["ent"])
    _close(j_g, to_jax_flat(t_g))
    _close(j_kl(pi_at(flat0), j_data, j_old), 0.0)
    _close(j_Hx(to_jax_flat(probe)), to_jax_flat(t_hx_probe))
    _close(j_step, to_jax_flat(t_step))
    _close(j_kl_new, t_kl_new)
    _close(j_l_new, t_l_new)
    assert 0 < float(t_kl_new) < 2 * delta  # a real step, near the trust region's edge
