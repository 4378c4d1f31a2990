"""The tuned settings: the data file, its Python entry and ``spinup ALGO --tuned`` on the command line."""

import importlib.util
import inspect
import json
import os
import subprocess
import sys


import pytest

import spinup
from spinup.utils.checks import UserError
from spinup.utils.tuned import tomllib, tuned_kwargs, tuned_tasks  # tomli on Python 3.10

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPINUP = [sys.executable, "-m", "spinup.run"]


def _two_core_rows():
    path = os.path.join(ROOT, "benchmarks", "learning.py")
    sys.path.insert(0, os.path.dirname(path))
    try:
        spec = importlib.util.spec_from_file_location("bench_learning_for_tuned", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(os.path.dirname(path))
    return {(algo, task) for task, algo, _ in mod.PRESETS["two-core"]["runs"]}


def _table():
    with open(os.path.join(ROOT, "spinup", "tuned.toml"), "rb") as f:
        return tomllib.load(f)


def test_file_has_one_entry_per_row_of_the_two_core_table():
    entries = {(algo, task) for algo, tasks in _table().items() for task in tasks}
    assert entries == _two_core_rows()


def test_every_key_is_an_argument_of_the_algorithm_and_its_jax_twin():
    for algo, tasks in _table().items():
        for name in (algo + "_pytorch", algo + "_jax"):
            params = inspect.signature(getattr(spinup, name)).parameters
            for task, entry in tasks.items():
                assert entry, f"{algo} on {task} has an empty entry"
                for key, value in entry.items():
                    assert key in params, f"{key} (of {algo} on {task}) is not an argument of {name}"
                    assert key not in ("env_fn", "seed", "epochs", "logger_kwargs", "resume")
                    if isinstance(value, dict):
                        assert key == "ac_kwargs", f"{key} of {algo} on {task} is a table; only ac_kwargs may be"


def test_file_is_package_data():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    assert "tuned.toml" in package_data["spinup"]


def test_tuned_kwargs_copies_and_jax_twin_shares_the_entry():
    a = tuned_kwargs("vpg", "CartPole-v1")
    assert a == _table()["vpg"]["CartPole-v1"] and a == tuned_kwargs("vpg_jax", "CartPole-v1")
    a["pi_lr"] = -1.0  # the caller's copy, not the table
    assert tuned_kwargs("vpg", "CartPole-v1")["pi_lr"] != -1.0
    assert tuned_tasks("ppo_jax") == list(_table()["ppo"])


def test_tuned_kwargs_without_entry_names_the_tasks_that_have_one():
    with pytest.raises(UserError, match="CartPole-v1") as e:
        tuned_kwargs("vpg", "Hopper-v5")
    assert "vpg on Hopper-v5" in str(e.value)


def _spinup(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(SPINUP + list(args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


TINY = ["--epochs", "1", "--steps_per_epoch", "200", "--train_v_iters", "2"]


def test_cli_prints_each_tuned_value_and_applies_it(tmp_path):
    r = _spinup("vpg", "--env", "CartPole-v1", "--tuned", "--exp_name", "t", *TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    expected = tuned_kwargs("vpg", "CartPole-v1")["pi_lr"]
    line = f"tuned: pi_lr = {expected!r} (vpg on CartPole-v1)"
    assert line in r.stdout.splitlines()
    assert r.stdout.index(line) < r.stdout.index("ExperimentGrid")  # before training starts
    config = json.loads((tmp_path / "data" / "t" / "t_s0" / "config.json").read_text())
    assert config["pi_lr"] == expected


def test_cli_explicit_flag_wins_over_tuned_value(tmp_path):
    r = _spinup("vpg", "--env", "CartPole-v1", "--tuned", "--pi_lr", "0.002", "--exp_name", "t", *TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "tuned: pi_lr = 0.002 kept from the command line" in r.stdout
    config = json.loads((tmp_path / "data" / "t" / "t_s0" / "config.json").read_text())
    assert config["pi_lr"] == 0.002


def test_cli_without_tuned_keeps_the_defaults(tmp_path):
    r = _spinup("vpg", "--env", "CartPole-v1", "--exp_name", "t", *TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "tuned:" not in r.stdout
    config = json.loads((tmp_path / "data" / "t" / "t_s0" / "config.json").read_text())
    default = inspect.signature(spinup.vpg_pytorch).parameters["pi_lr"].default
    assert config["pi_lr"] == default


@pytest.mark.parametrize("args, fragments", [
    (["vpg", "--env", "Hopper-v5", "--tuned"], ["vpg on Hopper-v5", "CartPole-v1"]),
    (["ppo", "--env", "CartPole-v1", "Hopper-v5", "--tuned"], ["one --env"]),
    (["ppo", "--env", "CartPole-v1", "--tuned", "yes"], ["--tuned takes no value"]),
])
def test_cli_refuses_tuned_in_one_sentence_before_any_banner(tmp_path, args, fragments):
    r = _spinup(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "ExperimentGrid" not in r.stdout and "tuned:" not in r.stdout
    err = r.stderr.strip().splitlines()
    assert len(err) == 1
    for fragment in fragments:
        assert fragment in err[0], err[0]
    assert not (tmp_path / "data").exists()
