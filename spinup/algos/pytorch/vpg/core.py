"""Networks and small math helpers for the on-policy algorithms (VPG, TRPO, PPO).

The same networks sit beside each of the three, so each folder can be read on its own.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import torch
import torch.nn as nn
from gymnasium.spaces import Box, Discrete
from torch.distributions.categorical import Categorical
from torch.distributions.normal import Normal


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
    """Entry t is the sum over k >= t of discount^(k - t) * x[k]: a discounted sum to the end.

    With discount d, ``[a, b, c]`` becomes ``[a + d b + d^2 c, b + d c, c]``: rewards become
    rewards-to-go, and TD errors become GAE advantages.
    """
    # A first-order IIR filter run backwards computes y[t] = x[t] + discount * y[t+1] in C.
    return scipy.signal.lfilter([1], [1, float(-discount)], x[::-1], axis=0)[::-1]


class Actor(nn.Module):
    """A stochastic policy pi(a|s): subclasses say which distribution it is."""

    def _distribution(self, obs):
        raise NotImplementedError

    def _log_prob_from_distribution(self, pi, act):
        raise NotImplementedError

    def forward(self, obs, act=None):
        """The action distribution for ``obs`` and, if ``act`` is given, its log-likelihood."""
        pi = self._distribution(obs)
        logp_a = None
        if act is not None:
            logp_a = self._log_prob_from_distribution(pi, act)
        return pi, logp_a


class MLPCategoricalActor(Actor):
    """pi(a|s) = Categorical(softmax(logits(s))) for Discrete action spaces."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0):
        super().__init__()
        self.logits_net = mlp([obs_dim, *hidden_sizes, act_dim], activation)
        self.obs_scale = obs_scale

    def _distribution(self, obs):
        return Categorical(logits=self.logits_net(_scaled(obs, self.obs_scale)), validate_args=False)

    def _log_prob_from_distribution(self, pi, act):
        return pi.log_prob(act)


class MLPGaussianActor(Actor):
    """pi(a|s) = N(mu(s), diag(exp(log_std))^2) for Box action spaces.

    The log standard deviations are free parameters, not outputs of the network: a common and
    stable choice for on-policy methods. They start at -0.5 (std about 0.6).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation, obs_scale=1.0):
        super().__init__()
        self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))
        self.mu_net = mlp([obs_dim, *hidden_sizes, act_dim], activation)
        self.obs_scale = obs_scale

    def _distribution(self, obs):
        return Normal(self.mu_net(_scaled(obs, self.obs_scale)), torch.exp(self.log_std), validate_args=False)

    def _log_prob_from_distribution(self, pi, act):
        # The action dimensions are independent, so the joint log-likelihood is the sum.
        return pi.log_prob(act).sum(axis=-1)


class MLPCritic(nn.Module):
    """The state-value function V(s)."""

    def __init__(self, obs_dim, hidden_sizes, activation, obs_scale=1.0):
        super().__init__()
        self.v_net = mlp([obs_dim, *hidden_sizes, 1], activation)
        self.obs_scale = obs_scale

    def forward(self, obs):
        # Shape (batch,), not (batch, 1): V is compared with returns of shape (batch,).
        return torch.squeeze(self.v_net(_scaled(obs, self.obs_scale)), -1)


class MLPActorCritic(nn.Module):
    """A policy and a value function with separate MLPs, for Box or Discrete action spaces.

    Args:
        observation_space (gymnasium.spaces.Box): One-dimensional (``spinup.utils.envs`` flattens
            others). With dtype uint8 the networks scale its values by 1/255 (see ``obs_scale``).
        action_space (gymnasium.spaces.Space): A Box (Gaussian policy) or Discrete (categorical
            policy) space.
        hidden_sizes (tuple of int): Widths of the hidden layers of both networks.
        activation (type): The hidden layers' activation, a ``torch.nn`` module class.
    """

    def __init__(self, observation_space, action_space, hidden_sizes=(64, 64), activation=nn.Tanh):
        super().__init__()
        obs_dim, scale = observation_space.shape[0], obs_scale(observation_space)
        if isinstance(action_space, Box):
            self.pi = MLPGaussianActor(obs_dim, action_space.shape[0], hidden_sizes, activation, scale)
        elif isinstance(action_space, Discrete):
            self.pi = MLPCategoricalActor(obs_dim, int(action_space.n), hidden_sizes, activation, scale)
        else:
            raise TypeError(f"MLPActorCritic supports Box and Discrete action spaces, not {action_space}.")
        self.v = MLPCritic(obs_dim, hidden_sizes, activation, scale)

    def step(self, obs):
        """Sample an action for ``obs``; return it with V(obs) and its log-prob, as numpy."""
        # inference_mode: no autograd bookkeeping at all (about 10% faster per step than no_grad);
        # the results leave as numpy arrays, so nothing here is ever differentiated.
        with torch.inference_mode():
            pi = self.pi._distribution(obs)
            a = pi.sample()
            logp_a = self.pi._log_prob_from_distribution(pi, a)
            v = self.v(obs)
        return a.numpy(), v.numpy(), logp_a.numpy()

    def act(self, obs, deterministic=False):
        """An action for ``obs``: a sample, or the distribution's mode when ``deterministic``.

        The training loop acts through this: it needs neither V(obs) nor the log-prob, which
        are computed for the whole epoch at once when the batch is complete.
        """
        with torch.inference_mode():
            pi = self.pi._distribution(obs)
            if not deterministic:
                return pi.sample().numpy()
            mode = pi.probs.argmax(-1) if isinstance(pi, Categorical) else pi.mean
        return mode.numpy()


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
