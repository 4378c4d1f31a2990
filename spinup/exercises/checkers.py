"""The checkers: each one runs a student's exercise file and says PASS, or FAIL with the reason.

A checker is a function ``check(module, quick) -> str`` that receives the student's file, imported
as a module. It returns a one-line summary when the answer is right and raises
:class:`ExerciseFailed` with a precise, friendly reason when it is wrong. Mistakes in how the
checker was called (an unknown exercise, a missing file, a file that is not a copy of the
exercise) are :class:`~spinup.utils.checks.UserError`: one sentence, exit status 2.

Exit statuses of :func:`run`: 0 PASS, 1 FAIL, 2 bad input.
"""

from __future__ import annotations

import importlib.util
import math
import os.path as osp
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.normal import Normal

from spinup.utils.checks import UserError, check

HERE = osp.dirname(osp.abspath(__file__))
DOCS_PAGE = "docs/spinningup/exercises.rst"


class ExerciseFailed(Exception):
    """The student's answer is wrong; the message says how (and, where it can, what to do)."""


@dataclass
class Exercise:
    number: str
    title: str
    starter: str  # path relative to spinup/exercises/
    solution: str
    needs: tuple  # names the file must define
    check: Callable | None  # None: not graded automatically (see ``instructions``)
    duration: str  # how long the check takes, for --list
    quick_duration: str = ""  # same, with --quick ("" when --quick changes nothing)
    instructions: str = ""

    @property
    def docs_pointer(self) -> str:
        return f'See "Exercise {self.number}: {self.title}" on the exercises page of the docs ({DOCS_PAGE}).'


# ----------------------------------------------------------------------------------------------
# Loading the student's file and calling into it
# ----------------------------------------------------------------------------------------------
def check_exercise_path(path: str, exercise: Exercise) -> None:
    check(osp.isfile(path), f"There is no file {path}; give the path of your copy of {osp.basename(exercise.starter)}.")
    check(path.endswith(".py"), f"{path} is not a Python file; give the .py file you wrote exercise {exercise.number} in.")


def load_exercise_file(path: str, exercise: Exercise):
    """Import ``path`` as a module; refuse it (UserError) if it is not a copy of the exercise."""
    check_exercise_path(path, exercise)
    name = "spinup_exercise_" + exercise.number.replace(".", "_") + f"_{abs(hash(osp.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # The module must be findable while it runs, e.g. by dataclasses or pickling in the checker.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ExerciseFailed(f"Python cannot read your file: {e.msg} (line {e.lineno} of {path}).") from None
    except Exception as e:
        raise ExerciseFailed(f"Importing your file raised {_describe(e, path)}.") from None
    missing = [n for n in exercise.needs if not hasattr(module, n)]
    check(
        not missing,
        f"{path} defines no {', '.join(missing)}; give your copy of {osp.basename(exercise.starter)} "
        f"(exercise {exercise.number} asks for {', '.join(exercise.needs)}).",
    )
    return module


def _where(e: BaseException, path: str | None) -> str:
    """' (line 12 of file.py)': the last line of ``path`` the exception came through, or ''."""
    if path is None:
        return ""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if osp.abspath(f.filename) == osp.abspath(path)]
    return f" (line {frames[-1].lineno} of {osp.basename(path)})" if frames else ""


def _describe(e: BaseException, path: str | None = None) -> str:
    """'TypeError: msg (line 12 of file.py)': the exception and where in ``path`` it came from."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}{': ' + msg if msg else ''}{_where(e, path)}"


def call_student(module, what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, turning an exception in the student's code into a FAIL that says where."""
    path = getattr(module, "__file__", None)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as e:
        raise ExerciseFailed(
            f"{what} still raises NotImplementedError{_where(e, path)}: fill in the parts marked YOUR CODE HERE."
        ) from None
    except ExerciseFailed:
        raise
    except Exception as e:
        raise ExerciseFailed(f"{what} raised {_describe(e, path)}.") from None


def _same(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=tol, atol=tol)


def _shape(t) -> str:
    return str(tuple(t.shape))


# ----------------------------------------------------------------------------------------------
# 1.1 Gaussian log-likelihood
# ----------------------------------------------------------------------------------------------
LOG_2PI = math.log(2 * math.pi)


def _reference_gaussian_likelihood(x, mu, log_std):
    return Normal(mu, torch.exp(log_std)).log_prob(x).sum(dim=-1)


# Common slips, each with the sentence that explains it: (name, wrong formula, advice).
_GAUSSIAN_SLIPS = [
    ("mean over dimensions", lambda x, mu, ls: _reference_gaussian_likelihood(x, mu, ls) / x.shape[-1],
     "you averaged over the dimensions; the log-likelihood of independent dimensions is their sum"),
    ("sign", lambda x, mu, ls: -_reference_gaussian_likelihood(x, mu, ls),
     "your values have the wrong sign: that is the negative log-likelihood"),
    ("no 1/2", lambda x, mu, ls: (-((x - mu) ** 2) / torch.exp(2 * ls) - ls - 0.5 * LOG_2PI).sum(-1),
     "the squared term needs a factor 1/2: -(x - mu)^2 / (2 sigma^2)"),
    ("sigma not sigma^2", lambda x, mu, ls: (-((x - mu) ** 2) / (2 * torch.exp(ls)) - ls - 0.5 * LOG_2PI).sum(-1),
     "divide the squared difference by the variance sigma^2 = exp(2 log_std), not by sigma"),
    ("log_std as log variance",
     lambda x, mu, ls: (-((x - mu) ** 2) / (2 * torch.exp(ls)) - 0.5 * ls - 0.5 * LOG_2PI).sum(-1),
     "log_std is the log of the standard deviation, not of the variance: sigma = exp(log_std)"),
    ("no square", lambda x, mu, ls: (-(x - mu) / (2 * torch.exp(2 * ls)) - ls - 0.5 * LOG_2PI).sum(-1),
     "square the difference: -(x - mu)^2 / (2 sigma^2)"),
]


