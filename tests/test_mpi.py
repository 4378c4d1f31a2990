"""MPI data parallelism: gradient averaging under a real mpirun, and --cpu 2 from the command line."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spinup.utils import mpi_tools

needs_mpi = pytest.mark.skipif(not mpi_tools.mpi_available(), reason='needs the mpi extra: pip install "spinup[mpi]"')
HERE = Path(__file__).parent


def mpirun_check(script, *args, timeout):
    """Run the check ``script`` (beside this file) on two processes under mpirun; it must print OK."""
    cmd = mpi_tools.mpirun_command(2) + [sys.executable, str(HERE / script), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=mpi_tools.mpirun_env())
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "OK" in r.stdout


@needs_mpi
def test_averaged_gradient_equals_gradient_over_union():
    mpirun_check("mpi_grad_check.py", timeout=180)


@needs_mpi
def test_resume_gives_each_rank_its_own_state(tmp_path):
    mpirun_check("mpi_resume_check.py", tmp_path, timeout=600)


@needs_mpi
@pytest.mark.parametrize("algo", ["ppo", "vpg", "trpo"])
def test_cli_two_processes_count_all_steps(algo, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "spinup.run", algo, "--env", "CartPole-v1", "--cpu", "2", "--epochs", "2",
         "--steps_per_epoch", "1000", "--train_v_iters", "5", "--exp_name", "m"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    progress = pd.read_table(tmp_path / "data" / "m" / "m_s0" / "progress.txt")
    assert list(progress["TotalEnvInteracts"]) == [1000, 2000]  # 500 steps on each of 2 processes
    assert len(progress) == 2  # one writer: rank 0


def test_cpu_2_without_mpi_says_how_to_install(monkeypatch, capsys):
    from spinup import run

    monkeypatch.setattr(mpi_tools, "mpi_available", lambda: False)
    with pytest.raises(SystemExit) as e:
        run.main(["ppo", "--env", "CartPole-v1", "--cpu", "2"])
    assert e.value.code == 2
    assert 'pip install "spinup[mpi]"' in capsys.readouterr().err


def test_cpu_2_for_off_policy_is_refused(capsys):
    from spinup import run

    with pytest.raises(SystemExit) as e:
        run.main(["ddpg", "--env", "Pendulum-v1", "--cpu", "2"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--cpu applies to vpg, trpo, ppo, vpg_jax, trpo_jax, ppo_jax only" in err or "not available" in err
