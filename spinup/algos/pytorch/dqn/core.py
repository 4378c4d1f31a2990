"""Networks and small helpers for DQN: Q-networks for vector and for image observations."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from gymnasium.spaces import Box

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


def is_image_space(space) -> bool:
    """Whether observations from ``space`` are images (a Box with three axes: HxWxC or CxHxW)."""
    return isinstance(space, Box) and len(space.shape) == 3


def is_channels_last(shape) -> bool:
    """Whether an image shape is HxWxC rather than CxHxW: channels are the shortest axis."""
    return shape[-1] < shape[0]


def cnn(in_channels, height, width, activation):
    """Conv layers for images of ``in_channels x height x width``; returns them and their output size."""
    if min(height, width) >= 36:
        # The Nature DQN layers, made for 84x84 Atari frames
        layers = [nn.Conv2d(in_channels, 32, 8, stride=4), activation(),
                  nn.Conv2d(32, 64, 4, stride=2), activation(),
                  nn.Conv2d(64, 64, 3, stride=1), activation()]
    else:
        # Scaled down for small grids such as MinAtar's 10x10 (one layer, as in the MinAtar paper)
        layers = [nn.Conv2d(in_channels, 16, 3, stride=1), activation()]
    # start_dim=-3 flattens (C, H, W) whether or not there is a batch axis in front.
    net = nn.Sequential(*layers, nn.Flatten(start_dim=-3))
    with torch.no_grad():
        n_features = net(torch.zeros(1, in_channels, height, width)).shape[-1]
    return net, n_features


class MLPQFunction(nn.Module):
    """Q(s, .) for vector observations: an MLP with one output per action."""

    def __init__(self, obs_dim, n_actions, hidden_sizes, activation):
        super().__init__()
        self.q = mlp([obs_dim, *hidden_sizes, n_actions], activation)

    def forward(self, obs):
        return self.q(obs.to(torch.float32))


class CNNQFunction(nn.Module):
    """Q(s, .) for image observations: convolutional layers, then an MLP with one output per action.

    Observations arrive as stored (uint8 pixels, or 0/1 for MinAtar's boolean channels) and are
    cast to float here, scaled to [0, 1], and moved to CxHxW if they are HxWxC.
    """

    def __init__(self, obs_shape, n_actions, hidden_sizes, activation, channels_last, obs_scale):
        super().__init__()
        c, h, w = (obs_shape[2], obs_shape[0], obs_shape[1]) if channels_last else obs_shape
        self.channels_last, self.obs_scale = channels_last, obs_scale
        self.conv, n_features = cnn(c, h, w, activation)
        self.head = mlp([n_features, *hidden_sizes, n_actions], activation)

    def forward(self, obs):
        x = obs.to(torch.float32) * self.obs_scale
        if self.channels_last:
            x = x.movedim(-1, -3)
        return self.head(self.conv(x))


class QNetwork(nn.Module):
    """The action-value function ``q`` of DQN, with one output per discrete action.

    A convolutional ``q`` for image observations (a Box with three axes, HxWxC or CxHxW), an MLP
    otherwise: the observation space decides.

    Args:
        observation_space: A one-dimensional Box (``spinup.utils.envs`` flattens others) or an image Box.
        action_space: A Discrete space.
        hidden_sizes: Widths of the hidden layers of the MLP (after the convolutions, for images).
        activation: The hidden layers' activation, a ``torch.nn`` module class.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nn.ReLU):
        super().__init__()
        n_actions = int(action_space.n)
        if is_image_space(observation_space):
            obs_shape = observation_space.shape
            obs_scale = 1.0 / 255 if observation_space.dtype == np.uint8 else 1.0
            self.q = CNNQFunction(obs_shape, n_actions, hidden_sizes, activation, is_channels_last(obs_shape),
                                  obs_scale)
        else:
            self.q = MLPQFunction(observation_space.shape[0], n_actions, hidden_sizes, activation)

    def act(self, obs, deterministic=False):
        """The greedy action argmax_a Q(obs, a) as a numpy integer array on the CPU.

        DQN's policy is greedy, so ``deterministic`` is ignored; exploration (epsilon-greedy)
        happens in the algorithm, not here.
        """
        with torch.no_grad():
            return self.q(obs).argmax(dim=-1).cpu().numpy()