def check_1_1(module, quick: bool = False) -> str:
    fn = module.gaussian_likelihood
    what = "gaussian_likelihood"
    gen = torch.Generator().manual_seed(0)
    # dim 4 first: a missing sum shows as (batch, 4), which says more than (batch, 1) would.
    for batch, dim in [(32, 4), (32, 1), (16, 7), (1, 3)]:
        mu = torch.randn(batch, dim, generator=gen, dtype=torch.float64)
        log_std = torch.rand(dim, generator=gen, dtype=torch.float64) * 2.0 - 1.5
        x = mu + torch.exp(log_std) * torch.randn(batch, dim, generator=gen, dtype=torch.float64) * 1.5
        mu.requires_grad_(True)
        log_std.requires_grad_(True)
        inputs = [t.detach().clone() for t in (x, mu, log_std)]
        case = f"x and mu of shape ({batch}, {dim}), log_std of shape ({dim},)"

        out = call_student(module, what, fn, x, mu, log_std)
        if isinstance(out, np.ndarray):
            raise ExerciseFailed(f"{what} returned a numpy array; return a torch.Tensor built with torch "
                                 "operations, so gradients can flow through it.")
        if not isinstance(out, torch.Tensor):
            raise ExerciseFailed(f"{what} returned a {type(out).__name__}; it should return a torch.Tensor.")
        for name, before, now in zip(("x", "mu", "log_std"), inputs, (x, mu, log_std)):
            if not torch.equal(before, now.detach()):
                raise ExerciseFailed(f"{what} changed its input {name} in place; compute new tensors instead.")
        expected = (batch,)
        if tuple(out.shape) != expected:
            raise ExerciseFailed(f"For {case}, your output has shape {_shape(out)}, expected {expected}: "
                                 + _shape_advice(tuple(out.shape), batch, dim))
        if not torch.all(torch.isfinite(out)):
            raise ExerciseFailed(f"For {case}, your output contains NaN or infinite values; work with log_std "
                                 "directly (sigma = exp(log_std)) instead of taking logs of differences.")
        ref = _reference_gaussian_likelihood(x, mu, log_std)
        if not _same(out, ref):
            raise ExerciseFailed(f"For {case}, {_value_advice(out.detach(), ref.detach(), x, mu, log_std)}")
        if not out.requires_grad:
            raise ExerciseFailed(f"{what}'s output carries no gradient: use torch operations throughout "
                                 "(no numpy, .item() or .detach()), so that training can differentiate it.")
        grads = torch.autograd.grad(out.sum(), (mu, log_std), allow_unused=True)
        ref_grads = torch.autograd.grad(ref.sum(), (mu, log_std))
        for name, g, rg in zip(("mu", "log_std"), grads, ref_grads):
            if g is None or not _same(g, rg, 1e-4):
                raise ExerciseFailed(f"The values are right but the gradient with respect to {name} is not: "
                                     "part of your computation is cut off from autograd (numpy, .detach(), "
                                     ".data or a float() in the middle).")
    return "gaussian_likelihood matches torch.distributions.Normal, values and gradients, for 1 to 7 dimensions."


def _shape_advice(shape, batch, dim) -> str:
    if shape == (batch, dim):
        return "sum the per-dimension terms over the last dimension (dim=-1)."
    if shape == (batch, 1):
        return "drop the trailing dimension of size 1 (sum(dim=-1) without keepdim=True)."
    if shape == ():
        return "you summed over the batch as well; sum over the last dimension only (dim=-1)."
    if shape == (dim,):
        return "you summed over the batch dimension (dim=0); sum over the last one (dim=-1) instead."
    if len(shape) == 2 and shape[0] == shape[1] == batch:
        return ("two tensors of shapes (batch,) and (batch, 1) broadcast into a (batch, batch) matrix; "
                "keep every intermediate (batch, dim) and sum over dim=-1 once, at the end.")
    return "one log-likelihood per sample, summed over the dimensions."


