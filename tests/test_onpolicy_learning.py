"""Slow learning checks: each on-policy algorithm must actually solve a small task.

Each check runs three seeds and passes when at least two reach the target, as the issues ask.
Run them with `make test-slow`.
"""

import os
import subprocess
import sys

import pandas as pd
import pytest

from spinup import ppo, trpo, vpg
from spinup.utils.envs import make_env_fn
from learning_checks import passes_on_two_of_three as two_of_three

pytestmark = pytest.mark.slow


def best_average_return(algo, env_name, steps, tmp_path, seed, **kwargs):
    """Train, then return the highest epoch-average episode return seen (the curve's plateau)."""
    out = tmp_path / f"{algo.__name__}_{seed}"
    algo(make_env_fn(env_name), seed=seed, logger_kwargs=dict(output_dir=str(out)), **kwargs,
         epochs=steps // kwargs.get("steps_per_epoch", 4000))
    progress = pd.read_table(out / "progress.txt")
    assert progress["TotalEnvInteracts"].iloc[-1] <= steps
    return progress["AverageEpRet"].max(), progress["AverageEpRet"].tolist()


def passes_on_two_of_three(algo, env_name, steps, target, tmp_path, **kwargs):
    def best(seed):
        best, _ = best_average_return(algo, env_name, steps, tmp_path, seed, **kwargs)
        print(f"{algo.__name__} {env_name} seed {seed}: best average return {best:.1f}")
        return best

    two_of_three(best, algo.__name__, env_name, target)


def test_ppo_cartpole(tmp_path):
    # Issue 3: >= 450 within 200k steps.
    passes_on_two_of_three(ppo, "CartPole-v1", 200_000, 450, tmp_path)


def test_vpg_cartpole(tmp_path):
    # Issue 4: >= 450 within 300k steps. One gradient step per epoch learns slowly at the default
    # pi_lr=3e-4, so this check raises it to 1e-2 (as the simplest policy gradient uses).
    passes_on_two_of_three(vpg, "CartPole-v1", 300_000, 450, tmp_path, pi_lr=1e-2)


def test_trpo_cartpole(tmp_path):
    passes_on_two_of_three(trpo, "CartPole-v1", 300_000, 450, tmp_path)


def test_trpo_inverted_pendulum(tmp_path):
    # Issue 4: >= 900 within 150k steps.
    passes_on_two_of_three(trpo, "InvertedPendulum-v5", 150_000, 900, tmp_path)


def test_ppo_inverted_pendulum(tmp_path):
    passes_on_two_of_three(ppo, "InvertedPendulum-v5", 150_000, 900, tmp_path)



def test_ppo_cartpole_two_processes(tmp_path):
    # PPO under MPI: two ranks share the 4000-step epoch (2000 each) and average their gradients, and
    # must still reach the one-process bar, >= 450 within 200k steps.
    from spinup.utils import mpi_tools

    if not mpi_tools.mpi_available():
        pytest.skip('needs the mpi extra: pip install "spinup[mpi]"')

    def best(seed):
        r = subprocess.run(
            [sys.executable, "-m", "spinup.run", "ppo", "--env", "CartPole-v1", "--cpu", "2", "--epochs", "50",
             "--seed", str(seed), "--exp_name", "m"],
            cwd=tmp_path, capture_output=True, text=True, timeout=3600, env=dict(os.environ),
        )
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        progress = pd.read_table(tmp_path / "data" / "m" / f"m_s{seed}" / "progress.txt")
        assert progress["TotalEnvInteracts"].iloc[-1] == 200_000
        print(f"ppo --cpu 2 CartPole-v1 seed {seed}: best average return {progress['AverageEpRet'].max():.1f}")
        return progress["AverageEpRet"].max()

    two_of_three(best, "ppo --cpu 2", "CartPole-v1", 450)
