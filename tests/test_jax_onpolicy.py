"""The JAX twins of VPG, TRPO and PPO: truncation, same-seed runs, resuming, MPI and the command line."""

import importlib
import os
import subprocess
import sys

import gymnasium as gym
import jax.numpy as jnp
import pandas as pd
import pytest
from flax import nnx

from spinup.utils import mpi_tools
from test_onpolicy_core import recorded_last_values
from test_reliability import CrashAt, read_progress, sigkill_then_resume_matches_uninterrupted_run

JAX_ON_POLICY = ["vpg_jax", "trpo_jax", "ppo_jax"]
# Whole training runs, twice each: PPO in the default suite, VPG and TRPO (which share its buffer and
# loop) with the slow checks, so that the default suite stays short on 2 cores.
RUN_TWICE = [pytest.param("vpg_jax", marks=pytest.mark.slow), pytest.param("trpo_jax", marks=pytest.mark.slow), "ppo_jax"]


def algorithm(name):
    return getattr(importlib.import_module("spinup"), name)


def small_kwargs(name):
    kw = dict(steps_per_epoch=400, epochs=4, save_freq=1, train_v_iters=3)
    if name == "ppo_jax":
        kw["train_pi_iters"] = 3
    return kw


class KnownCritic(nnx.Module):
    """V(s) = 10 * s[0] + s[1], whatever training does (its one weight is multiplied by zero)."""

    def __init__(self):
        self.w = nnx.Param(jnp.zeros(()))

    def __call__(self, obs):
        return 10 * obs[..., 0] + obs[..., 1] + 0 * self.w[...]


@pytest.mark.parametrize("algo", ["vpg", "trpo", "ppo"])
def test_truncation_is_bootstrapped_and_termination_is_not(algo, scripted_env, tmp_out, monkeypatch):
    """terminated -> 0; truncated -> V(real next obs); end of epoch -> V(next obs), as in PyTorch."""
    module = importlib.import_module(f"spinup.algos.jax.{algo}.{algo}")
    core = importlib.import_module(f"spinup.algos.jax.{algo}.core")
    calls = recorded_last_values(module, algo, scripted_env, tmp_out, monkeypatch, steps=8, core=core,
                                 critic=KnownCritic)
    assert calls == [0.0, 31.0, 22.0]


@pytest.mark.parametrize("name", RUN_TWICE)
def test_same_seed_gives_identical_progress(name, tmp_path):
    algo, kw = algorithm(name), small_kwargs(name)
    kw["epochs"] = 2
    for run in ("a", "b"):
        algo(lambda: gym.make("Pendulum-v1"), seed=7, logger_kwargs=dict(output_dir=str(tmp_path / run)), **kw)
    pd.testing.assert_frame_equal(read_progress(tmp_path / "a"), read_progress(tmp_path / "b"), check_exact=True)


@pytest.mark.parametrize("name", RUN_TWICE)
def test_resumed_run_matches_uninterrupted_run(name, tmp_path):
    algo, kw = algorithm(name), small_kwargs(name)
    algo(lambda: gym.make("Pendulum-v1"), logger_kwargs=dict(output_dir=str(tmp_path / "full")), **kw)
    crash_step = int(kw["steps_per_epoch"] * 2.5)  # in the middle of the third epoch
    with pytest.raises(RuntimeError, match="simulated crash"):
        algo(lambda: CrashAt(gym.make("Pendulum-v1"), crash_step), logger_kwargs=dict(output_dir=str(tmp_path / "part")),
             **kw)
    assert len(pd.read_table(tmp_path / "part" / "progress.txt")) == 2
    algo(lambda: gym.make("Pendulum-v1"), resume=str(tmp_path / "part"), **kw)
    full, resumed = read_progress(tmp_path / "full"), read_progress(tmp_path / "part")
    assert len(resumed) == kw["epochs"]
    pd.testing.assert_frame_equal(full, resumed, check_exact=True)


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    sigkill_then_resume_matches_uninterrupted_run(tmp_path, "ppo_jax", epochs=8, timeout=600)


def test_cli_train_test_policy_and_plot(tmp_path):
    base = [sys.executable, "-m", "spinup.run"]
    r = subprocess.run(base + ["ppo_jax", "--env", "CartPole-v1", "--exp_name", "j", "--epochs", "3",
                               "--steps_per_epoch", "500"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "data" / "j" / "j_s0" / "jax_save" / "model.npz").exists()
    r = subprocess.run(base + ["test_policy", "data/j/j_s0", "--norender", "--episodes", "2"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "EpRet" in r.stdout
    r = subprocess.run(base + ["plot", "data/j"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, MPLBACKEND="Agg"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_bad_input_is_one_sentence_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "spinup.run", "ppo_jax", "--env", "CartPole-v1", "--epochs", "0"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "epochs" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not mpi_tools.mpi_available(), reason='needs the mpi extra: pip install "spinup[mpi]"')
def test_cli_two_processes_count_all_steps(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "spinup.run", "trpo_jax", "--env", "InvertedPendulum-v5", "--cpu", "2", "--epochs", "2",
         "--steps_per_epoch", "1000", "--train_v_iters", "5", "--exp_name", "m"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    progress = pd.read_table(tmp_path / "data" / "m" / "m_s0" / "progress.txt")
    assert list(progress["TotalEnvInteracts"]) == [1000, 2000]


def test_act_flag_names_the_same_activation_for_both_twins():
    import jax
    import torch

    from spinup.run import resolve_activation
    from spinup.utils.checks import UserError

    assert resolve_activation("torch.nn.ReLU") is torch.nn.ReLU
    assert resolve_activation("torch.nn.ReLU", "jax") is jax.nn.relu
    assert resolve_activation("Tanh", "jax") is jax.nn.tanh
    assert resolve_activation("nn.LeakyReLU", "jax") is jax.nn.leaky_relu
    assert resolve_activation("jax.nn.elu", "jax") is jax.nn.elu
    with pytest.raises(UserError, match="jax.nn.relu"):
        resolve_activation("jax.nn.nothing", "jax")