def _value_advice(out, ref, x, mu, log_std) -> str:
    dim = x.shape[-1]
    with torch.no_grad():
        diff = out.double() - ref.double()
        if diff.numel() > 1 and torch.allclose(diff, diff.mean().expand_as(diff), atol=1e-4):
            c = diff.mean().item()
            sum_log_std = log_std.sum().item()
            known = [
                (0.5 * dim * LOG_2PI, "the constant term -log(2 pi)/2 per dimension is missing"),
                (-0.5 * dim * LOG_2PI, "the constant term -log(2 pi)/2 per dimension is counted twice"),
                (0.5 * dim * LOG_2PI - 0.5 * dim * math.log(2), "the constant should be -log(2 pi)/2 per dimension, "
                 "not -log(pi)/2"),
                (sum_log_std, "the term -log(sigma_i) = -log_std_i per dimension is missing"),
                (-sum_log_std, "the term -log(sigma_i) has the wrong sign: it is -log_std_i"),
                (sum_log_std + 0.5 * dim * LOG_2PI, "the normalising terms -log(sigma_i) - log(2 pi)/2 are missing"),
            ]
            for value, advice in known:
                if abs(c - value) < 1e-4:
                    return f"{advice} (your values are all off by {c:+.4f})."
            return (f"your values are all off by the same amount, {c:+.4f}: check the terms that don't depend "
                    "on x: -log_std_i and -log(2 pi)/2 for each dimension.")
        for _, slip, advice in _GAUSSIAN_SLIPS:
            if _same(out.double(), slip(x, mu, log_std).detach(), 1e-5):
                return advice + "."
        j = int(diff.abs().argmax())
        return (f"your log-likelihood of sample {j} is {out[j].item():.5f}, expected {ref[j].item():.5f} "
                f"(largest difference {diff.abs().max().item():.3g}).")


# ----------------------------------------------------------------------------------------------
# 1.2 Gaussian policy trained by PPO
# ----------------------------------------------------------------------------------------------
PPO_ENV = "InvertedPendulum-v5"
PPO_SETTINGS = dict(seed=0, steps_per_epoch=2000, epochs=30, hidden_sizes=(64, 64))
PPO_LAST_EPOCHS = 5
PPO_THRESHOLD = 500.0


def check_1_2(module, quick: bool = False) -> str:
    _check_mlp(module)
    _check_gaussian_actor(module)
    if quick:
        return ("mlp and MLPGaussianActor have the right shapes and log-likelihoods (quick check; run without "
                "--quick to train it with PPO, the real test).")
    ret = train_actor_with_ppo(module, **PPO_SETTINGS)
    n = PPO_SETTINGS["epochs"]
    if ret < PPO_THRESHOLD:
        raise ExerciseFailed(
            f"PPO with your policy averaged {ret:.0f} over the last {PPO_LAST_EPOCHS} of {n} epochs on {PPO_ENV}; "
            f"it needs {PPO_THRESHOLD:.0f}. The shapes are right, so look at how the policy explores: "
            "log_std should start at -0.5 and be an nn.Parameter (learned), and the mean network should end "
            "without an activation."
        )
    return f"PPO with your policy averaged {ret:.0f} over the last {PPO_LAST_EPOCHS} of {n} epochs on {PPO_ENV}."


def _check_mlp(module) -> None:
    sizes = [5, 16, 8, 3]
    net = call_student(module, "mlp([5, 16, 8, 3], nn.Tanh)", module.mlp, sizes, nn.Tanh)
    if not isinstance(net, nn.Module):
        raise ExerciseFailed(f"mlp returned a {type(net).__name__}; it should return an nn.Module (nn.Sequential).")
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    widths = [(m.in_features, m.out_features) for m in linears]
    if widths != list(zip(sizes[:-1], sizes[1:])):
        raise ExerciseFailed(f"mlp([5, 16, 8, 3], nn.Tanh) has Linear layers {widths}; expected "
                             f"{list(zip(sizes[:-1], sizes[1:]))}: one layer between each pair of neighbouring sizes.")
    n_tanh = sum(isinstance(m, nn.Tanh) for m in net.modules())
    if n_tanh != len(sizes) - 2:
        raise ExerciseFailed(f"mlp([5, 16, 8, 3], nn.Tanh) has {n_tanh} Tanh activations; expected {len(sizes) - 2}: "
                             "one after each hidden layer and none after the output layer (that one gets "
                             "output_activation, nn.Identity by default).")
    net_out = call_student(module, "mlp(...) called on a batch", net, torch.zeros(7, 5))
    if tuple(net_out.shape) != (7, 3):
        raise ExerciseFailed(f"mlp([5, 16, 8, 3], nn.Tanh) maps a batch of shape (7, 5) to {_shape(net_out)}; "
                             "expected (7, 3).")
    net = call_student(module, "mlp(..., output_activation=nn.Sigmoid)", module.mlp, [2, 4, 1], nn.ReLU, nn.Sigmoid)
    if not isinstance(list(net.modules())[-1], nn.Sigmoid):
        raise ExerciseFailed("mlp([2, 4, 1], nn.ReLU, nn.Sigmoid) does not end with the Sigmoid: the last layer "
                             "must be followed by output_activation.")


