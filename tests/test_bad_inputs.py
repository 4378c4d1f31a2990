"""The catalogue of bad inputs: each is refused with one sentence that says what was wrong and what
to do, exit code 2 on the command line, never a traceback."""

import os

import gymnasium as gym
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
    ("cli", ["ddpg", "--env", "Pendulum-v1", "--cpu", "2"], ["--cpu applies to vpg, trpo, ppo only"]),
    ("cli", ["td3", "--env", "CartPole-v1"], ["td3 needs continuous (Box) actions", "use dqn"]),
    ("cli", ["sac", "--env", "CartPole-v1"], ["sac needs continuous (Box) actions"]),
    ("cli", ["dqn", "--env", "Pendulum-v1"], ["dqn needs discrete actions", "use ddpg"]),
    ("cli", ["ppo", "--resume", "no_such_run"], ["--resume takes a run directory"]),
    ("cli", ["ppo", "--resume", "emptydir"], ["holds no checkpoint to resume"]),
    # test_policy
    ("cli", ["test_policy", "no_such_run"], ["is not a directory"]),
    ("cli", ["test_policy", "emptydir"], ["holds no saved policy"]),
    ("cli", ["test_policy", "damaged", "--norender"], ["damaged or was not written by spinup"]),
    ("cli", ["test_policy", "damaged", "--episodes", "0"], ["episodes must be a positive integer"]),
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
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_catalogue_is_long_enough():
    assert len(CASES) >= 30


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
