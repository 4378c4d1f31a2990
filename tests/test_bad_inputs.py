"""The catalogue of bad inputs: each is refused with one sentence that says what was wrong and what
to do, exit code 2 on the command line, never a traceback."""

import importlib.util
import os

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from spinup.utils.checks import UserError


def cli(args, capfd):
    """Run the command line in this process (fast); runs it launches still go to a subprocess."""
    from spinup import run

    with pytest.raises(SystemExit) as e:
        run.main(list(args))
    out, err = capfd.readouterr()
    return e.value.code, out, err


class DictObsEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (2,))})
    action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        return {"a": self.observation_space["a"].sample()}, {}

    def step(self, action):
        return {"a": self.observation_space["a"].sample()}, 0.0, False, False, {}


class WrongShapeEnv(gym.Env):
    """Declares 4 numbers per observation and returns 3."""

    observation_space = spaces.Box(-1, 1, (4,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        return np.zeros(3, np.float32), {}

    def step(self, action):
        return np.zeros(3, np.float32), 0.0, False, False, {}


class OldStepEnv(WrongShapeEnv):
    """The pre-Gymnasium step API: (obs, reward, done, info)."""

    def reset(self, seed=None, options=None):
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), 0.0, False, {}


class NanRewardEnv(gym.Env):
    """A continuous-action env whose reward divides by zero at the third step."""

    observation_space = spaces.Box(-1, 1, (2,), np.float32)
    action_space = spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, seed=None, options=None):
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        reward = float("nan") if self.t == 3 else 0.0
        return np.zeros(2, np.float32), reward, False, False, {}


class NanObsEnv(OldStepEnv):
    def step(self, action):
        return np.full(4, np.nan, np.float32), 0.0, False, False, {}


def _needs_missing_package(**kwargs):
    raise gym.error.DependencyNotInstalled("The package imaginary_sim is not installed; pip install imaginary_sim.")


if "NeedsMissingPkg-v0" not in gym.registry:
    gym.register(id="NeedsMissingPkg-v0", entry_point=_needs_missing_package)
HAVE_BOX2D = importlib.util.find_spec("Box2D") is not None


def python_api(call):
    import spinup

    algo_name, kwargs = call
    algo = getattr(spinup, algo_name)
    kwargs = dict(kwargs)
    env = kwargs.pop("env", "CartPole-v1")
    env_fn = env if not isinstance(env, str) else (lambda: gym.make(env))
    kwargs.setdefault("logger_kwargs", dict(output_dir=os.path.join(os.getcwd(), "py_run")))
    with pytest.raises(UserError) as e:
        algo(env_fn, **kwargs)
    return str(e.value)


