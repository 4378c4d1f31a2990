"""Saving and resuming: environments a checkpoint cannot hold, string arrays, constant tables, run
folders that two runs share, and what a refused run leaves behind."""

import gc
import json
import os
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium import spaces

import spinup
from spinup.utils import checkpoint as ckpt
from spinup.utils import mpi_tools
from spinup.utils.checks import UserError
from spinup.utils.envs import make_env_by_id, make_env_fn
from spinup.utils.logx import EpochLogger
from spinup.utils.run_utils import setup_logger_kwargs

SMALL = {
    "ppo": dict(steps_per_epoch=200, train_pi_iters=2, train_v_iters=2),
    "vpg": dict(steps_per_epoch=200, train_v_iters=2),
    "dqn": dict(steps_per_epoch=200, update_after=100, update_every=50, batch_size=32, num_test_episodes=1,
                ac_kwargs=dict(hidden_sizes=(16,))),
}


def read_progress(path):
    return pd.read_table(path / "progress.txt").drop(columns="Time")


def train_then_resume(algo, env_fn, tmp_path, **kw):
    """A 2-epoch run, and a 1-epoch run resumed to 2 epochs: their tables must be equal."""
    fn = getattr(spinup, algo)
    fn(env_fn, epochs=2, logger_kwargs=dict(output_dir=str(tmp_path / "full")), **kw)
    fn(env_fn, epochs=1, logger_kwargs=dict(output_dir=str(tmp_path / "part")), **kw)
    fn(env_fn, epochs=2, resume=str(tmp_path / "part"), **kw)
    pd.testing.assert_frame_equal(read_progress(tmp_path / "full"), read_progress(tmp_path / "part"),
                                  check_exact=True)


# ----------------------------------------------------------------------------------------------
# Toy-text environments (string arrays) and constant data
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algo,env_id", [("ppo", "FrozenLake-v1"), ("vpg", "FrozenLake8x8-v1"), ("dqn", "Taxi-v4"),
                                         ("ppo", "Taxi-v4"), ("dqn", "FrozenLake-v1")])
def test_toy_text_envs_train_and_resume(algo, env_id, tmp_path):
    train_then_resume(algo, make_env_fn(env_id), tmp_path, **SMALL[algo])