def _check_gaussian_actor(module) -> None:
    torch.manual_seed(0)
    obs_dim, act_dim, batch = 4, 2, 10
    actor = call_student(module, "MLPGaussianActor(4, 2, (32,), nn.Tanh)", module.MLPGaussianActor,
                         obs_dim, act_dim, (32,), nn.Tanh)
    params = list(actor.parameters())
    if not params:
        raise ExerciseFailed("MLPGaussianActor has no parameters: assign the mean network and log_std as "
                             "attributes (self.mu_net = ..., self.log_std = nn.Parameter(...)) so PPO can train them.")
    obs, act = torch.randn(batch, obs_dim), torch.randn(batch, act_dim)
    try:
        pi = call_student(module, "MLPGaussianActor._distribution(obs)", actor._distribution, obs)
    except ExerciseFailed as e:
        if "GreaterThan" in str(e):
            raise ExerciseFailed(f"{str(e).rstrip('.: ')}. A standard deviation must be positive: build it as "
                                 "torch.exp(self.log_std).") from None
        raise
    if not isinstance(pi, torch.distributions.Distribution):
        raise ExerciseFailed(f"_distribution returned a {type(pi).__name__}; return a torch.distributions object, "
                             "e.g. Normal(mu, std).")
    pi, logp = call_student(module, "MLPGaussianActor.forward(obs, act)", actor, obs, act)
    sample = call_student(module, "sampling from your distribution", pi.sample)
    if tuple(sample.shape) != (batch, act_dim):
        raise ExerciseFailed(f"For observations of shape ({batch}, {obs_dim}) your distribution samples actions of "
                             f"shape {_shape(sample)}; expected ({batch}, {act_dim}).")
    if not isinstance(logp, torch.Tensor) or tuple(logp.shape) != (batch,):
        shape = _shape(logp) if isinstance(logp, torch.Tensor) else type(logp).__name__
        raise ExerciseFailed(f"_log_prob_from_distribution returned {shape} for actions of shape ({batch}, {act_dim}); "
                             f"expected ({batch},): sum the per-dimension log-likelihoods over the last dimension.")
    ref = Normal(pi.mean, pi.stddev).log_prob(act).sum(-1)
    if not _same(logp, ref, 1e-4):
        raise ExerciseFailed("_log_prob_from_distribution disagrees with the log-likelihood of your own "
                             "distribution (the sum over action dimensions of its per-dimension log-probs).")
    if not pi.stddev.requires_grad:
        raise ExerciseFailed("The standard deviation of your policy is not learned: make log_std an "
                             "nn.Parameter and build the distribution's scale from it with torch.exp.")
    std = float(pi.stddev.detach().mean())
    if not 0.2 < std < 1.5:
        raise ExerciseFailed(f"Your policy's initial standard deviation is {std:.3g}; start "
                             "log_std at -0.5 (a standard deviation of about 0.6) so that PPO explores, "
                             "but not wildly.")
    grads = torch.autograd.grad(logp.sum(), params, allow_unused=True)
    if any(g is None for g in grads):
        raise ExerciseFailed("Some of MLPGaussianActor's parameters get no gradient from the log-likelihood: "
                             "build the distribution from self.mu_net(obs) and self.log_std directly.")


def train_actor_with_ppo(module, seed=0, steps_per_epoch=2000, epochs=25, hidden_sizes=(64, 64),
                         output_dir=None) -> float:
    """Train the student's ``MLPGaussianActor`` with spinup's PPO; the mean of the last epochs' returns."""
    import pandas as pd

    from spinup.algos.pytorch.ppo import core
    from spinup.algos.pytorch.ppo.ppo import ppo
    from spinup.utils.envs import make_env_fn

    student_actor = module.MLPGaussianActor

    class ExerciseActorCritic(core.MLPActorCritic):
        """spinup's PPO actor-critic with the student's Gaussian policy in place of ours."""

        def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nn.Tanh):
            super().__init__(observation_space, action_space, hidden_sizes, activation)
            self.pi = student_actor(observation_space.shape[0], action_space.shape[0], hidden_sizes, activation)

    with tempfile.TemporaryDirectory() as tmp:
        out = output_dir or tmp
        try:
            ppo(make_env_fn(PPO_ENV), actor_critic=ExerciseActorCritic, ac_kwargs=dict(hidden_sizes=hidden_sizes),
                seed=seed, steps_per_epoch=steps_per_epoch, epochs=epochs, save_freq=epochs,
                logger_kwargs=dict(output_dir=out, exp_name="exercise1_2"))
        except UserError:
            raise
        except Exception as e:
            raise ExerciseFailed(f"Training PPO with your policy raised {_describe(e, module.__file__)}.") from None
        returns = pd.read_table(osp.join(out, "progress.txt"))["AverageEpRet"].to_numpy()
    return float(np.mean(returns[-PPO_LAST_EPOCHS:]))


# ----------------------------------------------------------------------------------------------
# 1.3 The math of TD3
# ----------------------------------------------------------------------------------------------
def reference_module(number: str):
    """The reference solution of exercise ``number``, imported."""
    exercise = get_exercise(number)
    return load_exercise_file(osp.join(HERE, exercise.solution), exercise)


