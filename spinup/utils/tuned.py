"""Tuned settings per (algorithm, task), read from ``spinup/tuned.toml``.

The algorithms' defaults stay the original Spinning Up's. For the tasks of the learning table, the
file holds settings that learn at that table's small budgets; ``spinup ALGO --env ENV --tuned``
applies them, and :func:`tuned_kwargs` gives them to Python code::

    from spinup.utils.tuned import tuned_kwargs
    ppo(env_fn, epochs=26, **tuned_kwargs("ppo", "InvertedPendulum-v5"))

A JAX twin (``ppo_jax``) uses the entry of its PyTorch algorithm.
"""

from __future__ import annotations

import copy
import functools
import sys
from importlib import resources

from spinup.utils.checks import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    with resources.files("spinup").joinpath("tuned.toml").open("rb") as f:
        return tomllib.load(f)


def tuned_tasks(algo: str) -> list[str]:
    """The tasks that have tuned settings for ``algo`` (a JAX twin counts as its PyTorch algorithm)."""
    return list(_table().get(algo.removesuffix("_jax"), {}))


def tuned_kwargs(algo: str, env_id: str) -> dict:
    """The tuned keyword arguments of ``algo`` on ``env_id`` (a fresh copy); raises
    :class:`~spinup.utils.checks.UserError` when the file has no entry for the pair."""
    base = algo.removesuffix("_jax")
    entry = _table().get(base, {}).get(env_id)
    if entry is None:
        tasks = tuned_tasks(base)
        have = f"it has entries for {base} on: {', '.join(tasks)}" if tasks else f"it has no entries for {base}"
        raise UserError(f"--tuned has no settings for {algo} on {env_id}; {have} (drop --tuned to use the defaults).")
    return copy.deepcopy(entry)
