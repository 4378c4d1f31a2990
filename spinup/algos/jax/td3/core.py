"""Networks and small helpers for TD3, in JAX: a deterministic policy and two Q-functions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

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


class MLPActor(nnx.Module):
    """The deterministic policy mu(s) = act_limit * tanh(mlp(obs_scale * s))."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale=1.0, *, rngs: nnx.Rngs):
        self.pi = mlp([obs_dim, *hidden_sizes, act_dim], activation, nnx.tanh, rngs=rngs)
        self.act_limit, self.obs_scale = act_limit, obs_scale

    def __call__(self, obs):
        # tanh keeps the output in (-1, 1); scaling it fills the action space's bounds.
        return self.act_limit * self.pi(obs * self.obs_scale)


class MLPQFunction(nnx.Module):
    """The action-value function Q(s, a), an MLP of (obs_scale * s, a)."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0, *, rngs: nnx.Rngs):
        self.q = mlp([obs_dim + act_dim, *hidden_sizes, 1], activation, rngs=rngs)
        self.obs_scale = obs_scale

    def __call__(self, obs, act):
        # Shape (batch,), not (batch, 1): Q is compared with backups of shape (batch,).
        return jnp.squeeze(self.q(jnp.concatenate([obs * self.obs_scale, act], axis=-1)), -1)


class MLPActorCritic(nnx.Module):
    """A deterministic policy ``pi`` and two Q-functions ``q1``, ``q2``, each its own MLP.

    Args:
        observation_space: A one-dimensional Box space (``spinup.utils.envs`` flattens others).
        action_space: A Box space whose bounds are ``[-act_limit, act_limit]`` in every dimension.
        hidden_sizes: Widths of the hidden layers of every network.
        activation: The hidden layers' activation, a function such as ``jax.nn.relu``.
        rngs: Where the initial weights' randomness comes from (``nnx.Rngs(seed)``); ``None`` means
            ``nnx.Rngs(0)``, for a module whose weights are about to be loaded.

    Observations are taken as the environment gives them. When the space's dtype is uint8
    (pixels, or bytes of RAM) every network first divides them by 255, so its inputs lie in [0, 1]
    like those of other tasks; the algorithm, its buffer and ``spinup test_policy`` need not know.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(256, 256), activation=nnx.relu,
                 *, rngs: nnx.Rngs | None = None):
        rngs = nnx.Rngs(0) if rngs is None else rngs
        obs_dim = observation_space.shape[0]
        act_dim = action_space.shape[0]
        act_limit = float(action_space.high[0])
        obs_scale = 1.0 / 255 if observation_space.dtype == np.uint8 else 1.0
        self.pi = MLPActor(obs_dim, act_dim, hidden_sizes, activation, act_limit, obs_scale, rngs=rngs)
        self.q1 = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation, obs_scale, rngs=rngs)
        self.q2 = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation, obs_scale, rngs=rngs)

    def act(self, obs, deterministic=False, key=None):
        """mu(obs) as a JAX array. The policy is deterministic: ``deterministic`` and ``key`` are ignored."""
        return self.pi(obs)