def td3_fixture(batch: int = 64):
    """Fixed networks, a fixed batch and fixed target actions a2: obs_dim 3, act_dim 2, actions in [-2, 2],
    every 4th transition done."""
    from gymnasium.spaces import Box

    from spinup.algos.pytorch.td3 import core

    obs_space, act_space = Box(-np.inf, np.inf, (3,), np.float32), Box(-2.0, 2.0, (2,), np.float32)
    torch.manual_seed(0)
    ac = core.MLPActorCritic(obs_space, act_space, hidden_sizes=(16, 16))
    # The target networks differ from the main ones, as they do during training.
    ac_targ = core.MLPActorCritic(obs_space, act_space, hidden_sizes=(16, 16))
    for p in ac_targ.parameters():
        p.requires_grad = False
    gen = torch.Generator().manual_seed(1)
    data = dict(obs=torch.randn(batch, 3, generator=gen), obs2=torch.randn(batch, 3, generator=gen),
                act=torch.rand(batch, 2, generator=gen) * 4 - 2, rew=torch.randn(batch, generator=gen),
                done=(torch.arange(batch) % 4 == 3).float())
    a2 = torch.rand(batch, 2, generator=gen) * 4 - 2
    # Shift Q2 so that it is the smaller of the two for about half the batch: then using Q1 or Q2 alone,
    # or the max, gives a different answer from the min.
    _balance_q2(ac_targ, data["obs2"], a2)
    _balance_q2(ac, data["obs"], ac.pi(data["obs"]))
    return ac, ac_targ, data, a2


@torch.no_grad()
def _balance_q2(ac, obs, act) -> None:
    last = [m for m in ac.q2.modules() if isinstance(m, nn.Linear)][-1]
    last.bias += (ac.q1(obs, act) - ac.q2(obs, act)).median()


def check_1_3(module, quick: bool = False) -> str:
    reference = reference_module("1.3")
    ac, ac_targ, data, a2 = td3_fixture()
    _check_smoothing(module, reference)
    _check_backup(module, reference, ac_targ, data, a2)
    _check_loss_pi(module, reference, ac, data)
    _check_delay(module)
    if quick:
        return "the four functions agree with the reference (quick check: your TD3 was not run)."
    _run_td3_briefly(module)
    return ("target policy smoothing, the clipped double-Q backup, the policy loss and the policy delay agree "
            "with the reference, and your TD3 runs.")


def _smooth(module, pi_targ, target_noise, noise_clip, act_limit, what):
    before = pi_targ.clone()
    with torch.no_grad():
        out = call_student(module, what, module.smoothed_target_action, pi_targ, target_noise, noise_clip, act_limit)
    if not isinstance(out, torch.Tensor):
        raise ExerciseFailed(f"{what} returned a {type(out).__name__}; return a torch.Tensor.")
    if not torch.equal(before, pi_targ):
        raise ExerciseFailed("smoothed_target_action changed pi_targ in place; compute a new tensor instead.")
    if out.shape != pi_targ.shape:
        raise ExerciseFailed(f"{what} returned shape {_shape(out)} for pi_targ of shape {_shape(pi_targ)}; "
                             "the smoothed actions have the shape of pi_targ.")
    return out


def _check_smoothing(module, reference) -> None:
    gen = torch.Generator().manual_seed(2)
    pi_targ = torch.rand(20000, 2, generator=gen) * 3.0 - 1.5  # |pi_targ| + noise_clip <= act_limit: no action clipping
    what = "smoothed_target_action(pi_targ, target_noise=0.2, noise_clip=0.5, act_limit=2.0)"
    torch.manual_seed(3)
    smoothed = _smooth(module, pi_targ, 0.2, 0.5, 2.0, what)
    if smoothed.abs().max() <= 1.0 + 1e-6:
        raise ExerciseFailed(f"{what} never returns an action beyond [-1, 1], though pi_targ reaches 1.5: clip "
                             "the smoothed action to [-act_limit, act_limit], with act_limit, not 1.")
    noise = smoothed - pi_targ
    torch.manual_seed(4)
    ref_noise = reference.smoothed_target_action(pi_targ, 0.2, 0.5, 2.0) - pi_targ
    if torch.allclose(noise, torch.zeros_like(noise)):
        raise ExerciseFailed(f"{what} adds no noise to pi_targ: add eps ~ N(0, target_noise^2), clipped to "
                             "[-noise_clip, noise_clip].")
    if ((noise[1:] - noise[:1]).abs() < 1e-6).all():
        raise ExerciseFailed(f"{what} adds the same noise to every sample of the batch; draw fresh noise for "
                             "every entry (torch.randn_like(pi_targ)).")
    if ((noise[:, 0] - noise[:, 1]).abs() < 1e-6).all():
        raise ExerciseFailed(f"{what} adds the same noise to both action dimensions; draw independent noise for "
                             "every entry (torch.randn_like(pi_targ)).")
    if noise.abs().max() > 0.5 + 1e-5:
        raise ExerciseFailed(f"{what} adds noise as large as {noise.abs().max():.3f}: clip the noise to "
                             "[-noise_clip, noise_clip] before adding it to pi_targ.")
    mean, std, ref_std = noise.mean().item(), noise.std().item(), ref_noise.std().item()
    if abs(mean) > 0.01:
        raise ExerciseFailed(f"The noise {what} adds has mean {mean:.3f}; it should have mean 0 "
                             "(a normal distribution: torch.randn, not torch.rand).")
    if abs(std - ref_std) > 0.05 * ref_std:
        hint = (" target_noise is the standard deviation: multiply N(0, 1) noise by it, not by its square."
                if abs(std - 0.04) < 0.005 else " eps ~ N(0, target_noise^2) is torch.randn_like(pi_targ) * target_noise.")
        raise ExerciseFailed(f"The noise {what} adds has standard deviation {std:.3f}; expected {ref_std:.3f} "
                             f"(0.2, a little less after clipping).{hint}")
    torch.manual_seed(5)
    near_limit = torch.full((20000, 2), 1.9)
    what = "smoothed_target_action(pi_targ=1.9, target_noise=0.2, noise_clip=0.5, act_limit=2.0)"
    out = _smooth(module, near_limit, 0.2, 0.5, 2.0, what)
    if out.max() > 2.0 + 1e-5:
        raise ExerciseFailed(f"{what} returns actions up to {out.max():.3f}: clip the smoothed action to "
                             "[-act_limit, act_limit].")
    if (out == 2.0).float().mean() < 0.2:
        raise ExerciseFailed(f"{what} returns actions no larger than {out.max():.3f}; after adding the noise, "
                             "clip the action to [-act_limit, act_limit], with act_limit, not 1.")