# (kind, input, fragments the one sentence must contain)
CASES = [
    # the command line
    ("cli", ["nope", "--env", "CartPole-v1"], ["Unknown command 'nope'"]),
    ("cli", ["ppo", "--env", "CartPol-v1"], ["Unknown environment id 'CartPol-v1'", "CartPole-v1"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--hid", "[64,-1]"], ["--hid must be a list of positive layer widths"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--hid", "abc"], ["--hid must be"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--act", "torch.nn.Linearx"], ["--act must name a torch.nn module"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--act", "os.system"], ["--act must name a torch.nn module"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--epochs", "0"], ["epochs must be a positive integer"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--epochs", "-3"], ["epochs must be a positive integer"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--steps_per_epoch", "2.5"], ["steps_per_epoch must be a positive integer"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--gamma", "1.5"], ["gamma must be a number between 0 and 1"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--lam", "-0.1"], ["lam must be a number between 0 and 1"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--seed", "abc"], ["--seed takes integers"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--seed", "1.5"], ["--seed takes integers"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--bogus", "1"], ["ppo has no argument 'bogus'"]),
    ("cli", ["ppo", "--epochs", "1"], ["Say which environment"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--cpu", "0"], ["must be a positive integer or 'auto'"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--cpu", "many"], ["must be a positive integer or 'auto'"]),
    ("cli", ["ddpg", "--env", "Pendulum-v1", "--cpu", "2"], ["--cpu applies to vpg, trpo, ppo, vpg_jax, trpo_jax, ppo_jax only"]),
    ("cli", ["td3", "--env", "CartPole-v1"], ["td3 needs continuous (Box) actions", "use dqn"]),
    ("cli", ["sac", "--env", "CartPole-v1"], ["sac needs continuous (Box) actions"]),
    ("cli", ["dqn", "--env", "Pendulum-v1"], ["dqn needs discrete actions", "use ddpg"]),
    ("cli", ["ppo", "--resume", "no_such_run"], ["--resume takes a run directory"]),
    ("cli", ["ppo", "--resume", "emptydir"], ["holds no checkpoint to resume"]),
    ("cli", ["ppo", "--resume", "emptydir", "emptydir"], ["--resume takes one run directory, not 2"]),
    # a bare algorithm name, the first thing a newcomer types
    ("cli", ["ppo"], ["spinup ppo needs at least an environment", "--env CartPole-v1", "spinup ppo --help"]),
    ("cli", ["sac"], ["spinup sac needs at least an environment"]),
    # environments from the command line
    ("cli", ["ppo", "--env", "no_such_module_xyz:MyEnv-v0"], ["Could not import the module 'no_such_module_xyz'"]),
    ("cli", ["ppo", "--env", "NeedsMissingPkg-v0"], ["NeedsMissingPkg-v0 needs a package that is not installed",
                                                     "imaginary_sim"]),
    *([] if HAVE_BOX2D else [("cli", ["ppo", "--env", "LunarLander-v3"], ["Box2D", 'pip install "spinup[box2d]"'])]),
    # output folders, checked before anything runs
    ("cli", ["ppo", "--env", "CartPole-v1", "--data_dir", "afile/sub"], ["afile is a file, not a folder"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--data_dir", "/proc/spinup_data"], ["/proc is not writable"]),
    # grids: every variant is checked before the first trains; a repeated value is refused
    ("cli", ["ppo", "--env", "CartPole-v1", "--gamma", "0.99", "1.5"], ["gamma must be a number between 0 and 1"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--seed", "0", "0"], ["lists the value 0 twice"]),
    ("cli", ["ppo", "--env", "CartPole-v1", "--pi_lr", "3e-4", "-1"], ["pi_lr must be a positive number"]),
    # test_policy
    ("cli", ["test_policy", "no_such_run"], ["is not a directory"]),
    ("cli", ["test_policy", "emptydir"], ["holds no saved policy"]),
    ("cli", ["test_policy", "damaged", "--norender"], ["damaged or was not written by spinup"]),
    ("cli", ["test_policy", "damaged", "--episodes", "0"], ["episodes must be a positive integer"]),
    ("cli", ["test_policy", "damaged", "--itr", "-2"], ["--itr takes the number of a numbered save"]),
    # plot
    ("cli", ["plot", "nothing_here/x"], ["There is no directory nothing_here"]),
    ("cli", ["plot", "zzz"], ["No run directory matches"]),
    ("cli", ["plot", "emptydir/"], ["No progress.txt with any rows"]),
    ("cli", ["plot", "runs/x", "--value", "Nope", "--savefig", "p.png"], ["has no column 'Nope'", "AverageEpRet"]),
    ("cli", ["plot", "runs/x", "--smooth", "0", "--savefig", "p.png"], ["smooth must be a positive integer"]),
    ("cli", ["plot", "runs/x", "--est", "mode", "--savefig", "p.png"], ["--est must be mean, max, min or median"]),
    # exercises
    ("cli", ["exercise", "9.9"], ["Unknown exercise '9.9'"]),
    ("cli", ["exercise", "1.1", "--file", "no_such_file.py"], ["There is no file no_such_file.py"]),
    ("cli", ["exercise", "1.1", "--file", "not_an_exercise.py"], ["defines no gaussian_likelihood"]),
    # the Python API
    ("python", ("ppo", dict(env="CartPole-v1", gamma=2.0)), ["gamma must be a number between 0 and 1"]),
    ("python", ("ppo", dict(env="CartPole-v1", epochs=2.5)), ["epochs must be a positive integer"]),
    ("python", ("ppo", dict(env="CartPole-v1", seed="a")), ["seed must be an integer"]),
    ("python", ("vpg", dict(env=DictObsEnv)), ["Dict observations", "FlattenObservation"]),
    ("python", ("trpo", dict(env="CartPole-v1", algo="sgd")), ["algo must be 'trpo' or 'npg'"]),
    ("python", ("sac", dict(env="CartPole-v1")), ["sac needs continuous (Box) actions"]),
    ("python", ("dqn", dict(env="Pendulum-v1")), ["dqn needs discrete actions"]),
    ("python", ("ppo", dict(env=lambda: "CartPole-v1")), ["not a gymnasium.Env"]),
    # mistakes in a user's own environment, named at the call that makes them
    ("python", ("ppo", dict(env=WrongShapeEnv)), ["WrongShapeEnv returned an observation of shape (3,) at reset()",
                                                  "declares (4,)"]),
    ("python", ("dqn", dict(env=OldStepEnv)), ["OldStepEnv.step() returned a tuple of 4 values", "terminated"]),
    ("python", ("sac", dict(env=NanRewardEnv)), ["NanRewardEnv returned the reward nan at step 3"]),
    ("python", ("vpg", dict(env=NanObsEnv)), ["NanObsEnv returned an observation holding NaN or infinity at step 1"]),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "emptydir").mkdir()
    damaged = tmp_path / "damaged" / "pyt_save"
    damaged.mkdir(parents=True)
    torch.save({"x": torch.zeros(100)}, damaged / "model.pt")
    (damaged / "model.pt").write_bytes((damaged / "model.pt").read_bytes()[:100])
    run = tmp_path / "runs" / "x" / "x_s0"
    run.mkdir(parents=True)
    (run / "progress.txt").write_text("Epoch\tAverageEpRet\tTotalEnvInteracts\n0\t1.0\t10\n1\t2.0\t20\n")
    (tmp_path / "not_an_exercise.py").write_text("x = 1\n")
    (tmp_path / "afile").write_text("not a folder\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_catalogue_is_long_enough():
    assert len(CASES) >= 60


def test_refused_grid_trains_nothing_and_prints_no_banner(workdir, capfd):
    code, out, err = cli(["ppo", "--env", "CartPole-v1", "--gamma", "0.99", "1.5", "--epochs", "1"], capfd)
    assert code == 2 and "gamma must be" in err
    assert "ExperimentGrid" not in out and "Running experiment" not in out
    assert not (workdir / "data").exists()


@pytest.mark.parametrize("kind,given,fragments", CASES, ids=[f"{k}:{g if k == 'cli' else g[0]}" for k, g, _ in CASES])
def test_bad_input_is_refused_in_one_sentence(kind, given, fragments, workdir, capfd, monkeypatch):
    if kind == "python":
        import spinup

        if not hasattr(spinup, given[0]):
            pytest.skip(f"{given[0]} is not built yet")
        message = python_api(given)
    else:
        monkeypatch.delenv("DISPLAY", raising=False)
        code, out, err = cli(given, capfd)
        assert code == 2, out[-2000:] + err[-2000:]
        assert "Traceback" not in out + err
        lines = err.strip().splitlines()
        assert lines, "nothing on stderr"
        message = lines[-1]
        assert message.startswith("Error: ")
    assert message.count(". ") <= 2 and "\n" not in message.strip()
    for fragment in fragments:
        assert fragment in message, message
