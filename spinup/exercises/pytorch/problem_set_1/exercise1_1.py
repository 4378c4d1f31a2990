"""Exercise 1.1: the log-likelihood of a diagonal Gaussian.

A stochastic policy for continuous actions is often a diagonal Gaussian: the action
a = mu + sigma * z, z ~ N(0, I), has independent dimensions, each with its own mean mu_i
(an output of a network) and standard deviation sigma_i = exp(log_std_i) (free parameters).
Policy-gradient methods need log pi(a|s), the log-likelihood of an action, for a whole batch.

Your task: fill in ``gaussian_likelihood`` below. For one sample of k dimensions,

    log N(x | mu, sigma) = sum_i [ -(x_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi) / 2 ]

Work in log space (use ``log_std`` directly rather than taking the log of ``exp(log_std)``), use
torch operations only so that gradients can flow through ``mu`` and ``log_std``, and do not use
``torch.distributions``: the point is to write the formula yourself.

Check your work:

    spinup exercise 1.1 --file path/to/your/copy/of/exercise1_1.py
"""

import torch


def gaussian_likelihood(x: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-likelihood of each row of ``x`` under a diagonal Gaussian.

    Args:
        x: Samples, shape (batch, dim).
        mu: Means, shape (batch, dim): one mean vector per sample.
        log_std: Log standard deviations, shape (dim,): shared by every sample in the batch.

    Returns:
        A tensor of shape (batch,): entry j is log N(x[j] | mu[j], diag(exp(log_std))^2).
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("gaussian_likelihood: fill in the YOUR CODE HERE part")


if __name__ == "__main__":
    from spinup.exercises.checkers import main_for_file

    raise SystemExit(main_for_file("1.1", __file__))