_BACKUP_SLIPS = [
    ("max", lambda r, d, q1, q2, g: r + g * (1 - d) * torch.max(q1, q2),
     "take the minimum of the two target Q-values, not the maximum: that is what counters overestimation"),
    ("mean", lambda r, d, q1, q2, g: r + g * (1 - d) * (q1 + q2) / 2,
     "take the minimum of the two target Q-values, not their mean"),
    ("q1", lambda r, d, q1, q2, g: r + g * (1 - d) * q1,
     "use both target Q-networks: the backup bootstraps from min(Q1_targ(s', a'), Q2_targ(s', a'))"),
    ("q2", lambda r, d, q1, q2, g: r + g * (1 - d) * q2,
     "use both target Q-networks: the backup bootstraps from min(Q1_targ(s', a'), Q2_targ(s', a'))"),
    ("no done", lambda r, d, q1, q2, g: r + g * torch.min(q1, q2),
     "a transition that ended the episode (done = 1) has no future: multiply the bootstrap term by (1 - d)"),
    ("done", lambda r, d, q1, q2, g: r + g * d * torch.min(q1, q2),
     "multiply the bootstrap term by (1 - d), not by d: terminal transitions get no future value"),
    ("no gamma", lambda r, d, q1, q2, g: r + (1 - d) * torch.min(q1, q2),
     "discount the bootstrap term by gamma"),
    ("no reward", lambda r, d, q1, q2, g: g * (1 - d) * torch.min(q1, q2),
     "the backup starts with the reward: y = r + gamma * (1 - d) * min(...)"),
]


def _check_backup(module, reference, ac_targ, data, a2) -> None:
    gamma, batch = 0.9, len(data["rew"])
    what = "clipped_double_q_backup(data, ac_targ, a2, gamma=0.9)"
    with torch.no_grad():
        y = call_student(module, what, module.clipped_double_q_backup, data, ac_targ, a2, gamma)
        ref = reference.clipped_double_q_backup(data, ac_targ, a2, gamma)
        r, o2, d = data["rew"], data["obs2"], data["done"]
        q1, q2 = ac_targ.q1(o2, a2), ac_targ.q2(o2, a2)
    if not isinstance(y, torch.Tensor):
        raise ExerciseFailed(f"{what} returned a {type(y).__name__}; return a torch.Tensor.")
    if tuple(y.shape) != (batch,):
        advice = ("a (batch,) tensor and a (batch, 1) tensor broadcast into a (batch, batch) matrix: keep every "
                  "term of shape (batch,)." if tuple(y.shape) == (batch, batch) else
                  "one target per transition: r, d, Q1_targ and Q2_targ all have shape (batch,).")
        raise ExerciseFailed(f"{what} returned shape {_shape(y)} for a batch of {batch}; expected ({batch},): {advice}")
    if _same(y, ref, 1e-5):
        return
    with torch.no_grad():
        pi_a2 = ac_targ.pi(o2)
        unsmoothed = reference.clipped_double_q_backup(data, ac_targ, pi_a2, gamma)
    if _same(y, unsmoothed, 1e-5):
        raise ExerciseFailed(f"{what} evaluates the target Q-networks at ac_targ.pi(s'); use the smoothed action "
                             "a2 it is given.")
    for _, slip, advice in _BACKUP_SLIPS:
        if _same(y, slip(r, d, q1, q2, gamma), 1e-5):
            raise ExerciseFailed(f"{what} differs from the reference: {advice}.")
    j = int((y - ref).abs().argmax())
    raise ExerciseFailed(f"{what} differs from the reference: for transition {j} (done={d[j].item():.0f}) "
                         f"your target is {y[j].item():.5f}, expected {ref[j].item():.5f}.")


