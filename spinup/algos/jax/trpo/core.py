"""Networks and small math helpers for the on-policy algorithms (VPG, TRPO, PPO), in JAX.

The same networks sit beside each of the three, so each folder can be read on its own.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal
from flax import nnx
from jax.flatten_util import ravel_pytree
from gymnasium.spaces import Box, Discrete


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


def obs_scale(observation_space) -> float:
    """The factor the networks multiply observations by: 1/255 for uint8 ones, 1 otherwise.

    Bytes (image pixels, an Atari console's RAM) run from 0 to 255; scaled to [0, 1] they sit in
    the range where tanh layers and the default initialisation work, as DQN's network does too.
    The buffers keep the raw values; every network applies the factor itself, so acting,
    the batched pass at the end of an epoch and a reloaded policy all see the same inputs.
    """
    return 1.0 / 255 if getattr(observation_space, "dtype", None) == np.uint8 else 1.0


def _scaled(obs, scale: float):
    return obs if scale == 1.0 else obs * scale


def discount_cumsum(x: np.ndarray, discount: float) -> np.ndarray:
    """Discounted cumulative sums of a vector, from each index to the end.

    y[t] = sum over k >= 0 of discount^k * x[t + k]; so [1, 1, 1] with discount 0.5 gives
    [1.75, 1.5, 1].
    """
    # A first-order IIR filter run backwards computes y[t] = x[t] + discount * y[t+1] in C.
    return scipy.signal.lfilter([1], [1, float(-discount)], x[::-1], axis=0)[::-1]


# The two distributions, written out rather than taken from a probability library. They are
# NamedTuples, so JAX treats them as pytrees: they pass in and out of jitted functions.


class Normal(NamedTuple):
    """Independent normal distributions with means ``loc`` and standard deviations ``scale``."""

    loc: jax.Array
    scale: jax.Array

    @property
    def mean(self):
        return self.loc

    def sample(self, key):
        return self.loc + self.scale * jax.random.normal(key, jnp.shape(self.loc))

    def log_prob(self, x):
        # log N(x; mu, sigma) = -(x - mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi), per dimension
        return -((x - self.loc) ** 2) / (2 * self.scale**2) - jnp.log(self.scale) - 0.5 * np.log(2 * np.pi)

    def entropy(self):
        # Depends only on sigma; broadcast to the means' shape, as a batch of distributions has.
        return jnp.broadcast_to(0.5 + 0.5 * np.log(2 * np.pi) + jnp.log(self.scale), jnp.shape(self.loc))


class Categorical(NamedTuple):
    """A distribution over ``logits.shape[-1]`` classes, with probabilities softmax(logits)."""

    logits: jax.Array

    @property
    def probs(self):
        return jax.nn.softmax(self.logits, axis=-1)

    def sample(self, key):
        return jax.random.categorical(key, self.logits, axis=-1)

    def log_prob(self, act):
        logp_all = jax.nn.log_softmax(self.logits, axis=-1)
        return jnp.take_along_axis(logp_all, jnp.asarray(act, jnp.int32)[..., None], axis=-1)[..., 0]

    def entropy(self):
        # A probability of 0 has log-prob -inf and contributes 0 * -inf = nan: clip the log first.
        logp_all = jnp.maximum(jax.nn.log_softmax(self.logits, axis=-1), jnp.finfo(self.logits.dtype).min)
        return -(self.probs * logp_all).sum(-1)


class Actor(nnx.Module):
    """A stochastic policy pi(a|s): subclasses say which distribution it is."""

    def _distribution(self, obs):
        raise NotImplementedError

    def _log_prob_from_distribution(self, pi, act):
        raise NotImplementedError

    def __call__(self, obs, act=None):
        """The action distribution for ``obs`` and, if ``act`` is given, its log-likelihood."""
        pi = self._distribution(obs)
        logp_a = None
        if act is not None:
            logp_a = self._log_prob_from_distribution(pi, act)
        return pi, logp_a


class MLPCategoricalActor(Actor):
    """pi(a|s) = Categorical(softmax(logits(s))) for Discrete action spaces."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0, *, rngs: nnx.Rngs):
        self.logits_net = mlp([obs_dim, *hidden_sizes, act_dim], activation, rngs=rngs)
        self.obs_scale = obs_scale

    def _distribution(self, obs):
        return Categorical(logits=self.logits_net(_scaled(obs, self.obs_scale)))

    def _log_prob_from_distribution(self, pi, act):
        return pi.log_prob(act)


class MLPGaussianActor(Actor):
    """pi(a|s) = N(mu(s), diag(exp(log_std))^2) for Box action spaces.

    The log standard deviations are free parameters, not outputs of the network: a common and
    stable choice for on-policy methods. They start at -0.5 (std about 0.6).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0, *, rngs: nnx.Rngs):
        # float32, not the weakly typed array jnp.full makes from a Python float: after the first
        # optimiser step the parameter would turn strongly typed and every jitted function recompile.
        self.log_std = nnx.Param(jnp.full((act_dim,), -0.5, dtype=jnp.float32))
        self.mu_net = mlp([obs_dim, *hidden_sizes, act_dim], activation, rngs=rngs)
        self.obs_scale = obs_scale

    def _distribution(self, obs):
        return Normal(self.mu_net(_scaled(obs, self.obs_scale)), jnp.exp(self.log_std[...]))

    def _log_prob_from_distribution(self, pi, act):
        # The action dimensions are independent, so the joint log-likelihood is the sum.
        return pi.log_prob(act).sum(axis=-1)


class MLPCritic(nnx.Module):
    """The state-value function V(s)."""

    def __init__(self, obs_dim, hidden_sizes, activation, obs_scale=1.0, *, rngs: nnx.Rngs):
        self.v_net = mlp([obs_dim, *hidden_sizes, 1], activation, rngs=rngs)
        self.obs_scale = obs_scale

    def __call__(self, obs):
        # Shape (batch,), not (batch, 1): V is compared with returns of shape (batch,).
        return jnp.squeeze(self.v_net(_scaled(obs, self.obs_scale)), -1)


class MLPActorCritic(nnx.Module):
    """A policy and a value function with separate MLPs, for Box or Discrete action spaces.

    Args:
        observation_space: A one-dimensional Box space (``spinup.utils.envs`` flattens others).
            With dtype uint8 the networks scale its values by 1/255 (see ``obs_scale``).
        action_space: A Box (Gaussian policy) or Discrete (categorical policy) space.
        hidden_sizes: Widths of the hidden layers of both networks.
        activation: The hidden layers' activation, a function such as ``jax.nn.tanh``.
        rngs: Where the initial weights' randomness comes from (``nnx.Rngs(seed)``); ``None`` means
            ``nnx.Rngs(0)``, for a module whose weights are about to be loaded.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nnx.tanh,
                 *, rngs: nnx.Rngs | None = None):
        rngs = nnx.Rngs(0) if rngs is None else rngs
        obs_dim, scale = observation_space.shape[0], obs_scale(observation_space)
        if isinstance(action_space, Box):
            self.pi = MLPGaussianActor(obs_dim, action_space.shape[0], hidden_sizes, activation, scale, rngs=rngs)
        elif isinstance(action_space, Discrete):
            self.pi = MLPCategoricalActor(obs_dim, int(action_space.n), hidden_sizes, activation, scale, rngs=rngs)
        else:
            raise TypeError(f"MLPActorCritic supports Box and Discrete action spaces, not {action_space}.")
        self.v = MLPCritic(obs_dim, hidden_sizes, activation, scale, rngs=rngs)

    def step(self, obs, key):
        """Sample an action for ``obs`` with PRNG ``key``; return it with V(obs) and its log-prob.

        The results are JAX arrays; call this inside a jitted function and turn them into numpy
        outside it. Nothing here is differentiated, so no ``stop_gradient`` is needed.
        """
        pi = self.pi._distribution(obs)
        a = pi.sample(key)
        logp_a = self.pi._log_prob_from_distribution(pi, a)
        v = self.v(obs)
        return a, v, logp_a

    def act(self, obs, deterministic=False, key=None):
        """An action for ``obs``: a sample drawn with ``key``, or the distribution's mode when
        ``deterministic`` (then ``key`` may be ``None``).

        The training loop acts through this: it needs neither V(obs) nor the log-prob, which
        are computed for the whole epoch at once when the batch is complete.
        """
        pi = self.pi._distribution(obs)
        if not deterministic:
            if key is None:
                raise ValueError("act() needs a PRNG key to sample an action; pass key= or deterministic=True.")
            return pi.sample(key)
        mode = pi.probs.argmax(-1) if isinstance(pi, Categorical) else pi.mean
        return mode


