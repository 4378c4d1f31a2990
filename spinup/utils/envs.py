"""Building and checking Gymnasium environments, the same way for training and for replay."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spinup.utils.checks import UserError, check

# Packages that register environment ids when imported ("ALE/Pong-v5", "MinAtar/Breakout-v1").
_NAMESPACE_MODULES = {"ALE": "ale_py", "MinAtar": "minatar.gym"}
# Time limits those packages leave out of their registrations. MinAtar's Freeway is a 2500-frame
# game but declares no max_episode_steps (its own timer ends the game one step later), so an
# algorithm that takes its limit from the spec would cut it at 1000 steps. The observation does not
# show the time left, so the end is a time limit, which Gymnasium's TimeLimit reports as truncated.
_EPISODE_STEPS = {"MinAtar/Freeway-v0": 2500, "MinAtar/Freeway-v1": 2500}

ON_POLICY = ("vpg", "trpo", "ppo")
CONTINUOUS_ONLY = ("ddpg", "td3", "sac")
DISCRETE_ONLY = ("dqn",)


def _import_env_namespace(env_name: str) -> None:
    namespace = env_name.split("/")[0] if "/" in env_name else None
    if namespace in _NAMESPACE_MODULES:
        try:
            module = importlib.import_module(_NAMESPACE_MODULES[namespace])
        except ImportError:
            return
        # MinAtar registers its ids only when asked (Gymnasium 1.x no longer loads plugins itself).
        if hasattr(module, "register_envs") and not any(k.startswith(namespace + "/") for k in gym.registry):
            module.register_envs()
        for env_id, steps in _EPISODE_STEPS.items():
            spec = gym.registry.get(env_id)
            if spec is not None and spec.max_episode_steps is None:
                gym.registry[env_id] = dataclasses.replace(spec, max_episode_steps=steps)


def _split_module(env_name: str) -> tuple[str | None, str]:
    """``'mypkg:MyEnv-v0'`` -> ``('mypkg', 'MyEnv-v0')``: Gymnasium's form for an id that a module
    registers when it is imported. A plain id gives ``(None, id)``."""
    if ":" in env_name:
        module, env_id = env_name.split(":", 1)
        return module, env_id
    return None, env_name


def check_env_name(env_name) -> None:
    """Refuse an environment id Gymnasium doesn't know, suggesting close matches.

    ``module:EnvId`` imports ``module`` first (it registers ``EnvId``), as ``gymnasium.make`` does.
    """
    check(isinstance(env_name, str), f"The environment id must be a string such as CartPole-v1, not {env_name!r}.")
    module, env_id = _split_module(env_name)
    if module is not None:
        check(module and env_id, f"'{env_name}' is not an environment id; the module form is --env mypkg:MyEnv-v0.")
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise UserError(f"Could not import the module '{module}' named in '{env_name}' ({e}); install it or "
                            "run from the folder that holds it (or add that folder to PYTHONPATH).") from None
    _import_env_namespace(env_id)
    try:
        gym.spec(env_id)
    except Exception:
        hint_module = f" after importing {module}" if module else ""
        close = difflib.get_close_matches(env_id, list(gym.registry.keys()), n=3)
        hint = (
            f" Did you mean {' or '.join(close)}?"
            if close
            else ' `python -c "import gymnasium; gymnasium.pprint_registry()"` lists the known ids.'
        )
        raise UserError(f"Unknown environment id '{env_id}'{hint_module}.{hint}") from None


def _make(env_name: str, env_kwargs: dict):
    """``gymnasium.make``, with a missing optional dependency said in one sentence."""
    module, env_id = _split_module(env_name)
    _import_env_namespace(env_id)
    try:
        env = gym.make(env_name, **env_kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise UserError(missing_dependency_message(env_name, str(e))) from None
    if module is not None:
        # remembered so that resuming and test_policy import the module again (see env_record)
        env.unwrapped.spinup_env_id = env_name
    return env


def missing_dependency_message(env_name: str, detail: str) -> str:
    if "box2d" in detail.lower():
        return (f"{env_name} needs the Box2D physics engine, which is not installed: run "
                '`pip install "spinup[box2d]"` and try again.')
    if "mujoco" in detail.lower():
        return f"{env_name} needs MuJoCo, which is not installed: run `pip install \"gymnasium[mujoco]\"` and try again."
    first = detail.strip().split("\n")[0].rstrip(".")
    return f"{env_name} needs a package that is not installed ({first}); install it and try again."


def make_env_fn(env_name: str, **env_kwargs):
    """A picklable function that builds the Gymnasium environment ``env_name`` (an id such as
    ``CartPole-v1``, or ``mypkg:MyEnv-v0`` to import ``mypkg`` first)."""
    check_env_name(env_name)

    def env_fn():
        return _make(env_name, env_kwargs)

    # config.json shows functions by name: make this one say which environment it builds
    env_fn.__qualname__ = f"make_env_fn({env_name!r})"
    return env_fn


def make_env_by_id(env_id: str, env_kwargs: dict | None = None):
    """``gymnasium.make(env_id, **env_kwargs)``, importing the package that registers the id first."""
    return _make(env_id, env_kwargs or {})


def setup_env(env_fn, algo: str, flatten: bool = True):
    """Build the environment for ``algo`` and refuse it, in one sentence, if the two don't fit.

    Observations that are not a flat vector (a Discrete index, a matrix) are flattened to a 1-D
    float vector for the MLP networks, unless ``flatten`` is false (DQN keeps images as images).
    The environment is wrapped in :class:`CheckSteps`, which names a mistake in the environment's
    own ``reset``/``step`` at the call that makes it.
    """
    check(callable(env_fn), f"env_fn must be a function that returns an environment, not {env_fn!r}.")
    env = env_fn()
    check(
        isinstance(env, gym.Env),
        f"env_fn returned {type(env).__name__}, not a gymnasium.Env; pass a function such as "
        "lambda: gymnasium.make('CartPole-v1').",
    )
    check_spaces(env, algo)
    env = CheckSteps(env)
    return flatten_observations(env) if flatten else env


class CheckSteps(gym.Wrapper):
    """Refuses, in one sentence, what a hand-written environment most often gets wrong: an
    observation whose shape is not the declared space's, the old 4-value ``step`` API, and a NaN or
    infinite reward or observation. Each is caught at the call that returns it, instead of later as
    a shape error inside torch or as NaN actions. The checks cost about a microsecond per step.
    """

    def __init__(self, env):
        super().__init__(env)
        self._shape = env.observation_space.shape
        self._float_obs = np.dtype(env.observation_space.dtype or np.float32).kind == "f"
        self._name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        self._steps = 0

    def reset(self, **kwargs):
        result = self.env.reset(**kwargs)
        check(isinstance(result, tuple) and len(result) == 2,
              f"{self._name}.reset() must return (observation, info), as Gymnasium's API asks; it returned "
              f"{_describe(result)}.")
        self._steps = 0
        self._check_obs(result[0], 0)
        return result

    def step(self, action):
        result = self.env.step(action)
        self._steps += 1
        if type(result) is not tuple or len(result) != 5:
            raise UserError(
                f"{self._name}.step() returned {_describe(result)}; Gymnasium's step returns 5 values "
                "(observation, reward, terminated, truncated, info): split the old done flag into terminated "
                "and truncated.")
        obs, reward = result[0], result[1]
        self._check_obs(obs, self._steps)
        try:
            finite = math.isfinite(reward)
        except TypeError:
            raise UserError(f"{self._name}.step() returned the reward {reward!r} at step {self._steps}; the "
                            "reward must be one number.") from None
        if not finite:
            raise UserError(f"{self._name} returned the reward {reward} at step {self._steps} of an episode; "
                            "rewards must be finite numbers, so look for a division by zero or an overflow in its step().")
        return result

    def _check_obs(self, obs, step):
        shape = obs.shape if type(obs) is np.ndarray else np.shape(obs)
        if shape != self._shape:
            when = f"step {step}" if step else "reset()"
            raise UserError(
                f"{self._name} returned an observation of shape {shape} at {when}, but its observation_space "
                f"declares {self._shape}; make the two agree.")
        if self._float_obs and not _all_finite(obs):
            when = f"step {step}" if step else "reset()"
            raise UserError(
                f"{self._name} returned an observation holding NaN or infinity at {when}; observations must "
                "be finite, so look for a division by zero or an overflow in the environment.")


def _all_finite(obs) -> bool:
    if type(obs) is np.ndarray and obs.ndim == 1:
        # one dot product is several times cheaper than np.isfinite(obs).all() for a small vector;
        # NaN and inf make it non-finite, and only then (or on overflow) is each entry checked
        if math.isfinite(obs.dot(obs)):
            return True
    return bool(np.isfinite(obs).all())


def _describe(result) -> str:
    if isinstance(result, tuple):
        return f"a tuple of {len(result)} values"
    return f"a {type(result).__name__}"


def check_spaces(env, algo: str) -> None:
    name = env.spec.id if env.spec is not None else type(env).__name__
    obs_space, act_space = env.observation_space, env.action_space
    check(
        isinstance(obs_space, (spaces.Box, spaces.Discrete)),
        f"{name} has {type(obs_space).__name__} observations; spinup's networks need array observations "
        "(a Box or Discrete space): wrap the environment, e.g. with gymnasium.wrappers.FlattenObservation.",
    )
    if algo in CONTINUOUS_ONLY:
        check(
            isinstance(act_space, spaces.Box),
            f"{algo} needs continuous (Box) actions but {name} has {type(act_space).__name__} actions; "
            "use dqn, vpg, trpo or ppo for it.",
        )
    elif algo in DISCRETE_ONLY:
        check(
            isinstance(act_space, spaces.Discrete),
            f"{algo} needs discrete actions but {name} has {type(act_space).__name__} actions; "
            "use ddpg, td3, sac, vpg, trpo or ppo for it.",
        )
    else:
        check(
            isinstance(act_space, (spaces.Box, spaces.Discrete)),
            f"{algo} supports Box and Discrete action spaces, not the {type(act_space).__name__} of {name}.",
        )
    if isinstance(act_space, spaces.Box):
        check(len(act_space.shape) == 1, f"{name}'s actions have shape {act_space.shape}; only vectors are supported.")
        check(
            np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high)) or algo in ON_POLICY,
            f"{algo} scales its actions to the action space's bounds, but {name}'s bounds are infinite.",
        )


def flatten_observations(env):
    """``env`` with 1-D float observations: other shapes and Discrete indices are flattened."""
    obs_space = env.observation_space
    if isinstance(obs_space, spaces.Box) and len(obs_space.shape) == 1:
        return env
    return gym.wrappers.FlattenObservation(env)


def env_record(env) -> dict:
    """How to rebuild ``env`` later: its registered id and keyword arguments (when it has an id)."""
    spec = getattr(env.unwrapped, "spec", None) or env.spec
    if spec is None:
        return {}
    from spinup.utils.serialization_utils import is_json_serializable

    kwargs = {k: v for k, v in (spec.kwargs or {}).items() if is_json_serializable(v)}
    # an env made as 'mypkg:MyEnv-v0' keeps that form, so a fresh process imports mypkg again
    env_id = getattr(env.unwrapped, "spinup_env_id", None) or spec.id
    return {"env_id": env_id, "env_kwargs": kwargs}