def _check_loss_pi(module, reference, ac, data) -> None:
    what = "compute_loss_pi(data, ac)"
    pi_params = list(ac.pi.parameters())
    loss = call_student(module, what, module.compute_loss_pi, data, ac)
    if not isinstance(loss, torch.Tensor):
        raise ExerciseFailed(f"{what} returned a {type(loss).__name__}; return a scalar torch.Tensor, "
                             "which the optimiser can differentiate.")
    if loss.dim() != 0:
        raise ExerciseFailed(f"{what} returned shape {_shape(loss)}; a loss is a scalar: average over the batch.")
    ref = reference.compute_loss_pi(data, ac)
    o = data["obs"]
    with torch.no_grad():
        q1_pi, q2_pi, q1_a = ac.q1(o, ac.pi(o)), ac.q2(o, ac.pi(o)), ac.q1(o, data["act"])
    slips = [
        (q1_pi.mean(), "the sign is wrong: minimising the loss must maximise Q1(s, mu(s)), so the loss is -Q1"),
        (-q1_pi.sum(), "average over the batch (mean), don't sum: the learning rate is tuned for a mean"),
        (-q2_pi.mean(), "TD3's policy loss uses Q1 only"),
        (-torch.min(q1_pi, q2_pi).mean(), "TD3's policy loss uses Q1 only; the minimum of the two belongs to "
                                          "the backup"),
        (-q1_a.mean(), "evaluate Q1 at the policy's own action mu(s) = ac.pi(obs), not at the buffer's action: "
                       "the gradient reaches the policy through that action"),
    ]
    if not _same(loss, ref, 1e-5):
        for value, advice in slips:
            if _same(loss, value, 1e-5):
                raise ExerciseFailed(f"{what} is {loss.item():.5f}, expected {ref.item():.5f}: {advice}.")
        raise ExerciseFailed(f"{what} is {loss.item():.5f}, expected {ref.item():.5f} (= -mean of Q1(s, mu(s))).")
    if not loss.requires_grad:
        raise ExerciseFailed(f"{what} carries no gradient: don't compute it under torch.no_grad() or detach it.")
    grads = torch.autograd.grad(loss, pi_params, allow_unused=True)
    ref_grads = torch.autograd.grad(ref, pi_params)
    if any(g is None or not _same(g, rg, 1e-4) for g, rg in zip(grads, ref_grads)):
        raise ExerciseFailed(f"{what} has the right value, but its gradient with respect to the policy is "
                             "wrong: the action must come from ac.pi(obs) without detaching it.")


def _check_delay(module) -> None:
    for delay in (1, 2, 3):
        due = [bool(call_student(module, f"policy_update_due({t}, policy_delay={delay})", module.policy_update_due,
                                 t, delay)) for t in range(12)]
        if due == [t % delay == 0 for t in range(12)]:
            continue
        shown = ", ".join(str(t) for t in range(12) if due[t]) or "none"
        # Another phase (updating after Q-updates 1, 3, 5, ...) is as good: one update per `delay`.
        if all(sum(due[i:i + delay]) == 1 for i in range(0, 12, delay)) and delay > 1:
            continue
        if all(due):
            advice = f"the policy would be updated after every Q-update; update it once every {delay}"
        else:
            advice = f"expected one policy update per {delay} Q-updates: after Q-updates 0, {delay}, {2 * delay}, ..."
        raise ExerciseFailed(f"With policy_delay={delay}, policy_update_due is true for timer = {shown} (of 0 to 11): "
                             f"{advice}.")


def _run_td3_briefly(module) -> None:
    import contextlib
    import io

    import pandas as pd

    from spinup.utils.envs import make_env_fn

    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        try:
            module.td3(make_env_fn("Pendulum-v1"), ac_kwargs=dict(hidden_sizes=(32, 32)), seed=0,
                       steps_per_epoch=300, epochs=1, start_steps=100, update_after=100, update_every=50,
                       batch_size=32, num_test_episodes=1, max_ep_len=100,
                       logger_kwargs=dict(output_dir=tmp, exp_name="exercise1_3"))
        except Exception as e:
            raise ExerciseFailed(f"Your functions agree with the reference, but a short run of your td3 on "
                                 f"Pendulum-v1 raised {_describe(e, module.__file__)}.") from None
        progress = pd.read_table(osp.join(tmp, "progress.txt"))
    if not np.all(np.isfinite(progress[["AverageQ1Vals", "LossQ", "LossPi"]].to_numpy())):
        raise ExerciseFailed("A short run of your td3 on Pendulum-v1 produced NaN or infinite losses.")


# ----------------------------------------------------------------------------------------------
# 2.2 The silent bug in DDPG
# ----------------------------------------------------------------------------------------------
DDPG_ENV = "Pendulum-v1"
# Measured (torch 2.13 CPU): the reference scores -141, -184 and -110 on seeds 0, 1, 2 (mean -145); the
# buggy copy -1274 on seed 0. A random policy scores about -1200, a good one about -150.
# 8000 steps, the first 1000 random; the score is the mean return of 10 test episodes at the end.
DDPG_SETTINGS = dict(ac_kwargs=dict(hidden_sizes=(64, 64)), steps_per_epoch=2000, epochs=4, start_steps=1000,
                     update_after=1000, num_test_episodes=10, save_freq=4)
DDPG_SEEDS, DDPG_QUICK_SEEDS = (0, 1, 2), (0,)
DDPG_LAST_EPOCHS = 1
DDPG_MARGIN = 250.0


