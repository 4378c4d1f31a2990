"""TensorBoard output, the progress bar, video of a policy, and sweeps on a local Ray."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from spinup import ppo
from spinup.utils.envs import make_env_fn
from spinup.utils.logx import EpochLogger


def test_tensorboard_event_file_holds_every_tabular_value(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = EpochLogger(output_dir=str(tmp_path), tensorboard=True)
    for epoch in range(3):
        logger.store(EpRet=[epoch, epoch + 2.0])
        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", average_only=True)
        logger.dump_tabular()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"Epoch", "EpRet"}
    events = acc.Scalars("EpRet")
    assert [e.step for e in events] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in events], [1, 2, 3])


def test_progress_bar_silent_without_terminal_and_shown_when_asked(tmp_path, capsys):
    logger = EpochLogger(output_dir=str(tmp_path / "a"))  # stdout is captured: not a terminal
    logger.save_config(dict(epochs=2, steps_per_epoch=10))
    logger.log_tabular("TotalEnvInteracts", 10)
    logger.dump_tabular()
    out = capsys.readouterr()
    assert "step/s" not in out.out + out.err

    logger = EpochLogger(output_dir=str(tmp_path / "b"), progress_bar=True, exp_name="bar")
    logger.save_config(dict(epochs=2, steps_per_epoch=10))
    logger.log_tabular("TotalEnvInteracts", 10)
    logger.log_tabular("AverageEpRet", 4.5)
    logger.dump_tabular()
    logger.progress.refresh()
    err = capsys.readouterr().err
    assert "10/20" in err and "return 4.5" in err


def _frames(path):
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]


@pytest.mark.parametrize("env_name", ["CartPole-v1", "InvertedPendulum-v5"])
def test_video_of_trained_policy(env_name, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    run = tmp_path / "run"
    ppo(make_env_fn(env_name), steps_per_epoch=200, epochs=1, train_pi_iters=2, train_v_iters=2,
        logger_kwargs=dict(output_dir=str(run), video_every=1))
    assert (run / "videos" / "epoch0.mp4").exists()  # recorded during training

    out = tmp_path / "policy.mp4"
    r = subprocess.run([sys.executable, "-m", "spinup.run", "test_policy", str(run), "--video", str(out),
                        "--episodes", "2", "--deterministic", "--len", "60"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    frames = _frames(out)
    n_written = int(r.stdout.split("Wrote ")[1].split(" frames")[0])
    assert len(frames) == n_written
    assert 2 < len(frames) <= 2 * 60 + 1  # the first frame, then one per step of two short episodes
    assert all(f.std() > 1.0 for f in frames[:: max(1, len(frames) // 5)])  # not blank


def test_sweep_on_local_ray(tmp_path):
    pytest.importorskip("ray")
    r = subprocess.run(
        [sys.executable, "-m", "spinup.run", "ppo", "--env", "CartPole-v1", "--epochs", "1", "--steps_per_epoch", "200",
         "--train_pi_iters", "2", "--train_v_iters", "2", "--seed", "0", "1", "--exp_name", "ray",
         "--backend", "ray", "--data_dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for seed in (0, 1):
        progress = pd.read_table(tmp_path / "data" / "ray" / f"ray_s{seed}" / "progress.txt")
        assert len(progress) == 1 and progress["TotalEnvInteracts"].iloc[0] == 200


@pytest.fixture
def ray_on_one_cpu():
    """A local Ray with one CPU, so a sweep's variants run one after another; the sweep uses it
    instead of starting its own."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow  # starting Ray and two runs one after another: about 80 s on a busy two-core machine
def test_ray_sweep_runs_every_variant_and_lists_the_failures(ray_on_one_cpu, tmp_path, capfd):
    from spinup import run

    with pytest.raises(SystemExit) as e:
        run.main(["ppo", "--env", "Pendulum-v1", "--exp_name", "d", "--pi_lr", "1e30", "3e-4", "--epochs", "1",
                  "--steps_per_epoch", "200", "--hid", "[8]", "--train_v_iters", "2", "--backend", "ray",
                  "--data_dir", str(tmp_path / "data")])
    err = capfd.readouterr().err
    assert e.value.code == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: 1 of 2 runs failed and the others finished: d_pi_1e30_s0 (Training diverged"), last
    assert len(pd.read_table(tmp_path / "data" / "d_pi_0-0003" / "d_pi_0-0003_s0" / "progress.txt")) == 1
