"""DQN's Q-networks (an MLP for vectors, convolutions for images) and the helpers they need."""

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
    """True for a Box with three axes, which DQN treats as an image (HxWxC or CxHxW)."""
    return isinstance(space, Box) and len(space.shape) == 3


def is_channels_first(shape, channels_first=None) -> bool:
    """Whether an image of ``shape`` keeps its channels on the first axis (CxHxW).

    ``channels_first`` settles it when given. Otherwise the channel axis is taken to be the
    shorter of the two end axes: (84, 84, 3) and (210, 160, 3) are HxWxC, (4, 84, 84) is CxHxW.
    When both end axes have the same length, as in MinAtar Seaquest's (10, 10, 10), the shape
    says nothing, and the caller has to name the layout.
    """
    if channels_first is not None:
        return bool(channels_first)
    shape = tuple(int(n) for n in shape)
    check(
        shape[0] != shape[-1],
        f"dqn cannot tell whether image observations of shape {shape} are HxWxC or CxHxW; pass "
        "channels_first=False for HxWxC (the Gymnasium convention) or channels_first=True for CxHxW.",
    )
    return shape[0] < shape[-1]


def obs_scale_for(space) -> float:
    """1/255 for uint8 observations (pixels, ALE RAM bytes), so that they reach the network in [0, 1]."""
    return 1.0 / 255 if space.dtype == np.uint8 else 1.0


def cnn(in_channels, height, width, activation):
    """Convolutions for ``in_channels x height x width`` inputs, and the length of their flat output."""
    if min(height, width) >= 36:
        # Three layers sized for 84x84 Atari frames, as in Mnih et al. (2015)
        layers = [nn.Conv2d(in_channels, 32, 8, stride=4), activation(),
                  nn.Conv2d(32, 64, 4, stride=2), activation(),
                  nn.Conv2d(64, 64, 3, stride=1), activation()]
    else:
        # Frames too small for 8x8 kernels with stride 4 (MinAtar's are 10x10): a single 3x3 layer,
        # the network the MinAtar authors used
        layers = [nn.Conv2d(in_channels, 16, 3, stride=1), activation()]
    # Flatten the last three axes (C, H, W), so that a single unbatched image works too
    net = nn.Sequential(*layers, nn.Flatten(start_dim=-3))
    with torch.no_grad():
        n_features = net(torch.zeros(1, in_channels, height, width)).shape[-1]
    return net, n_features


class MLPQFunction(nn.Module):
    """Q-values for vector observations: an MLP with one output per action."""

    def __init__(self, obs_dim, n_actions, hidden_sizes, activation, obs_scale=1.0):
        super().__init__()
        self.obs_scale = obs_scale
        self.q = mlp([obs_dim, *hidden_sizes, n_actions], activation)

    def forward(self, obs):
        return self.q(obs.to(torch.float32) * self.obs_scale)


class CNNQFunction(nn.Module):
    """Q-values for image observations: convolutions, then an MLP with one output per action.

    The replay buffer hands over images as it keeps them (uint8 pixels, or MinAtar's 0/1
    channels). Here they become float32, are scaled by ``obs_scale``, and have their channel axis
    moved to the front when they are HxWxC, since ``nn.Conv2d`` expects CxHxW.
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
    """DQN's network: ``q`` scores each of the ``n`` discrete actions, and ``act`` picks the best.

    The observation space chooses the body: convolutions for images (a Box with three axes), an
    MLP for anything else. uint8 observations are scaled to [0, 1] inside the network, whether
    they are pixels or a vector of bytes such as ALE's RAM.

    Args:
        observation_space (gymnasium.spaces.Box): A vector Box (``spinup.utils.envs`` flattens
            other shapes before they get here) or an image Box.
        action_space (gymnasium.spaces.Discrete): The actions. Output ``i`` of ``q`` scores the
            environment's action ``action_space.start + i``.
        hidden_sizes (tuple of int): Widths of the MLP's hidden layers (after the convolutions,
            for images).
        activation (type): The activation after each hidden layer, a ``torch.nn`` module class.
        channels_first (bool or None): For images, whether the channel axis comes first (CxHxW).
            ``None`` reads it from the shape, and refuses a shape such as (10, 10, 10) whose end
            axes are equally long. Ignored for vectors.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nn.ReLU,
                 channels_first=None):
        super().__init__()
        n_actions = int(action_space.n)
        obs_scale = obs_scale_for(observation_space)
        if is_image_space(observation_space):
            obs_shape = observation_space.shape
            channels_last = not is_channels_first(obs_shape, channels_first)
            self.q = CNNQFunction(obs_shape, n_actions, hidden_sizes, activation, channels_last, obs_scale)
        else:
            self.q = MLPQFunction(observation_space.shape[0], n_actions, hidden_sizes, activation, obs_scale)

    def act(self, obs, deterministic=False):
        """The index (from 0) of the action with the highest Q-value, as a numpy array.

        An environment that numbers its actions from ``start`` (``Discrete(n, start=k)``) gets
        ``start + index``: the training loop and ``test_policy`` add it, as they do for the
        on-policy algorithms.

        The greedy choice is already deterministic, so ``deterministic`` changes nothing; DQN's
        random actions are chosen by the training loop (epsilon-greedy), not by the network.
        """
        with torch.no_grad():
            return self.q(obs).argmax(dim=-1).cpu().numpy()
