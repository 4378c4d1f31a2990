"""The command line, as a user types it: a whole run, and every bad input refused in one sentence."""

import os
import subprocess
import sys

import pandas as pd

SPINUP = [sys.executable, "-m", "spinup.run"]


def spinup(*args, cwd, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DISPLAY", None)
    return subprocess.run(SPINUP + list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def assert_one_sentence_exit_2(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    err = result.stderr.strip().splitlines()
    assert err, "nothing was printed on stderr"
    last = err[-1]
    for fragment in fragments:
        assert fragment in last, last


def test_train_replay_and_plot(tmp_path):
    r = spinup("ppo", "--env", "CartPole-v1", "--exp_name", "t", "--epochs", "3", "--steps_per_epoch", "1000",
               "--hid", "[16,16]", "--act", "torch.nn.ReLU", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = tmp_path / "data" / "t" / "t_s0"
    progress = pd.read_table(run_dir / "progress.txt")
    assert len(progress) == 3
    assert list(progress["TotalEnvInteracts"]) == [1000, 2000, 3000]
    assert (run_dir / "config.json").exists() and (run_dir / "pyt_save" / "model.pt").exists()
    assert "spinup test_policy" in r.stdout  # tells the user what to do next

    r = spinup("test_policy", "data/t/t_s0", "--norender", "--episodes", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("EpRet") >= 3

    r = spinup("plot", "data/t", "--savefig", "out.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.png").stat().st_size > 10_000


def test_grid_from_command_line(tmp_path):
    r = spinup("ppo", "--env", "CartPole-v1", "--exp_name", "g", "--epochs", "1", "--steps_per_epoch", "200",
               "--seed", "0", "1", "--hid[h]", "[8]", "[16]", "--train_pi_iters", "2", "--train_v_iters", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    runs = sorted(p.name for p in (tmp_path / "data").glob("*/*"))
    assert runs == ["g_h16_s0", "g_h16_s1", "g_h8_s0", "g_h8_s1"]


def test_algorithm_help_prints_docstring(tmp_path):
    r = spinup("ppo", "--help", cwd=tmp_path)
    assert r.returncode == 0 and "clip_ratio" in r.stdout and "target_kl" in r.stdout


def test_plot_missing_column(tmp_path):
    run = tmp_path / "data" / "x" / "x_s0"
    run.mkdir(parents=True)
    (run / "progress.txt").write_text("Epoch\tAverageEpRet\tTotalEnvInteracts\n0\t1.0\t10\n1\t2.0\t20\n")
    r = spinup("plot", "data/x", "--value", "Nope", "--savefig", "p.png", cwd=tmp_path)
    assert_one_sentence_exit_2(r, "has no column 'Nope'", "AverageEpRet")
