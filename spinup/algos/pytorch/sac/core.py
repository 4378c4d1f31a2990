"""Networks and small helpers for SAC: a squashed Gaussian policy and two Q-functions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions.normal import Normal

from spinup.utils.checks import check


def combined_shape(length: int, shape=None) -> tuple:
    """``(length, *shape)``: the shape of a buffer holding ``length`` items of ``shape``."""
    if shape is None:
        return (length,)
    return (length, shape) if np.isscalar(shape) else (length, *shape)


def mlp(sizes, activation, output_activation=nn.Identity) -> nn.Sequential:
    """A multi-layer perceptron with layer widths ``sizes`` (input first, output last)."""
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


def count_vars(module: nn.Module) -> int:
    return sum(np.prod(p.shape) for p in module.parameters())


def get_device(device) -> torch.device:
    """The torch device named by ``device``: 'cpu', 'cuda' (or 'cuda:N'), or 'auto' (a GPU if any)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    check(
        isinstance(device, str) and device.split(":")[0] in ("cpu", "cuda"),
        f"device must be 'cpu', 'cuda' or 'auto', not {device!r}.",
    )
    check(
        device == "cpu" or torch.cuda.is_available(),
        f"device={device!r} was asked for but PyTorch sees no CUDA GPU; use device='cpu' or device='auto'.",
    )
    return torch.device(device)


@torch.no_grad()
def polyak_update(params, targ_params, polyak: float) -> None:
    """theta_targ <- polyak * theta_targ + (1 - polyak) * theta, for each pair of tensors, in place.

    ``params`` and ``targ_params`` are lists made once, before training: listing a module's
    parameters walks all its submodules, which would cost more than this update on every step.
    """
    # lerp(targ, theta, w) = targ + w * (theta - targ): one fused call over all tensors.
    torch._foreach_lerp_(targ_params, params, 1.0 - polyak)


# Bounds on the policy's log standard deviation: exp(-20) to exp(2).
LOG_STD_MIN = -20
LOG_STD_MAX = 2


def squashed_gaussian_logp(pi_distribution: Normal, u: torch.Tensor) -> torch.Tensor:
    """log pi(tanh(u)): the log-density of the squashed sample tanh(u), where u ~ pi_distribution.

    By the change of variables a = tanh(u), applied to each dimension independently,

        log pi(a) = log N(u; mu, std) - sum_i log(1 - tanh(u_i)^2).

    1 - tanh(u)^2 underflows to 0 for large |u|, so the correction uses the identity
    log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u)), which is exact and stable.

    This is the density of the action in (-1, 1)^act_dim, before it is scaled by ``act_limit``; the
    scaled action act_limit * tanh(u) has log-density lower by act_dim * log(act_limit). SAC uses
    this unscaled log-prob throughout, so the entropy bonus (and a learned temperature's target
    entropy of -act_dim) mean the same thing whatever the bounds of the action space.
    """
    logp = pi_distribution.log_prob(u).sum(axis=-1)
    logp -= (2 * (np.log(2) - u - F.softplus(-2 * u))).sum(axis=-1)
    return logp


class SquashedGaussianMLPActor(nn.Module):
    """pi(a|s): a = act_limit * tanh(u), u ~ N(mu(s), std(s)^2), both outputs of one MLP of obs_scale * s."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale=1.0):
        super().__init__()
        self.net = mlp([obs_dim, *hidden_sizes], activation, activation)
        self.mu_layer = nn.Linear(hidden_sizes[-1], act_dim)
        self.log_std_layer = nn.Linear(hidden_sizes[-1], act_dim)
        self.act_limit, self.obs_scale = act_limit, obs_scale

    def forward(self, obs, deterministic=False, with_logprob=True):
        """An action for each observation and its log-prob (see :func:`squashed_gaussian_logp`).

        The sample is reparameterised (``rsample``), so gradients flow from the action back to
        the policy's parameters. ``deterministic`` returns the squashed mean; ``with_logprob=False``
        returns ``None`` for the log-prob.
        """
        net_out = self.net(obs * self.obs_scale)
        mu = self.mu_layer(net_out)
        log_std = torch.clamp(self.log_std_layer(net_out), LOG_STD_MIN, LOG_STD_MAX)
        std = torch.exp(log_std)

        # Pre-squash distribution and sample
        pi_distribution = Normal(mu, std, validate_args=False)
        u = mu if deterministic else pi_distribution.rsample()

        logp_pi = squashed_gaussian_logp(pi_distribution, u) if with_logprob else None

        # tanh keeps the action in (-1, 1); scaling it fills the action space's bounds.
        pi_action = self.act_limit * torch.tanh(u)
        return pi_action, logp_pi


class MLPQFunction(nn.Module):
    """The action-value function Q(s, a), an MLP of (obs_scale * s, a)."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0):
        super().__init__()
        self.q = mlp([obs_dim + act_dim, *hidden_sizes, 1], activation)
        self.obs_scale = obs_scale

    def forward(self, obs, act):
        # Shape (batch,), not (batch, 1): Q is compared with backups of shape (batch,).
        return torch.squeeze(self.q(torch.cat([obs * self.obs_scale, act], dim=-1)), -1)


class MLPActorCritic(nn.Module):
    """A squashed Gaussian policy ``pi`` and two Q-functions ``q1``, ``q2``, each its own MLP.

    Args:
        observation_space: A one-dimensional Box space (``spinup.utils.envs`` flattens others).
        action_space: A Box space whose bounds are ``[-act_limit, act_limit]`` in every dimension.
        hidden_sizes: Widths of the hidden layers of every network.
        activation: The hidden layers' activation, a ``torch.nn`` module class.

    Observations are taken as the environment gives them. When the space's dtype is uint8
    (pixels, or bytes of RAM) every network first divides them by 255, so its inputs lie in [0, 1]
    like those of other tasks; the algorithm, its buffer and ``spinup test_policy`` need not know.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(256, 256), activation=nn.ReLU):
        super().__init__()
        obs_dim = observation_space.shape[0]
        act_dim = action_space.shape[0]
        act_limit = float(action_space.high[0])
        obs_scale = 1.0 / 255 if observation_space.dtype == np.uint8 else 1.0
        self.pi = SquashedGaussianMLPActor(obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale)
        self.q1 = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation, obs_scale)
        self.q2 = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation, obs_scale)

    def act(self, obs, deterministic=False):
        """An action for ``obs`` as numpy on the CPU: a sample, or the squashed mean if ``deterministic``."""
        with torch.no_grad():
            a, _ = self.pi(obs, deterministic, False)
            return a.cpu().numpy()