def to_env_action(a: np.ndarray, action_space):
    """Turn what the policy sampled into what the environment accepts.

    A Gaussian sample can fall outside a Box, so it is clipped to the bounds. A categorical sample
    is an index 0..n-1, and a ``Discrete(n, start=k)`` space numbers its actions k..k+n-1, so the
    index is shifted by ``start``. The buffer keeps the sample itself: its log-prob is the one the
    policy computed.
    """
    if isinstance(action_space, Box):
        return np.clip(a, action_space.low, action_space.high)
    return int(a) + int(action_space.start)


# ----------------------------------------------------------------------------------------------
# TRPO only: flat parameter vectors, the mean KL, Hessian-vector products and conjugate gradient.
# ----------------------------------------------------------------------------------------------


def flat_grad(f, params) -> jax.Array:
    """The gradient of the scalar function ``f`` at the pytree ``params``, as one flat vector."""
    return ravel_pytree(jax.grad(f)(params))[0]


def get_flat_params_from(module: nnx.Module) -> jax.Array:
    return ravel_pytree(nnx.state(module, nnx.Param))[0]


def set_flat_params_to(module: nnx.Module, flat_params: jax.Array) -> None:
    # ravel_pytree orders the leaves as the state does, so its inverse puts each slice back in place.
    _, unravel = ravel_pytree(nnx.state(module, nnx.Param))
    nnx.update(module, unravel(flat_params))


