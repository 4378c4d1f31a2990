"""What a new user runs into: each test repeats the user's command or script."""

import base64
import json
import os
import re
import subprocess
import sys
import tomllib
import zlib
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from spinup.utils import run_utils
from spinup.utils.checks import UserError
from spinup.utils.run_utils import ExperimentFailed, ExperimentGrid

ROOT = Path(__file__).resolve().parents[1]
SPINUP = [sys.executable, "-m", "spinup.run"]


def spinup(*args, cwd, extra_path=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DISPLAY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([str(extra_path)] if extra_path else []))
    return subprocess.run(SPINUP + list(args), cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def cli(args, capfd):
    from spinup import run

    with pytest.raises(SystemExit) as e:
        run.main(list(args))
    out, err = capfd.readouterr()
    return e.value.code, out, err


def write_run(folder: Path, rows=2, exp_name=None):
    folder.mkdir(parents=True)
    lines = ["Epoch\tAverageEpRet\tTotalEnvInteracts"] + [f"{i}\t{i * 1.5}\t{10 * (i + 1)}" for i in range(rows)]
    (folder / "progress.txt").write_text("\n".join(lines) + "\n")
    if exp_name:
        (folder / "config.json").write_text(json.dumps({"exp_name": exp_name}))


# -- spinup plot -----------------------------------------------------------------------------------

def test_plot_smooth_longer_than_a_run_in_progress(tmp_path, monkeypatch, capfd):
    write_run(tmp_path / "data" / "x" / "x_s0", rows=3)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["plot", "data/x", "--smooth", "10", "--savefig", "p.png"], capfd)
    assert code == 0, err
    assert (tmp_path / "p.png").exists()


def test_plot_select_filters_the_runs_found_below(tmp_path, monkeypatch, capfd):
    from spinup.utils.plot import get_all_datasets

    write_run(tmp_path / "data" / "ppo_cartpole" / "ppo_cartpole_s0", exp_name="ppo_cartpole")
    write_run(tmp_path / "data" / "ppo_pendulum" / "ppo_pendulum_s0", exp_name="ppo_pendulum")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["plot", "data/", "--select", "cartpole", "--savefig", "p.png"], capfd)
    assert code == 0, err
    found = {d["Condition1"].iloc[0] for d in get_all_datasets(["data/"], select=["cartpole"])}
    assert found == {"ppo_cartpole"}
    found = {d["Condition1"].iloc[0] for d in get_all_datasets(["data/"], exclude=["cartpole"])}
    assert found == {"ppo_pendulum"}
    code, out, err = cli(["plot", "data/", "--select", "hopper", "--savefig", "p.png"], capfd)
    assert code == 2 and "No run below data/ matches --select hopper" in err


def test_plot_a_progress_file(tmp_path, monkeypatch, capfd):
    write_run(tmp_path / "run")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["plot", "run/progress.txt", "--savefig", "p.png"], capfd)
    assert code == 0, err
    assert (tmp_path / "p.png").exists()


# -- grids -----------------------------------------------------------------------------------------

def test_large_numbers_keep_their_sign_in_folder_names():
    eg = ExperimentGrid("g")
    eg.add("pi_lr", [1e30, 3e-4, 1e-30])
    names = [eg.variant_name(v) for v in eg.variants()]
    assert names == ["g_pi_1e30", "g_pi_0-0003", "g_pi_1e-30"]


def test_repeated_value_is_refused():
    eg = ExperimentGrid("g")
    with pytest.raises(UserError, match="lists the value 0 twice"):
        eg.add("seed", [0, 0])
    eg.add("hid", [[64], (64, 64)])  # different values of different types are fine


def test_long_variant_names_are_cut_with_a_hash():
    eg = ExperimentGrid("g" * 30)
    eg.add("ac_kwargs:hidden_sizes", [[64] * 80, [32] * 80], "hid")
    names = [eg.variant_name(v) for v in eg.variants()]
    assert all(len(n) <= run_utils.MAX_NAME for n in names) and len(set(names)) == 2
    assert all(re.search(r"_[0-9a-f]{8}$", n) for n in names)
    for n in names:  # the seed folder and a datestamp still fit in 255 bytes
        out = run_utils.setup_logger_kwargs(n, seed=12345, data_dir="/d", datestamp=True)["output_dir"]
        assert max(len(part) for part in out.split("/")) <= 255