def check_2_2(module, quick: bool = False) -> str:
    reference = reference_module("2.2")
    seeds = DDPG_QUICK_SEEDS if quick else DDPG_SEEDS
    yours, ref = [], []
    for seed in seeds:
        ref.append(final_test_return(reference, seed))
        yours.append(final_test_return(module, seed))
        print(f"  seed {seed}: reference {ref[-1]:.0f}, yours {yours[-1]:.0f}", flush=True)
    mean_yours, mean_ref = float(np.mean(yours)), float(np.mean(ref))
    steps = DDPG_SETTINGS["epochs"] * DDPG_SETTINGS["steps_per_epoch"]
    over = f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))
    summary = (f"the average test return after {steps} steps on {DDPG_ENV}, over {over}, is {mean_yours:.0f} "
               f"for your DDPG and {mean_ref:.0f} for the reference")
    if mean_yours < mean_ref - DDPG_MARGIN:
        raise ExerciseFailed(f"{summary}; yours must come within {DDPG_MARGIN:.0f} of it, so the bug is still "
                             "there. The exercise's section of the docs has hints, from vague to precise.")
    return summary + (" (quick check: one seed; run without --quick for three)." if quick else ".")


def final_test_return(module, seed: int) -> float:
    """Train ``module.ddpg`` on Pendulum-v1 with the checker's settings; the mean of the last epochs' test returns."""
    import contextlib
    import io

    import pandas as pd

    from spinup.utils.envs import make_env_fn

    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        try:
            module.ddpg(make_env_fn(DDPG_ENV), seed=seed, logger_kwargs=dict(output_dir=tmp, exp_name="exercise2_2"),
                        **DDPG_SETTINGS)
        except Exception as e:
            raise ExerciseFailed(f"Training your DDPG on {DDPG_ENV} raised {_describe(e, module.__file__)}.") from None
        returns = pd.read_table(osp.join(tmp, "progress.txt"))["AverageTestEpRet"].to_numpy()
    return float(np.mean(returns[-DDPG_LAST_EPOCHS:]))


# ----------------------------------------------------------------------------------------------
# The table of exercises
# ----------------------------------------------------------------------------------------------
EXERCISE_2_1 = """Exercise 2.1 (Value-function fitting in TRPO) is not graded automatically: it is an experiment.
Run it, plot it, and explain what you see:

    python -m spinup.exercises.pytorch.problem_set_2.exercise2_1 --epochs 25 --seeds 0
    (then the `spinup plot ...` command it prints)

The script is {script}
The written solution, with our own plot, is {solution}
"""

EXERCISES = {
    e.number: e
    for e in [
        Exercise("1.1", "Gaussian log-likelihood", "pytorch/problem_set_1/exercise1_1.py",
                 "pytorch/problem_set_1_solutions/exercise1_1_soln.py", ("gaussian_likelihood",), check_1_1,
                 "a second"),
        Exercise("1.2", "Gaussian policy for PPO", "pytorch/problem_set_1/exercise1_2.py",
                 "pytorch/problem_set_1_solutions/exercise1_2_soln.py", ("mlp", "MLPGaussianActor"), check_1_2,
                 "a few minutes (trains PPO)", "a second (shapes only)"),
        Exercise("1.3", "The math of TD3", "pytorch/problem_set_1/exercise1_3.py",
                 "pytorch/problem_set_1_solutions/exercise1_3_soln.py",
                 ("smoothed_target_action", "clipped_double_q_backup", "compute_loss_pi", "policy_update_due", "td3"),
                 check_1_3, "a few seconds", "a second (skips the short TD3 run)"),
        Exercise("2.1", "Value-function fitting in TRPO", "pytorch/problem_set_2/exercise2_1.py",
                 "pytorch/problem_set_2_solutions/exercise2_1_soln.md", (), None, "not graded: run, plot, explain",
                 instructions=EXERCISE_2_1),
        Exercise("2.2", "The silent bug in DDPG", "pytorch/problem_set_2/exercise2_2.py",
                 "pytorch/problem_set_2_solutions/exercise2_2_soln.py", ("ddpg",), check_2_2,
                 "about 3 minutes (6 short DDPG runs)", "about 1 minute (one seed each)"),
    ]
}


def get_exercise(number: str) -> Exercise:
    key = str(number).strip().lower().removeprefix("exercise").replace("_", ".")
    check(
        key in EXERCISES,
        f"Unknown exercise '{number}'; the exercises are {', '.join(EXERCISES)} (`spinup exercise --list`).",
    )
    return EXERCISES[key]


def run(number: str, path: str | None = None, solution: bool = False, quick: bool = False, out=None) -> int:
    """Check exercise ``number`` in ``path`` (default: the starter file) and print PASS or FAIL.

    Returns the exit status: 0 PASS, 1 FAIL. Raises UserError on bad input.
    """
    out = out or sys.stdout
    exercise = get_exercise(number)
    check(not (solution and path), "Give either --file or --solution, not both.")
    if path is None:
        path = osp.join(HERE, exercise.solution if solution else exercise.starter)
    if exercise.check is None:
        print(exercise.instructions.format(script=osp.join(HERE, exercise.starter),
                                           solution=osp.join(HERE, exercise.solution)), file=out)
        return 0
    check_exercise_path(path, exercise)
    print(f"Exercise {exercise.number} ({exercise.title}): checking {path}" + (" (quick)" if quick else ""), file=out)
    out.flush()
    try:
        module = load_exercise_file(path, exercise)
        summary = exercise.check(module, quick)
    except ExerciseFailed as e:
        print(f"FAIL: {e}\n{exercise.docs_pointer}", file=out)
        return 1
    print(f"PASS: {summary}", file=out)
    return 0


def main_for_file(number: str, path: str) -> int:
    """What ``python exercise1_1.py`` runs: check that very file."""
    try:
        return run(number, path)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