def kl_divergence(p, q) -> jax.Array:
    """KL(p || q) for two Normals (per dimension) or two Categoricals (per state)."""
    if isinstance(p, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - jnp.log(var_ratio))
    logp, logq = jax.nn.log_softmax(p.logits, axis=-1), jax.nn.log_softmax(q.logits, axis=-1)
    # Classes that p never picks add nothing, even where q's log-prob is -inf.
    return jnp.where(p.probs > 0, p.probs * (logp - logq), 0.0).sum(-1)


def mean_kl(pi_old, pi_new) -> jax.Array:
    """Average over states of KL(pi_old(.|s) || pi_new(.|s))."""
    kl = kl_divergence(pi_old, pi_new)
    if kl.ndim > 1:
        kl = kl.sum(-1)  # independent Gaussian action dimensions: their KLs add up
    return kl.mean()


def hessian_vector_product(f, flat_params: jax.Array, x: jax.Array) -> jax.Array:
    """H x, where H is the Hessian of the scalar function ``f`` of a flat parameter vector.

    The derivative of grad f in the direction x (forward over reverse mode) gives H x without
    ever forming H.
    """
    return jax.jvp(jax.grad(f), (flat_params,), (x,))[1]


def conjugate_gradient(Ax, b: jax.Array, iters: int = 10, residual_tol: float = 1e-10) -> jax.Array:
    """Approximately solve A x = b for symmetric positive-definite A, given only ``Ax(v)`` = A v.

    A Python loop, so it stops early as soon as the residual is small; jit ``Ax``, which does the work.
    """
    x = jnp.zeros_like(b)
    r = b  # residual b - A x, with x = 0
    p = r  # search direction
    r_dot_old = jnp.dot(r, r)
    for _ in range(iters):
        z = Ax(p)
        alpha = r_dot_old / (jnp.dot(p, z) + 1e-8)
        x += alpha * p
        r -= alpha * z
        r_dot_new = jnp.dot(r, r)
        if r_dot_new < residual_tol:
            break
        p = r + (r_dot_new / r_dot_old) * p
        r_dot_old = r_dot_new
    return x