def _fake_runs(monkeypatch, outcomes):
    """call_experiment replaced by one that fails with the given exit codes, in order."""
    calls = []

    def fake(exp_name, thunk, seed=0, **kwargs):
        calls.append(f"{exp_name}_s{seed}")
        code = outcomes[len(calls) - 1]
        if code:
            raise ExperimentFailed(exp_name, code, f"reason {len(calls)}")
        return f"out/{exp_name}_s{seed}"

    monkeypatch.setattr(run_utils, "call_experiment", fake)
    return calls


def user_function(**kwargs):
    pass


def test_a_failing_variant_does_not_stop_the_others(monkeypatch, tmp_path):
    calls = _fake_runs(monkeypatch, [1, 0, 0])
    eg = ExperimentGrid("g")
    eg.add("seed", [0, 1, 2])
    with pytest.raises(run_utils.GridFailed) as e:
        eg.run(user_function, data_dir=str(tmp_path))
    assert calls == ["g_s0", "g_s1", "g_s2"]
    assert e.value.returncode == 1
    assert str(e.value) == "1 of 3 runs failed and the others finished: g_s0 (reason 1)"


class _TaskBroke(Exception):
    pass


def _ray_in_this_process(monkeypatch):
    """A stand-in for the ray module that runs each task when its result is asked for."""
    import types

    fake = types.ModuleType("ray")
    fake.exceptions = types.SimpleNamespace(RayError=_TaskBroke)
    fake.is_initialized = lambda: True

    def remote(**options):
        def wrap(fn):
            return types.SimpleNamespace(remote=lambda *args: (lambda: fn(*args)))
        return wrap

    fake.remote = remote
    fake.get = lambda f: [g() for g in f] if isinstance(f, list) else f()
    monkeypatch.setitem(sys.modules, "ray", fake)


def test_a_failing_variant_on_ray_does_not_stop_the_others(monkeypatch, tmp_path):
    _ray_in_this_process(monkeypatch)
    calls = []

    def fake(exp_name, thunk, seed=0, **kwargs):
        calls.append(f"{exp_name}_s{seed}")
        if seed == 0:
            raise ExperimentFailed(exp_name, 1, "Training diverged at epoch 0")
        if seed == 2:
            raise _TaskBroke("The worker running the task died.\nIt was killed for using too much memory.")
        return f"out/{exp_name}_s{seed}"

    monkeypatch.setattr(run_utils, "call_experiment", fake)
    eg = ExperimentGrid("g")
    eg.add("seed", [0, 1, 2, 3])
    with pytest.raises(run_utils.GridFailed) as e:
        eg.run(user_function, data_dir=str(tmp_path), backend="ray")
    assert calls == ["g_s0", "g_s1", "g_s2", "g_s3"]
    assert e.value.returncode == 1
    assert str(e.value) == ("2 of 4 runs failed and the others finished: g_s0 (Training diverged at epoch 0); "
                            "g_s2 (It was killed for using too much memory.)")


def test_experiment_failed_survives_pickling():
    import pickle

    e = pickle.loads(pickle.dumps(ExperimentFailed("a", 2, "bad value")))
    assert (e.exp_name, e.returncode, e.reason) == ("a", 2, "bad value")
    g = pickle.loads(pickle.dumps(run_utils.GridFailed([e], 3)))
    assert str(g) == "1 of 3 runs failed and the others finished: a (bad value)" and g.returncode == 2


def test_ctrl_c_in_a_grid_names_the_runs_that_never_started(monkeypatch, tmp_path, capfd):
    calls = _fake_runs(monkeypatch, [0, 130, 0, 0])
    eg = ExperimentGrid("g")
    eg.add("seed", [0, 1, 2, 3])
    with pytest.raises(ExperimentFailed):
        eg.run(user_function, data_dir=str(tmp_path))
    assert calls == ["g_s0", "g_s1"]
    assert "these 2 runs never started: g_s2, g_s3." in capfd.readouterr().err


