"""Slow learning checks for the JAX twins of DDPG, TD3, SAC and DQN: each must solve a small task.

The same rule and settings as the PyTorch checks (tests/test_offpolicy_learning.py): up to three
seeds, pass when two reach the target test return. Run them with `make test-slow`, one at a time
on a shared machine.
"""

import pytest

pytest.importorskip("jax")

from spinup import ddpg_jax, dqn_jax, sac_jax, td3_jax  # noqa: E402
from test_offpolicy_learning import INVERTED_PENDULUM, PENDULUM, passes_on_two_of_three  # noqa: E402

pytestmark = pytest.mark.slow


def test_td3_jax_pendulum(tmp_path):
    # >= -250 within 15k steps, as for the PyTorch twin.
    passes_on_two_of_three(td3_jax, "Pendulum-v1", 15_000, -250, tmp_path, **PENDULUM)


def test_sac_jax_pendulum(tmp_path):
    passes_on_two_of_three(sac_jax, "Pendulum-v1", 15_000, -250, tmp_path, **PENDULUM)


def test_ddpg_jax_pendulum(tmp_path):
    # >= -300 within 20k steps.
    passes_on_two_of_three(ddpg_jax, "Pendulum-v1", 20_000, -300, tmp_path, **PENDULUM)


def test_td3_jax_inverted_pendulum(tmp_path):
    # The best return there is, 1000, within 30k steps.
    passes_on_two_of_three(td3_jax, "InvertedPendulum-v5", 30_000, 1000, tmp_path, **INVERTED_PENDULUM)


def test_sac_jax_inverted_pendulum(tmp_path):
    passes_on_two_of_three(sac_jax, "InvertedPendulum-v5", 30_000, 1000, tmp_path, **INVERTED_PENDULUM)


def test_dqn_jax_cartpole(tmp_path):
    # The best return there is, 500, within 100k steps, with dqn's defaults apart from the epoch length.
    passes_on_two_of_three(dqn_jax, "CartPole-v1", 100_000, 500, tmp_path, steps_per_epoch=5000)
