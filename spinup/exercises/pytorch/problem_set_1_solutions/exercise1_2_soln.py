"""Solution to exercise 1.2: a Gaussian policy for PPO."""

import torch
import torch.nn as nn
from torch.distributions.normal import Normal

from spinup.algos.pytorch.ppo.core import Actor


def mlp(sizes, activation, output_activation=nn.Identity) -> nn.Sequential:
    """An MLP with layer widths ``sizes``; ``activation`` and ``output_activation`` are classes."""
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


class MLPGaussianActor(Actor):
    """pi(a|s) = N(mu(s), diag(exp(log_std))^2) with mu an MLP and log_std free parameters."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes, activation):
        super().__init__()
        # A state-independent standard deviation is simple and stable for on-policy methods.
        self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))
        self.mu_net = mlp([obs_dim, *hidden_sizes, act_dim], activation)

    def _distribution(self, obs: torch.Tensor):
        return Normal(self.mu_net(obs), torch.exp(self.log_std))

    def _log_prob_from_distribution(self, pi, act: torch.Tensor) -> torch.Tensor:
        # Normal.log_prob is per dimension; independent dimensions add up in log space.
        return pi.log_prob(act).sum(dim=-1)


if __name__ == "__main__":
    from spinup.exercises.checkers import main_for_file

    raise SystemExit(main_for_file("1.2", __file__))
