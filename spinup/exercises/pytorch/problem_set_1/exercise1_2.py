"""Exercise 1.2: a Gaussian policy for PPO.

PPO needs a stochastic policy pi(a|s) it can sample from and whose log-likelihoods it can
differentiate. For continuous actions the usual choice is a diagonal Gaussian whose mean is the
output of a multi-layer perceptron (MLP) and whose log standard deviations are free parameters,
the same for every state.

Your task: fill in the three gaps below.

1. ``mlp(sizes, activation, output_activation)``: a ``torch.nn.Sequential`` of ``Linear`` layers
   with widths ``sizes`` (input first, output last), ``activation`` after every hidden layer and
   ``output_activation`` after the last one.
2. ``MLPGaussianActor.__init__``: a learnable vector ``self.log_std`` of ``act_dim`` entries,
   initialised to -0.5 (a standard deviation of about 0.6), and a mean network ``self.mu_net``.
3. ``MLPGaussianActor._distribution`` and ``_log_prob_from_distribution``: the action
   distribution for a batch of observations, and the log-likelihood of a batch of actions under
   it, one number per action (the dimensions are independent). You may use
   ``torch.distributions.Normal`` here.

The checker first tests shapes and log-likelihoods on a small batch (a second), then trains your
policy with spinup's PPO on InvertedPendulum-v5 (a few minutes) and passes it when the average
return of the last epochs reaches 500 (the maximum is 1000):

    spinup exercise 1.2 --file path/to/your/copy/of/exercise1_2.py
    spinup exercise 1.2 --file path/to/your/copy/of/exercise1_2.py --quick   (shapes only)
"""

import torch
import torch.nn as nn
from torch.distributions.normal import Normal  # noqa: F401  (you will want it)

from spinup.algos.pytorch.ppo.core import Actor


def mlp(sizes, activation, output_activation=nn.Identity) -> nn.Sequential:
    """An MLP with layer widths ``sizes``; ``activation`` and ``output_activation`` are classes.

    Example: ``mlp([4, 64, 64, 1], nn.Tanh)`` maps a (batch, 4) tensor to (batch, 1) through
    two hidden layers of 64 units with tanh after each.
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("mlp: fill in the YOUR CODE HERE part")


class MLPGaussianActor(Actor):
    """pi(a|s) = N(mu(s), diag(exp(log_std))^2) with mu an MLP and log_std free parameters.

    The base class ``Actor`` supplies ``forward(obs, act=None)``, which returns
    ``(pi, logp_a)`` by calling the two methods below; PPO calls it.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes, activation):
        super().__init__()
        #######################
        #                     #
        #   YOUR CODE HERE    #
        #                     #
        #######################
        raise NotImplementedError("MLPGaussianActor.__init__: fill in the YOUR CODE HERE part")

    def _distribution(self, obs: torch.Tensor):
        """The action distribution for a batch of observations (batch, obs_dim)."""
        #######################
        #                     #
        #   YOUR CODE HERE    #
        #                     #
        #######################
        raise NotImplementedError("MLPGaussianActor._distribution: fill in the YOUR CODE HERE part")

    def _log_prob_from_distribution(self, pi, act: torch.Tensor) -> torch.Tensor:
        """log pi(a|s) for a batch of actions (batch, act_dim) under ``pi``: shape (batch,)."""
        #######################
        #                     #
        #   YOUR CODE HERE    #
        #                     #
        #######################
        raise NotImplementedError("MLPGaussianActor._log_prob_from_distribution: fill in the YOUR CODE HERE part")


if __name__ == "__main__":
    from spinup.exercises.checkers import main_for_file

    raise SystemExit(main_for_file("1.2", __file__))