def test_diverging_variant_from_the_command_line(tmp_path):
    r = spinup("ppo", "--env", "Pendulum-v1", "--exp_name", "d", "--pi_lr", "1e30", "3e-4", "--epochs", "2",
               "--steps_per_epoch", "200", "--hid", "[8]", "--train_v_iters", "2", cwd=tmp_path)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 1 of 2 runs failed and the others finished: d_pi_1e30_s0 (Training diverged"), last
    assert len(pd.read_table(tmp_path / "data" / "d_pi_0-0003" / "d_pi_0-0003_s0" / "progress.txt")) == 2


# -- environments ----------------------------------------------------------------------------------

MY_PACKAGE = '''
import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Corridor(gym.Env):
    """Walk right to the end of a corridor of 5 cells."""

    observation_space = spaces.Box(0, 5, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = 0
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x = max(0, self.x + (1 if action == 1 else -1))
        done = self.x >= 5
        return np.array([self.x], np.float32), float(done), done, False, {}


gym.register(id="Corridor-v0", entry_point=Corridor, max_episode_steps=50)
'''


def test_own_env_by_module_name_trains_resumes_and_replays(tmp_path):
    (tmp_path / "mypkg_corridor.py").write_text(MY_PACKAGE)
    # a data folder with a space: the printed commands must still be pasteable
    r = spinup("ppo", "--env", "mypkg_corridor:Corridor-v0", "--exp_name", "c", "--epochs", "1",
               "--steps_per_epoch", "100", "--hid", "[8]", "--data_dir", "my data", cwd=tmp_path, extra_path=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "spinup plot 'my data/c/c_s0'" in r.stdout
    run = "my data/c/c_s0"
    r = spinup("ppo", "--resume", run, "--epochs", "2", "--env", "mypkg_corridor:Corridor-v0",
               cwd=tmp_path, extra_path=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert len(pd.read_table(tmp_path / run / "progress.txt")) == 2
    r = spinup("test_policy", run, "--norender", "--episodes", "1", cwd=tmp_path, extra_path=tmp_path)
    assert r.returncode == 0, r.stderr


# -- resuming --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("resume")
    r = spinup("ppo", "--env", "CartPole-v1", "--exp_name", "r", "--epochs", "2", "--steps_per_epoch", "100",
               "--hid", "[8]", "--train_v_iters", "2", cwd=cwd)
    assert r.returncode == 0, r.stderr
    return cwd / "data" / "r" / "r_s0"


@pytest.mark.parametrize("args,fragment", [
    (["dqn"], "This run was made by ppo, not dqn; resume it with: spinup ppo --resume"),
    (["sac"], "This run was made by ppo, not sac"),
    (["ppo"], "has already trained 2 of 2 epochs, so there is nothing to do"),
    (["ppo", "--epochs", "1"], "has already trained 2 of 1 epochs, so there is nothing to do"),
    (["ppo", "--epochs", "4", "--gamma", "0.9"], "--gamma 0.9 differs from this run's gamma=0.99"),
    (["ppo", "--epochs", "4", "--hid", "[16]"], "--ac_kwargs:hidden_sizes [16] differs"),
    (["ppo", "--epochs", "4", "--cpu", "2"], "--num_cpu 2 differs from this run's num_cpu=1"),
])
def test_resume_refusals(ppo_run, args, fragment, capfd):
    code, out, err = cli([args[0], "--resume", str(ppo_run), *args[1:]], capfd)
    assert code == 2, out[-2000:] + err
    assert "Traceback" not in err and fragment in err.strip().splitlines()[-1], err


def test_resume_accepts_retyped_flags(ppo_run, capfd):
    code, out, err = cli(["ppo", "--resume", str(ppo_run), "--epochs", "3", "--env", "CartPole-v1", "--hid", "[8]",
                          "--steps_per_epoch", "100", "--gamma", "0.99", "--seed", "0", "--exp_name", "r", "--cpu", "1"], capfd)
    assert code == 0, err
    assert len(pd.read_table(ppo_run / "progress.txt")) == 3


# -- Ctrl-C and the progress bar -------------------------------------------------------------------

def _interrupted():
    raise KeyboardInterrupt


def test_second_ctrl_c_prints_the_resume_command(tmp_path, capfd):
    from spinup.utils import run_entrypoint

    run = tmp_path / "my run"
    (run / "pyt_save").mkdir(parents=True)
    (run / "pyt_save" / "checkpoint.pt").write_bytes(b"x")
    encoded = base64.b64encode(zlib.compress(cloudpickle.dumps(_interrupted))).decode("ascii")
    assert run_entrypoint.main(encoded, "", "ppo", str(run)) == 130
    assert f"Continue with: spinup ppo --resume '{run}'" in capfd.readouterr().err


def test_progress_bar_follows_the_launchers_terminal(monkeypatch, tmp_path):
    """Under mpirun a run's stdout is a pseudo-terminal even when the user's is a file."""
    import spinup

    seen = {}

    def fake_call(cmd, env=None):
        encoded = cmd[cmd.index("spinup.utils.run_entrypoint") + 1]
        thunk = cloudpickle.loads(zlib.decompress(base64.b64decode(encoded)))
        kwargs = next(c.cell_contents for c in thunk.__closure__ if isinstance(c.cell_contents, dict))
        seen.update(kwargs["logger_kwargs"])
        return 0

    monkeypatch.setattr(run_utils.subprocess, "call", fake_call)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    run_utils.call_experiment("p", spinup.ppo, env_name="CartPole-v1", data_dir=str(tmp_path))
    assert seen["progress_bar"] is False


# -- docs and packaging ----------------------------------------------------------------------------

def test_exercise_2_1_plot_command_names_real_columns(tmp_path, monkeypatch, capsys):
    from spinup import trpo
    from spinup.exercises.pytorch.problem_set_2 import exercise2_1
    from spinup.utils.envs import make_env_fn

    trpo(make_env_fn("CartPole-v1"), epochs=1, steps_per_epoch=50, train_v_iters=1, ac_kwargs=dict(hidden_sizes=(4,)),
         logger_kwargs=dict(output_dir=str(tmp_path / "t"), progress_bar=False))
    columns = set(pd.read_table(tmp_path / "t" / "progress.txt").columns)
    monkeypatch.setattr(ExperimentGrid, "run", lambda self, *a, **k: [str(tmp_path / "e" / "e_s0")])
    exercise2_1.main(["--epochs", "1", "--seeds", "0"])
    line = next(x for x in capsys.readouterr().out.splitlines() if "--value" in x)
    values = line.split("--value")[1].split()
    assert values and set(values) <= columns, (values, columns)
    docs = (ROOT / "docs" / "spinningup" / "exercises.rst").read_text()
    assert "--value " + " ".join(values) in docs


def test_exercise_timings_agree_with_the_docs():
    from spinup.exercises.checkers import EXERCISES

    docs = (ROOT / "docs" / "spinningup" / "exercises.rst").read_text()
    for number, ex in EXERCISES.items():
        if ex.check is None:
            continue
        section = docs.split(f"\nExercise {number}:")[1]
        check_line = next(x for x in section.splitlines() if "**Check:**" in x)
        assert ex.duration.split(" (")[0] in check_line, (number, ex.duration, check_line)
        if ex.quick_duration:
            assert ex.quick_duration.split(" (")[0] in check_line, (number, ex.quick_duration, check_line)


def test_readme_python_example_has_its_own_folder():
    readme = (ROOT / "README.md").read_text()
    cli_name = re.search(r"spinup ppo --env CartPole-v1 --exp_name (\S+)", readme).group(1)
    plotted = re.search(r"spinup plot data/(\S+)", readme).group(1)
    py_dir = re.search(r'output_dir="data/([^"/]+)', readme).group(1)
    assert plotted == cli_name
    assert not py_dir.startswith(plotted), "spinup plot data/%s would average the Python run in as a seed" % plotted


def test_licence_is_an_spdx_string():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert "setuptools>=77" in meta["build-system"]["requires"]
    assert meta["project"]["optional-dependencies"]["box2d"] == ["gymnasium[box2d]>=1.0"]


def test_benchmark_page_speaks_of_results():
    page = (ROOT / "docs" / "spinningup" / "bench.rst").read_text().lower()
    for word in ("issue", "session", "helper", "commit", "was meant for"):
        assert word not in page, word
    for needed in ("reproduce", "cpu", "seed"):
        assert needed in page, needed


# -- a repeated exp_name ---------------------------------------------------------------------------


def test_repeated_name_refused_before_the_banner_and_overwrite_replaces_it(tmp_path):
    run = ["ppo", "--env", "CartPole-v1", "--hid", "[8]", "--epochs", "1", "--steps_per_epoch", "100",
           "--exp_name", "again", "--data_dir", str(tmp_path / "data")]
    first = spinup(*run, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    second = spinup(*run, cwd=tmp_path)
    assert second.returncode == 2 and second.stdout == ""  # nothing printed before the one sentence
    assert "already holds a run" in second.stderr and "--overwrite" in second.stderr
    third = spinup(*run, "--overwrite", cwd=tmp_path)
    assert third.returncode == 0, third.stderr[-2000:]
    rows = pd.read_table(tmp_path / "data" / "again" / "again_s0" / "progress.txt")
    assert len(rows) == 1  # the replacement's row alone, not both runs' rows
