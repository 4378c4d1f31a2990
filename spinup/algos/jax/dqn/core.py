"""Networks and small helpers for DQN, in JAX: Q-networks for vector and for image observations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from gymnasium.spaces import Box

from spinup.utils.checks import check


def combined_shape(length: int, shape=None) -> tuple:
    """``(length, *shape)``: the shape of a buffer holding ``length`` items of ``shape``."""
    if shape is None:
        return (length,)
    return (length, shape) if np.isscalar(shape) else (length, *shape)


def identity(x):
    return x


def uniform_init(bound):
    """U(-bound, bound): PyTorch's default for weights and biases, with bound = 1/sqrt(fan_in).

    Flax's own default (LeCun normal, zero bias) draws weights sqrt(3) times wider; using PyTorch's
    here keeps the twins' networks starting from the same distribution, as the docs promise.
    """

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def linear(n_in, n_out, *, rngs: nnx.Rngs) -> nnx.Linear:
    """A dense layer initialised as ``torch.nn.Linear`` initialises its own."""
    bound = 1 / np.sqrt(n_in)
    return nnx.Linear(n_in, n_out, kernel_init=uniform_init(bound), bias_init=uniform_init(bound), rngs=rngs)


def mlp(sizes, activation, output_activation=identity, *, rngs: nnx.Rngs) -> nnx.Sequential:
    """A multi-layer perceptron with layer widths ``sizes`` (input first, output last).

    The activations take their own slots, as in a ``torch.nn.Sequential``, so layer ``j`` here is
    layer ``j`` of the PyTorch twin (its kernel is the transpose of the PyTorch weight).
    """
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [linear(sizes[j], sizes[j + 1], rngs=rngs), act]
    return nnx.Sequential(*layers)


def count_vars(module: nnx.Module) -> int:
    return sum(np.prod(p.shape) for p in jax.tree.leaves(nnx.state(module, nnx.Param)))


def get_device(device) -> jax.Device:
    """The JAX device named by ``device``: 'cpu', 'cuda' (or 'cuda:N'), or 'auto' (a GPU if any)."""
    if device == "auto":
        return (_gpus() or jax.devices("cpu"))[0]
    check(
        isinstance(device, str) and device.split(":")[0] in ("cpu", "cuda"),
        f"device must be 'cpu', 'cuda' or 'auto', not {device!r}.",
    )
    platform, _, index = device.partition(":")
    check(index == "" or index.isdigit(), f"device must be 'cpu', 'cuda' or 'auto', not {device!r}.")
    if platform == "cpu":
        return jax.devices("cpu")[0]
    gpus = _gpus()
    check(
        int(index or 0) < len(gpus),
        f"device={device!r} was asked for but JAX sees {len(gpus)} GPU(s); use device='cpu' or device='auto'.",
    )
    return gpus[int(index or 0)]


def _gpus() -> list:
    # jax.devices raises rather than returning [] when no GPU backend is installed (the CPU wheel).
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


def polyak_update(params, targ_params, polyak: float):
    """theta_targ <- polyak * theta_targ + (1 - polyak) * theta, for each pair of arrays.

    ``params`` and ``targ_params`` are pytrees of the same structure (two ``nnx.State``); the
    updated target tree is returned, as JAX arrays are never changed in place.
    """
    # targ + w * (theta - targ), the same arithmetic as torch.lerp, leaf by leaf.
    return jax.tree.map(lambda p, p_targ: p_targ + (1.0 - polyak) * (p - p_targ), params, targ_params)


def is_image_space(space) -> bool:
    """Whether observations from ``space`` are images (a Box with three axes: HxWxC or CxHxW)."""
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


def flatten_image(x):
    # Flattens (H, W, C) whether or not there is a batch axis in front.
    return x.reshape(*x.shape[:-3], -1)


def conv(n_in, n_out, size, stride, *, rngs: nnx.Rngs) -> nnx.Conv:
    """A square, unpadded convolution initialised as ``torch.nn.Conv2d`` initialises its own."""
    bound = 1 / np.sqrt(n_in * size * size)  # fan_in of one output unit
    return nnx.Conv(n_in, n_out, (size, size), strides=stride, padding="VALID",
                    kernel_init=uniform_init(bound), bias_init=uniform_init(bound), rngs=rngs)


def cnn(in_channels, height, width, activation, *, rngs: nnx.Rngs):
    """Conv layers for images of ``height x width x in_channels``; returns them and their output size.

    JAX convolutions take channels last (NHWC), so the features are flattened in (H, W, C) order,
    where a PyTorch twin flattens (C, H, W): the first layer after them sees its inputs permuted.
    """
    if min(height, width) >= 36:
        # The Nature DQN layers, made for 84x84 Atari frames
        layers = [conv(in_channels, 32, 8, 4, rngs=rngs), activation,
                  conv(32, 64, 4, 2, rngs=rngs), activation,
                  conv(64, 64, 3, 1, rngs=rngs), activation]
    else:
        # Scaled down for small grids such as MinAtar's 10x10 (one layer, as in the MinAtar paper)
        layers = [conv(in_channels, 16, 3, 1, rngs=rngs), activation]
    net = nnx.Sequential(*layers, flatten_image)
    # The size only: eval_shape traces the layers without computing anything.
    n_features = jax.eval_shape(net, jax.ShapeDtypeStruct((1, height, width, in_channels), jnp.float32)).shape[-1]
    return net, n_features


class MLPQFunction(nnx.Module):
    """Q(s, .) for vector observations: an MLP with one output per action."""

    def __init__(self, obs_dim, n_actions, hidden_sizes, activation, obs_scale=1.0, *, rngs: nnx.Rngs):
        self.obs_scale = obs_scale
        self.q = mlp([obs_dim, *hidden_sizes, n_actions], activation, rngs=rngs)

    def __call__(self, obs):
        return self.q(jnp.asarray(obs, jnp.float32) * self.obs_scale)


class CNNQFunction(nnx.Module):
    """Q(s, .) for image observations: convolutional layers, then an MLP with one output per action.

    Observations arrive as stored (uint8 pixels, or 0/1 for MinAtar's boolean channels) and are
    cast to float here, scaled to [0, 1], and moved to HxWxC if they are CxHxW.
    """

    def __init__(self, obs_shape, n_actions, hidden_sizes, activation, channels_last, obs_scale,
                 *, rngs: nnx.Rngs):
        h, w, c = obs_shape if channels_last else (obs_shape[1], obs_shape[2], obs_shape[0])
        self.channels_last, self.obs_scale = channels_last, obs_scale
        self.conv, n_features = cnn(c, h, w, activation, rngs=rngs)
        self.head = mlp([n_features, *hidden_sizes, n_actions], activation, rngs=rngs)

    def __call__(self, obs):
        x = jnp.asarray(obs, jnp.float32) * self.obs_scale
        if not self.channels_last:
            x = jnp.moveaxis(x, -3, -1)
        return self.head(self.conv(x))


class QNetwork(nnx.Module):
    """The action-value function ``q`` of DQN, with one output per discrete action.

    A convolutional ``q`` for image observations (a Box with three axes, HxWxC or CxHxW), an MLP
    otherwise: the observation space decides. uint8 observations are scaled to [0, 1] inside the
    network, whether they are pixels or a vector of bytes such as ALE's RAM.

    Args:
        observation_space: A one-dimensional Box (``spinup.utils.envs`` flattens others) or an image Box.
        action_space: A Discrete space. Output ``i`` of ``q`` scores the environment's action
            ``action_space.start + i``.
        hidden_sizes: Widths of the hidden layers of the MLP (after the convolutions, for images).
        activation: The hidden layers' activation, a function such as ``jax.nn.relu``.
        channels_first: For images, whether the channel axis comes first (CxHxW). ``None`` reads it
            from the shape, and refuses a shape such as (10, 10, 10) whose end axes are equally
            long. Ignored for vectors.
        rngs: Where the initial weights' randomness comes from (``nnx.Rngs(seed)``); ``None`` means
            ``nnx.Rngs(0)``, for a module whose weights are about to be loaded.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nnx.relu,
                 channels_first=None, *, rngs: nnx.Rngs | None = None):
        rngs = nnx.Rngs(0) if rngs is None else rngs
        n_actions = int(action_space.n)
        obs_scale = obs_scale_for(observation_space)
        if is_image_space(observation_space):
            obs_shape = observation_space.shape
            channels_last = not is_channels_first(obs_shape, channels_first)
            self.q = CNNQFunction(obs_shape, n_actions, hidden_sizes, activation, channels_last, obs_scale, rngs=rngs)
        else:
            self.q = MLPQFunction(observation_space.shape[0], n_actions, hidden_sizes, activation, obs_scale,
                                  rngs=rngs)

    def act(self, obs, deterministic=False, key=None):
        """The index (from 0) of the greedy action argmax_a Q(obs, a), as a JAX integer array.

        An environment that numbers its actions from ``start`` (``Discrete(n, start=k)``) gets
        ``start + index``: the training loop and ``test_policy`` add it, as they do for the
        on-policy algorithms.

        DQN's policy is greedy, so ``deterministic`` and ``key`` are ignored; exploration
        (epsilon-greedy) happens in the algorithm, not here.
        """
        return self.q(obs).argmax(axis=-1)
