"""Solution to exercise 1.1: the log-likelihood of a diagonal Gaussian."""

import math

import torch


def gaussian_likelihood(x: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-likelihood of each row of ``x`` (batch, dim) under N(mu, diag(exp(log_std))^2): (batch,)."""
    # Standardise first: z = (x - mu) / sigma, so -(x - mu)^2 / (2 sigma^2) = -z^2 / 2.
    z = (x - mu) * torch.exp(-log_std)
    per_dim = -0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)
    # The dimensions are independent: the joint log-likelihood is the sum over the last axis.
    return per_dim.sum(dim=-1)


if __name__ == "__main__":
    from spinup.exercises.checkers import main_for_file

    raise SystemExit(main_for_file("1.1", __file__))
