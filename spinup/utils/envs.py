"""Building and checking Gymnasium environments, the same way for training and for replay."""

from __future__ import annotations

import difflib
import importlib

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spinup.utils.checks import UserError, check

# Packages that register environment ids when imported ("ALE/Pong-v5", "MinAtar/Breakout-v1").
_NAMESPACE_MODULES = {"ALE": "ale_py", "MinAtar": "minatar.gym"}

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


def check_env_name(env_name) -> None:
    """Refuse an environment id Gymnasium doesn't know, suggesting close matches."""
    check(isinstance(env_name, str), f"The environment id must be a string such as CartPole-v1, not {env_name!r}.")
    _import_env_namespace(env_name)
    try:
        gym.spec(env_name)
    except Exception:
        close = difflib.get_close_matches(env_name, list(gym.registry.keys()), n=3)
        hint = (
            f" Did you mean {' or '.join(close)}?"
            if close
            else ' `python -c "import gymnasium; gymnasium.pprint_registry()"` lists the known ids.'
        )
        raise UserError(f"Unknown environment id '{env_name}'.{hint}") from None


def make_env_fn(env_name: str, **env_kwargs):
    """A picklable function that builds the Gymnasium environment ``env_name``."""
    check_env_name(env_name)

    def env_fn():
        _import_env_namespace(env_name)
        return gym.make(env_name, **env_kwargs)

    # config.json shows functions by name: make this one say which environment it builds
    env_fn.__qualname__ = f"make_env_fn({env_name!r})"
    return env_fn


def make_env_by_id(env_id: str, env_kwargs: dict | None = None):
    """``gymnasium.make(env_id, **env_kwargs)``, importing the package that registers the id first."""
    _import_env_namespace(env_id)
    return gym.make(env_id, **(env_kwargs or {}))


def setup_env(env_fn, algo: str, flatten: bool = True):
    """Build the environment for ``algo`` and refuse it, in one sentence, if the two don't fit.

    Observations that are not a flat vector (a Discrete index, a matrix) are flattened to a 1-D
    float vector for the MLP networks, unless ``flatten`` is false (DQN keeps images as images).
    """
    check(callable(env_fn), f"env_fn must be a function that returns an environment, not {env_fn!r}.")
    env = env_fn()
    check(
        isinstance(env, gym.Env),
        f"env_fn returned {type(env).__name__}, not a gymnasium.Env; pass a function such as "
        "lambda: gymnasium.make('CartPole-v1').",
    )
    check_spaces(env, algo)
    return flatten_observations(env) if flatten else env


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
    return {"env_id": spec.id, "env_kwargs": kwargs}
