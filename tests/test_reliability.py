"""Reliability: resume after a crash, Ctrl-C, reproducible runs, and numerical faults."""

import importlib
import os
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

from spinup.utils.checks import NumericalError, UserError

ON_POLICY = ["vpg", "trpo", "ppo"]
OFF_POLICY = ["ddpg", "td3", "sac", "dqn"]


def algorithm(name):
    return getattr(importlib.import_module("spinup"), name)


def small_kwargs(name):
    """Settings that make a run of a few epochs take seconds."""
    if name in ON_POLICY:
        kw = dict(steps_per_epoch=400, epochs=4, save_freq=1, train_v_iters=3)
        if name == "ppo":
            kw["train_pi_iters"] = 3
        return kw
    kw = dict(steps_per_epoch=300, epochs=4, save_freq=1, start_steps=200, update_after=200, update_every=50,
              batch_size=32, num_test_episodes=1, max_ep_len=150, ac_kwargs=dict(hidden_sizes=(32, 32)))
    if name == "dqn":
        kw.pop("start_steps")
    return kw


def env_for(name):
    return "CartPole-v1" if name == "dqn" else "Pendulum-v1"


class CrashAt(gym.Wrapper):
    """Raises after a given number of steps, as a crashed machine would stop a run."""

    def __init__(self, env, at_step):
        super().__init__(env)
        self.at_step, self.count = at_step, 0

    def step(self, action):
        self.count += 1
        if self.count == self.at_step:
            raise RuntimeError("simulated crash")
        return self.env.step(action)


def read_progress(path):
    return pd.read_table(path / "progress.txt").drop(columns="Time")


def available(name):
    return hasattr(importlib.import_module("spinup"), name)


@pytest.mark.parametrize("name", ON_POLICY + OFF_POLICY)
def test_resumed_run_matches_uninterrupted_run(name, tmp_path):
    if not available(name):
        pytest.skip(f"{name} is not built yet")
    algo, env_name, kw = algorithm(name), env_for(name), small_kwargs(name)
    algo(lambda: gym.make(env_name), logger_kwargs=dict(output_dir=str(tmp_path / "full")), **kw)

    crash_step = int(kw["steps_per_epoch"] * 2.5)  # in the middle of the third epoch
    with pytest.raises(RuntimeError, match="simulated crash"):
        algo(lambda: CrashAt(gym.make(env_name), crash_step), logger_kwargs=dict(output_dir=str(tmp_path / "part")), **kw)
    assert len(pd.read_table(tmp_path / "part" / "progress.txt")) == 2
    algo(lambda: gym.make(env_name), resume=str(tmp_path / "part"), **kw)

    full, resumed = read_progress(tmp_path / "full"), read_progress(tmp_path / "part")
    assert len(resumed) == kw["epochs"]  # no duplicated rows, no missing rows
    assert list(resumed["Epoch"]) == list(full["Epoch"])
    pd.testing.assert_frame_equal(full, resumed, check_exact=True)


@pytest.mark.parametrize("name", ON_POLICY + OFF_POLICY)
def test_same_seed_gives_identical_progress(name, tmp_path):
    if not available(name):
        pytest.skip(f"{name} is not built yet")
    algo, env_name, kw = algorithm(name), env_for(name), small_kwargs(name)
    kw["epochs"] = 2
    for run in ("a", "b"):
        algo(lambda: gym.make(env_name), seed=7, logger_kwargs=dict(output_dir=str(tmp_path / run)), **kw)
    pd.testing.assert_frame_equal(read_progress(tmp_path / "a"), read_progress(tmp_path / "b"), check_exact=True)


