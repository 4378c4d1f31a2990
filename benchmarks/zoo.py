"""rl-zoo3's tuned hyperparameters for one (algorithm, task), read from the installed rl-zoo3 package.

rl-zoo3 (``pip install rl-zoo3``) keeps one YAML file per algorithm, with an entry per task. Its
``ExperimentManager`` turns an entry into constructor arguments and an environment; that class
needs the whole training setup (Optuna, the Hugging Face hub, callbacks), so this module reads the
same files and applies the same rules where they matter for the learning table:

* ``n_timesteps`` is dropped: the table's budget is used instead;
* ``n_envs`` becomes a vector environment of that many copies;
* ``normalize`` becomes ``VecNormalize`` (``True``, a dict, or a string such as
  ``"dict(norm_obs=True, norm_reward=False)"``), with the entry's ``gamma`` as rl-zoo3 does;
* ``frame_stack`` becomes ``VecFrameStack``, ``env_wrapper`` a wrapper of each sub-environment;
* ``policy_kwargs`` given as a string is evaluated with ``dict`` and ``torch.nn`` (as ``nn``) only;
* ``lin_<x>`` values of ``learning_rate`` / ``clip_range`` become linear schedules from x to 0;
* ``noise_type`` / ``noise_std`` become SB3's Gaussian or Ornstein-Uhlenbeck action noise;
* a ``train_freq`` list becomes a tuple.

The package is found with ``importlib.util.find_spec`` and its files are read without importing it
(rl-zoo3's ``__init__`` pulls in its training dependencies). An entry is looked up by the exact task
id; failing that, by the same task at the highest earlier version (``Hopper-v5`` -> ``Hopper-v4``),
since rl-zoo3's MuJoCo entries are for older versions of the same tasks. Its ``default`` and
``atari`` entries are not tuned for a task, so they do not count as an entry.
"""

from __future__ import annotations

import importlib.util
import os
import re

# our algorithm -> rl-zoo3's file (A2C stands in for VPG, as in the table's SB3 column)
ZOO_ALGO = {"vpg": "a2c", "trpo": "trpo", "ppo": "ppo", "ddpg": "ddpg", "td3": "td3", "sac": "sac", "dqn": "dqn"}
NOT_TASKS = ("default", "atari")
ENV_KEYS = ("n_envs", "normalize", "frame_stack", "env_wrapper", "n_timesteps")


def installed() -> bool:
    return importlib.util.find_spec("rl_zoo3") is not None


def hyperparams_dir() -> str:
    spec = importlib.util.find_spec("rl_zoo3")
    if spec is None:
        raise RuntimeError("rl-zoo3 is not installed; `pip install rl-zoo3` adds the fourth column")
    return os.path.join(list(spec.submodule_search_locations)[0], "hyperparams")


def load_file(algo: str, directory: str | None = None) -> dict:
    import yaml

    with open(os.path.join(directory or hyperparams_dir(), ZOO_ALGO[algo] + ".yml")) as f:
        return yaml.safe_load(f) or {}


def find_entry(entries: dict, task: str):
    """(key, entry) of rl-zoo3's entry for ``task``: the exact id, else the highest earlier version
    of the same task; None when there is neither."""
    if task in entries and task not in NOT_TASKS:
        return task, dict(entries[task])
    m = re.fullmatch(r"(.+)-v(\d+)", task)
    if not m:
        return None
    name, version = m.group(1), int(m.group(2))
    older = []
    for key in entries:
        k = re.fullmatch(rf"{re.escape(name)}-v(\d+)", str(key))
        if k and int(k.group(1)) < version:
            older.append((int(k.group(1)), key))
    if not older:
        return None
    key = max(older)[1]
    return key, dict(entries[key])


def entry_for(algo: str, task: str, directory: str | None = None):
    """(key, entry) for our ``algo`` on ``task`` from the installed rl-zoo3, or None."""
    return find_entry(load_file(algo, directory), task)


