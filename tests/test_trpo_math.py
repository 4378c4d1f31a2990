"""TRPO's pieces: conjugate gradient, Hessian-vector products, and the KL-limited update."""

import numpy as np
import pandas as pd
import torch

from spinup import trpo
from spinup.algos.pytorch.trpo import core
from spinup.utils.envs import make_env_fn


def test_conjugate_gradient_solves_positive_definite_system():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 12))
    a = m @ m.T + 0.5 * np.eye(12)  # symmetric positive definite
    b = rng.normal(size=12)
    a_t = torch.as_tensor(a)
    x = core.conjugate_gradient(lambda v: a_t @ v, torch.as_tensor(b), iters=50, residual_tol=1e-20)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-4, atol=1e-6)


def test_hessian_vector_product_matches_explicit_hessian():
    torch.manual_seed(0)
    net = core.mlp([3, 4, 2], torch.nn.Tanh).double()
    params = list(net.parameters())
    x_in = torch.randn(5, 3, dtype=torch.float64)

    def f_of_flat(flat):
        # the same function of a flat parameter vector, for torch.autograd.functional.hessian
        shapes, out, offset = [p.shape for p in params], [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(flat[offset : offset + n].view(s))
            offset += n
        w1, b1, w2, b2 = out
        h = torch.tanh(x_in @ w1.T + b1)
        return ((h @ w2.T + b2) ** 2).sum(-1).mean()

    flat = core.get_flat_params_from(net).clone()
    hessian = torch.autograd.functional.hessian(f_of_flat, flat)
    f = ((net(x_in)) ** 2).sum(-1).mean()
    grad_f = core.flat_grad(f, params, create_graph=True)
    v = torch.randn_like(flat)
    torch.testing.assert_close(core.hessian_vector_product(grad_f, params, v), hessian @ v)


def test_mean_kl_of_gaussians_sums_action_dimensions():
    from torch.distributions import Normal

    p = Normal(torch.zeros(4, 2), torch.ones(4, 2))
    q = Normal(torch.ones(4, 2), 2 * torch.ones(4, 2))
    per_dim = np.log(2) + (1 + 1) / (2 * 4) - 0.5  # KL(N(0,1) || N(1,4)) by the closed form
    torch.testing.assert_close(core.mean_kl(p, q), torch.tensor(2 * per_dim, dtype=torch.float32))


def test_flat_params_round_trip():
    net = core.mlp([3, 4, 2], torch.nn.Tanh)
    flat = core.get_flat_params_from(net)
    core.set_flat_params_to(net, flat * 2)
    torch.testing.assert_close(core.get_flat_params_from(net), flat * 2)


def test_trpo_update_respects_kl_limit_and_improves_surrogate(tmp_path):
    delta = 0.01
    trpo(make_env_fn("CartPole-v1"), steps_per_epoch=1000, epochs=3, delta=delta, train_v_iters=5,
         logger_kwargs=dict(output_dir=str(tmp_path)))
    progress = pd.read_table(tmp_path / "progress.txt")
    assert (progress["KL"] <= delta).all()
    assert (progress["DeltaLossPi"] <= 0).all()  # the surrogate did not get worse
    assert (progress["KL"] > 0).all()  # and the policy did move


def test_npg_takes_the_full_step(tmp_path):
    trpo(make_env_fn("CartPole-v1"), steps_per_epoch=1000, epochs=2, algo="npg", train_v_iters=5,
         logger_kwargs=dict(output_dir=str(tmp_path)))
    progress = pd.read_table(tmp_path / "progress.txt")
    assert "BacktrackIters" not in progress
    # the quadratic model puts the full step at KL = delta; the true KL is close to it
    assert progress["KL"].between(0.002, 0.05).all()
