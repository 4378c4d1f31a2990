"""Networks and small helpers for DDPG: a deterministic policy and a Q-function."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

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


class MLPActor(nn.Module):
    """The deterministic policy mu(s) = act_limit * tanh(mlp(obs_scale * s))."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale=1.0):
        super().__init__()
        self.pi = mlp([obs_dim, *hidden_sizes, act_dim], activation, nn.Tanh)
        self.act_limit, self.obs_scale = act_limit, obs_scale

    def forward(self, obs):
        # tanh keeps the output in (-1, 1); scaling it fills the action space's bounds.
        return self.act_limit * self.pi(obs * self.obs_scale)


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
    """A deterministic policy ``pi`` and a Q-function ``q``, each its own MLP.

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
        self.pi = MLPActor(obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale)
        self.q = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation, obs_scale)

    def act(self, obs, deterministic=False):
        """mu(obs) as a numpy array on the CPU. The policy is deterministic: ``deterministic`` is ignored."""
        with torch.no_grad():
            return self.pi(obs).cpu().numpy()