class TableWalk(gym.Env):
    """A walk on a ring whose rewards come from an 18 MB constant table; its state is one integer
    and a string array that changes each step."""

    observation_space = spaces.Box(-1, 1, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self):
        self.table = np.random.default_rng(0).random(18_000_000 // 8)  # constant data
        self.names = np.array([b"left", b"right"])  # constant, small
        self.trail = np.array([b""] * 4, dtype="S8")  # state, as bytes
        self.pos = 0

    def _obs(self):
        return np.array([np.sin(self.pos / 10), np.cos(self.pos / 10)], np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(100))
        self.trail[:] = b""
        return self._obs(), {}

    def step(self, a):
        self.pos = (self.pos + (1 if a else -1) + int(self.np_random.integers(2))) % len(self.table)
        self.trail = np.roll(self.trail, 1)
        self.trail[0] = self.names[a]
        r = float(self.table[self.pos]) + (0.1 if self.trail[1] == self.trail[0] else 0.0)
        return self._obs(), r, False, self.pos % 37 == 0, {}


def test_constant_table_stays_out_of_the_checkpoint_and_bytes_state_round_trips(tmp_path):
    train_then_resume("ppo", lambda: gym.wrappers.TimeLimit(TableWalk(), 50), tmp_path, **SMALL["ppo"])
    size = os.path.getsize(tmp_path / "part" / "pyt_save" / "checkpoint.pt")
    assert size < 1_000_000, size  # the 18 MB table is not in it
    record = torch.load(tmp_path / "part" / "pyt_save" / "checkpoint.pt", weights_only=True)
    assert "trail" in record["envs"]["env"]["sim"] and "table" not in record["envs"]["env"]["sim"]


def test_string_array_state_round_trips_through_a_weights_only_load(tmp_path):
    env = TableWalk()
    constants = ckpt.env_constants(env)
    env.reset(seed=1)
    for a in (0, 1, 1):
        env.step(a)
    torch.save(ckpt.env_state(env, constants), tmp_path / "s.pt")
    other = TableWalk()
    other.reset(seed=2)
    assert ckpt.set_env_state(other, torch.load(tmp_path / "s.pt", weights_only=True)) == []
    assert other.trail.dtype == env.trail.dtype and list(other.trail) == list(env.trail)
    assert other.pos == env.pos
    assert [other.step(1)[1] for _ in range(5)] == [env.step(1)[1] for _ in range(5)]


# ----------------------------------------------------------------------------------------------
# Environments whose state a checkpoint cannot hold
# ----------------------------------------------------------------------------------------------


def test_minatar_resume_says_so_and_starts_a_new_episode(tmp_path, capsys):
    pytest.importorskip("minatar")
    env = make_env_by_id("MinAtar/Breakout-v1")
    logger = EpochLogger(output_dir=str(tmp_path))
    logger.save_config(dict(epochs=1, save_freq=1))
    logger.setup_checkpoint(env=env, net=torch.nn.Linear(2, 2))
    o, _ = env.reset(seed=0)
    for _ in range(12):
        o, *_ = env.step(1)
    logger.log_tabular("Epoch", 1)
    logger.dump_tabular()
    logger.save_checkpoint(1, o, 3.0, 12)

    env2 = make_env_by_id("MinAtar/Breakout-v1")
    env2.reset(seed=0)
    resumed = EpochLogger(resume=str(tmp_path))
    resumed.setup_checkpoint(env=env2, net=torch.nn.Linear(2, 2))
    capsys.readouterr()
    epoch, o2, ep_ret, ep_len = resumed.restore_checkpoint()
    out = capsys.readouterr().out
    assert "MinAtar/Breakout-v1 keeps state a checkpoint cannot hold (game)" in out
    assert len([line for line in out.splitlines() if "cannot hold" in line]) == 1
    assert epoch == 1 and ep_ret == 0 and ep_len == 0
    np.testing.assert_array_equal(o2, env2.unwrapped.game.state())  # the observation of env2's own game


def test_minatar_dqn_resumes(tmp_path):
    pytest.importorskip("minatar")
    kw = dict(SMALL["dqn"], steps_per_epoch=150, update_after=100)
    spinup.dqn(make_env_fn("MinAtar/Breakout-v1"), epochs=1, logger_kwargs=dict(output_dir=str(tmp_path)), **kw)
    spinup.dqn(make_env_fn("MinAtar/Breakout-v1"), epochs=2, resume=str(tmp_path), **kw)
    assert list(pd.read_table(tmp_path / "progress.txt")["Epoch"]) == [1, 2]


# ----------------------------------------------------------------------------------------------
# Resuming a run made with --cpu N
# ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(not mpi_tools.mpi_available(), reason='needs the mpi extra: pip install "spinup[mpi]"')
@pytest.mark.parametrize("algo", ["ppo", pytest.param("ppo_jax", marks=pytest.mark.slow)])
def test_cli_resume_of_a_two_process_run_continues_on_two_processes(algo, tmp_path):
    def spinup_cli(*args):
        r = subprocess.run([sys.executable, "-m", "spinup.run", algo, *args], cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        return r.stdout + r.stderr

    common = ["--env", "CartPole-v1", "--cpu", "2", "--steps_per_epoch", "200", "--hid", "[8]",
              "--train_pi_iters", "2", "--train_v_iters", "2"]
    spinup_cli(*common, "--epochs", "2", "--exp_name", "full")
    spinup_cli(*common, "--epochs", "1", "--exp_name", "part")  # stopped after epoch 1
    part = tmp_path / "data" / "part" / "part_s0"
    out = spinup_cli("--resume", str(part), "--epochs", "2", "--cpu", "2")
    assert "process(es)" not in out, out[-3000:]  # no word of a changed process count
    record = torch.load(part / "pyt_save" / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert record["loop"]["epoch"] == 2 and len(record["processes"]) == 1  # written by rank 0 and rank 1
    pd.testing.assert_frame_equal(read_progress(tmp_path / "data" / "full" / "full_s0"), read_progress(part),
                                  check_exact=True)


# ----------------------------------------------------------------------------------------------
# Run folders
# ----------------------------------------------------------------------------------------------


def _run_rows(path, n):
    logger = EpochLogger(output_dir=str(path))
    logger.save_config(dict(epochs=n))
    for epoch in range(1, n + 1):
        logger.log_tabular("Epoch", epoch)
        logger.dump_tabular()
    return logger


def test_a_folder_holding_a_run_is_refused_unless_overwrite(tmp_path):
    _run_rows(tmp_path, 2)
    with pytest.raises(UserError, match="already holds a run.*--overwrite"):
        EpochLogger(output_dir=str(tmp_path))
    assert len(pd.read_table(tmp_path / "progress.txt")) == 2  # the earlier run is intact

    os.makedirs(tmp_path / "pyt_save", exist_ok=True)
    (tmp_path / "pyt_save" / "checkpoint.pt").write_bytes(b"old")
    logger = EpochLogger(output_dir=str(tmp_path), overwrite=True)
    assert (tmp_path / "pyt_save").exists()  # nothing is removed before the new run writes
    logger.log_tabular("Epoch", 1)
    logger.dump_tabular()
    assert len(pd.read_table(tmp_path / "progress.txt")) == 1
    assert not (tmp_path / "pyt_save").exists()  # the old checkpoint cannot be resumed by mistake


def test_setup_logger_kwargs_passes_overwrite():
    assert setup_logger_kwargs("x", 0, data_dir="/tmp/d", overwrite=True)["overwrite"] is True
    assert "overwrite" not in setup_logger_kwargs("x", 0, data_dir="/tmp/d")


HOLDER = textwrap.dedent("""
    import sys, time
    from spinup.utils.logx import EpochLogger
    logger = EpochLogger(output_dir=sys.argv[1])
    print("locked", flush=True)
    time.sleep(60)
""")


def test_a_folder_being_written_is_refused_to_a_second_process(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=os.getcwd()))
    try:
        assert "locked" in [proc.stdout.readline().strip() for _ in range(2)]
        with pytest.raises(UserError, match=rf"is being written by another run \(process {proc.pid}\)"):
            EpochLogger(output_dir=str(run), overwrite=True)
    finally:
        proc.kill()
        proc.wait()
    EpochLogger(output_dir=str(run))  # free again once that process is gone


def test_resume_writes_into_its_own_folder(tmp_path):
    kw = SMALL["ppo"]
    spinup.ppo(make_env_fn("CartPole-v1"), epochs=1, logger_kwargs=dict(output_dir=str(tmp_path)), **kw)
    spinup.ppo(make_env_fn("CartPole-v1"), epochs=2, resume=str(tmp_path), **kw)
    assert len(pd.read_table(tmp_path / "progress.txt")) == 2


def test_refused_run_leaves_no_files(tmp_path):
    out = tmp_path / "data" / "x" / "x_s0"
    with pytest.raises(UserError, match="needs discrete actions"):
        spinup.dqn(lambda: gym.make("Pendulum-v1"), logger_kwargs=dict(output_dir=str(out)))
    gc.collect()  # the refused run's logger goes with its frame
    assert not out.exists()
    # and the corrected command may use the same name at once
    spinup.dqn(make_env_fn("CartPole-v1"), epochs=1, logger_kwargs=dict(output_dir=str(out)), **SMALL["dqn"])
    assert len(pd.read_table(out / "progress.txt")) == 1


def test_config_json_leaves_out_the_logger_and_addresses(tmp_path):
    spinup.ppo(make_env_fn("CartPole-v1"), epochs=1, logger_kwargs=dict(output_dir=str(tmp_path)), **SMALL["ppo"])
    text = (tmp_path / "config.json").read_text()
    config = json.loads(text)
    assert "logger" not in config and " at 0x" not in text
    assert config["gamma"] == 0.99


@pytest.mark.parametrize("name", ["a/b", "../x", "..", ""])
def test_exp_name_with_a_path_is_refused(name):
    with pytest.raises(UserError, match="not a plain folder name"):
        setup_logger_kwargs(name, 0)


# ----------------------------------------------------------------------------------------------
# TensorBoard steps and video names follow the Epoch column
# ----------------------------------------------------------------------------------------------


def test_tensorboard_steps_and_videos_follow_the_epoch_column(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import spinup.utils.video as video

    recorded = []
    monkeypatch.setattr(video, "policy_video", lambda module, env, path: recorded.append(os.path.basename(path)))
    logger = EpochLogger(output_dir=str(tmp_path), tensorboard=True, video_every=2)
    logger.setup_pytorch_saver(torch.nn.Linear(2, 2), env=gym.make("CartPole-v1"))
    for epoch in range(1, 5):  # off-policy algorithms count epochs from 1
        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("AverageEpRet", float(epoch))
        logger.dump_tabular()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("AverageEpRet")] == [1, 2, 3, 4]
    assert recorded == ["epoch2.mp4", "epoch4.mp4"]