class LinearSchedule:
    """``lin_<x>``: x at the start of training, falling linearly to 0 (SB3 passes the fraction of
    training left, 1 -> 0); rl-zoo3's own schedule does the same."""

    def __init__(self, initial: float):
        self.initial = float(initial)

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial

    def __repr__(self):
        return f"lin_{self.initial}"


def _eval_kwargs(text: str) -> dict:
    import torch.nn as nn

    return eval(text, {"__builtins__": {}, "dict": dict, "nn": nn})  # rl-zoo3 evaluates these strings too


def parse(entry: dict) -> dict:
    """Split an rl-zoo3 entry into what builds the environment and what goes to the model.

    Returns ``dict(n_envs, normalize, frame_stack, env_wrapper, noise, model)``: ``normalize`` is
    None or the keyword arguments of ``VecNormalize``; ``noise`` is None or (type, std); ``model``
    holds the constructor's keyword arguments, schedules and policy_kwargs made into objects.
    """
    hp = dict(entry)
    out = dict(n_envs=int(hp.pop("n_envs", 1)), normalize=None, frame_stack=hp.pop("frame_stack", None),
               env_wrapper=hp.pop("env_wrapper", None), noise=None)
    hp.pop("n_timesteps", None)
    norm = hp.pop("normalize", False)
    if isinstance(norm, str):
        norm = _eval_kwargs(norm)
    if norm is True or isinstance(norm, dict):
        out["normalize"] = dict(norm) if isinstance(norm, dict) else {}
        if "gamma" in hp:
            out["normalize"]["gamma"] = hp["gamma"]
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        v = hp.get(key)
        if isinstance(v, str):
            kind, initial = v.split("_")
            if kind != "lin":
                raise ValueError(f"unknown schedule {v!r} for {key}")
            hp[key] = LinearSchedule(float(initial))
    for key in ("policy_kwargs", "replay_buffer_kwargs"):
        if isinstance(hp.get(key), str):
            hp[key] = _eval_kwargs(hp[key])
    if isinstance(hp.get("train_freq"), list):
        hp["train_freq"] = tuple(hp["train_freq"])
    noise_type = hp.pop("noise_type", None)
    noise_std = hp.pop("noise_std", None)
    if noise_type is not None:
        out["noise"] = (noise_type.strip(), float(noise_std))
    for key in ("callback", "monitor_kwargs", "vec_env_wrapper", "env_kwargs"):
        if key in hp:
            raise ValueError(f"rl-zoo3 entry uses {key}, which the learning table does not apply")
    out["model"] = hp
    return out


def build(parsed: dict, make_env, seed: int):
    """The vector environment and the model's keyword arguments for a parsed entry.

    ``make_env()`` returns one training sub-environment (the table's recorder already on it).
    """
    import numpy as np
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecNormalize

    def one():
        env = make_env()
        if parsed["env_wrapper"] is not None:
            wrappers = parsed["env_wrapper"] if isinstance(parsed["env_wrapper"], list) else [parsed["env_wrapper"]]
            for w in wrappers:
                name, kw = (next(iter(w.items())) if isinstance(w, dict) else (w, {}))
                module, cls = name.rsplit(".", 1)
                env = getattr(importlib.import_module(module), cls)(env, **(kw or {}))
        return env

    venv = DummyVecEnv([one for _ in range(parsed["n_envs"])])
    if parsed["normalize"] is not None:
        venv = VecNormalize(venv, **parsed["normalize"])
    if parsed["frame_stack"]:
        venv = VecFrameStack(venv, int(parsed["frame_stack"]))
    kwargs = dict(parsed["model"])
    policy = kwargs.pop("policy", "MlpPolicy")
    if parsed["noise"] is not None:
        from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

        kind, std = parsed["noise"]
        n = venv.action_space.shape[0]
        cls = NormalActionNoise if "normal" in kind else OrnsteinUhlenbeckActionNoise if "ornstein" in kind else None
        if cls is None:
            raise ValueError(f"unknown noise type {kind!r}")
        kwargs["action_noise"] = cls(mean=np.zeros(n), sigma=std * np.ones(n))
    return venv, policy, kwargs
