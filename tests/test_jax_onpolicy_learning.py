"""Slow learning checks for the JAX twins: the bars of their PyTorch checks, two seeds of three."""

import pytest

from spinup import ppo_jax, trpo_jax, vpg_jax
from test_onpolicy_learning import passes_on_two_of_three

pytestmark = pytest.mark.slow


def test_ppo_jax_cartpole(tmp_path):
    passes_on_two_of_three(ppo_jax, "CartPole-v1", 200_000, 450, tmp_path)


def test_ppo_jax_inverted_pendulum(tmp_path):
    passes_on_two_of_three(ppo_jax, "InvertedPendulum-v5", 150_000, 1000, tmp_path)


def test_trpo_jax_inverted_pendulum(tmp_path):
    passes_on_two_of_three(trpo_jax, "InvertedPendulum-v5", 150_000, 1000, tmp_path)


def test_vpg_jax_cartpole(tmp_path):
    # The PyTorch check's settings: one step per epoch needs pi_lr=1e-2 to learn within 300k steps.
    passes_on_two_of_three(vpg_jax, "CartPole-v1", 300_000, 500, tmp_path, pi_lr=1e-2)