def test_ctrl_c_checkpoints_and_exits_cleanly_then_resumes(tmp_path):
    cmd = [sys.executable, "-m", "spinup.run", "ppo", "--env", "CartPole-v1", "--epochs", "200",
           "--steps_per_epoch", "500", "--train_pi_iters", "3", "--train_v_iters", "3", "--save_freq", "50",
           "--exp_name", "c"]
    # A new session stands in for a terminal: Ctrl-C signals its whole foreground process group.
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    progress = tmp_path / "data" / "c" / "c_s0" / "progress.txt"
    deadline = time.time() + 120
    while time.time() < deadline and (not progress.exists() or len(progress.read_text().splitlines()) < 3):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Continue with: spinup ppo --resume" in err.strip().splitlines()[-1]
    rows = len(pd.read_table(progress))
    assert (progress.parent / "pyt_save" / "checkpoint.pt").exists()
    assert rows < 200

    r = subprocess.run([sys.executable, "-m", "spinup.run", "ppo", "--resume", "data/c/c_s0", "--epochs", str(rows + 2)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    resumed = pd.read_table(progress)
    assert list(resumed["Epoch"]) == list(range(rows + 2))


class NaNRewardAfter(gym.Wrapper):
    """Rewards near float32's largest value after ``after`` steps: finite, so the env check lets them
    through, but their returns overflow to inf and the losses turn non-finite."""

    def __init__(self, env, after):
        super().__init__(env)
        self.after, self.count = after, 0

    def step(self, action):
        self.count += 1
        obs, rew, terminated, truncated, info = self.env.step(action)
        return obs, (3e38 if self.count > self.after else rew), terminated, truncated, info


def test_nan_stops_run_naming_epoch_and_quantity(tmp_path):
    from spinup import ppo

    with pytest.raises(NumericalError) as e:
        ppo(lambda: NaNRewardAfter(gym.make("CartPole-v1"), 900), steps_per_epoch=400, epochs=5, save_freq=1,
            train_pi_iters=3, train_v_iters=3, logger_kwargs=dict(output_dir=str(tmp_path)))
    message = str(e.value)
    assert "Training diverged at epoch 2" in message and "Loss" in message
    assert "is nan" in message or "is inf" in message
    assert "after epoch 2" in message  # the last good checkpoint
    progress = pd.read_table(tmp_path / "progress.txt")
    assert len(progress) == 2 and np.isfinite(progress["LossV"]).all()
    record = torch.load(tmp_path / "pyt_save" / "checkpoint.pt", weights_only=True)
    assert record["loop"]["epoch"] == 2


def test_truncated_checkpoint_is_refused(tmp_path):
    from spinup import ppo

    ppo(lambda: gym.make("CartPole-v1"), steps_per_epoch=200, epochs=1, train_pi_iters=2, train_v_iters=2,
        logger_kwargs=dict(output_dir=str(tmp_path)))
    path = tmp_path / "pyt_save" / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(UserError, match="damaged"):
        ppo(lambda: gym.make("CartPole-v1"), steps_per_epoch=200, epochs=2, resume=str(tmp_path))


def test_checkpoint_and_model_load_without_running_code(tmp_path):
    from spinup import ppo

    ppo(lambda: gym.make("CartPole-v1"), steps_per_epoch=200, epochs=1, train_pi_iters=2, train_v_iters=2,
        logger_kwargs=dict(output_dir=str(tmp_path)))
    for name in ("checkpoint.pt", "model.pt"):
        torch.load(tmp_path / "pyt_save" / name, weights_only=True)  # raises if it held arbitrary objects
    assert not [p for p in os.listdir(tmp_path / "pyt_save") if p.startswith(".tmp")]


def sigkill_then_resume_matches_uninterrupted_run(tmp_path, algo, epochs, timeout):
    """Run ``algo`` (a PPO) from the command line whole, and again killed with SIGKILL inside an
    epoch after three, then resumed; the two progress files must agree to the last digit."""
    args = [algo, "--env", "Pendulum-v1", "--epochs", str(epochs), "--steps_per_epoch", "600", "--train_pi_iters",
            "5", "--train_v_iters", "5", "--save_freq", "1"]
    base = [sys.executable, "-m", "spinup.run"]
    r = subprocess.run(base + args + ["--exp_name", "full"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr

    proc = subprocess.Popen(base + args + ["--exp_name", "killed"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    progress = tmp_path / "data" / "killed" / "killed_s0" / "progress.txt"
    deadline = time.time() + timeout
    while time.time() < deadline and (not progress.exists() or len(progress.read_text().splitlines()) < 4):
        time.sleep(0.05)
    time.sleep(0.15)  # somewhere inside the next epoch
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 3 <= len(pd.read_table(progress)) < epochs

    r = subprocess.run(base + [algo, "--resume", "data/killed/killed_s0"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    full = read_progress(tmp_path / "data" / "full" / "full_s0")
    resumed = read_progress(progress.parent)
    pd.testing.assert_frame_equal(full, resumed, check_exact=True)


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    """The hard way to die: SIGKILL gives no chance to save; the last periodic checkpoint must do."""
    sigkill_then_resume_matches_uninterrupted_run(tmp_path, "ppo", epochs=10, timeout=300)
