"""Saving and loading JAX models and training state, without pickle.

The JAX counterpart of the PyTorch saver in :mod:`spinup.utils.logx` and of
:mod:`spinup.utils.serialization_utils`. A saved model is one ``.npz`` file, read with
``allow_pickle=False``: each parameter of the Flax NNX module under its path (``pi/mu_net/layers/0/kernel``),
and, under ``__record__``, a JSON text with the module's class, its constructor arguments
(``ac_kwargs``), the environment's id and its spaces. Loading rebuilds the module from that record
and the environment from its id: no code is unpickled.

A run's models sit in ``jax_save/`` (beside where a PyTorch run keeps ``pyt_save/``):
``jax_save/model.npz``, or ``jax_save/model<itr>.npz`` for numbered saves.

:func:`save_checkpoint` and :func:`restore_checkpoint` do the same for any pytree (parameters,
Optax states, PRNG keys), for resuming a run.
"""

from __future__ import annotations

import glob
import json
import os.path as osp
import re

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from spinup.utils.checks import UserError, check
from spinup.utils.serialization_utils import atomic_write, construct_from_record, describe_model, dict_to_space

FORMAT = "spinup-jax-model-1"
CHECKPOINT_FORMAT = "spinup-jax-checkpoint-1"
SAVE_DIR = "jax_save"
RECORD_KEY = "__record__"


# ----------------------------------------------------------------------------------------------
# Where the models of a run are
# ----------------------------------------------------------------------------------------------


def model_path(output_dir: str, itr=None) -> str:
    """``output_dir/jax_save/model.npz``, or ``model<itr>.npz`` when ``itr`` is an integer."""
    return osp.join(output_dir, SAVE_DIR, "model" + ("" if itr is None else "%d" % itr) + ".npz")


def has_jax_model(fpath: str) -> bool:
    """Whether the run directory ``fpath`` holds a saved JAX model (``jax_save/model*.npz``)."""
    return bool(glob.glob(osp.join(fpath, SAVE_DIR, "model*.npz")))


def find_model(fpath: str, itr="last") -> str:
    """The path of the model saved in run directory ``fpath``: the last one, or iteration ``itr``."""
    check(osp.isdir(fpath), f"{fpath} is not a directory; pass a run directory such as data/exp/exp_s0.")
    models = glob.glob(osp.join(fpath, SAVE_DIR, "model*.npz"))
    check(len(models) > 0, f"{fpath} holds no saved JAX policy (no {SAVE_DIR}/model*.npz); pass the directory "
          "of a run that saved at least once, such as data/exp/exp_s0.")
    if itr in ("last", None, -1):
        if osp.exists(model_path(fpath)):
            return model_path(fpath)
        numbered = [re.fullmatch(r"model(\d+)\.npz", osp.basename(p)) for p in models]
        return model_path(fpath, max(int(m.group(1)) for m in numbered if m))
    path = model_path(fpath, int(itr))
    check(osp.exists(path), f"{fpath} has no policy saved at iteration {itr}; found: "
          + ", ".join(sorted(osp.basename(m) for m in models)) + ".")
    return path


# ----------------------------------------------------------------------------------------------
# The record, as JSON
# ----------------------------------------------------------------------------------------------


def model_record(module: nnx.Module, env, ac_kwargs: dict) -> dict:
    """Everything but the weights needed to rebuild ``module`` and its environment, as JSON-able data
    (:func:`spinup.utils.serialization_utils.describe_model` in its JSON form)."""
    return {"format": FORMAT, **describe_model(module, env, ac_kwargs, as_json=True)}


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------


def _param_arrays(module: nnx.Module) -> dict:
    """``{"pi/mu_net/layers/0/kernel": array, ...}``: the module's parameters as host numpy arrays."""
    return {"/".join(map(str, path)): np.asarray(v[...]) for path, v in nnx.to_flat_state(nnx.state(module, nnx.Param))}


def nonfinite_parameters(module: nnx.Module) -> list[str]:
    """The paths of the parameters of ``module`` that hold a NaN or an infinity."""
    return [name for name, a in _param_arrays(module).items() if not np.isfinite(a).all()]


def _write_npz(path: str, arrays: dict) -> None:
    # np.savez on a file object: given a name, it would append ".npz" to atomic_write's temporary one.
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    atomic_write(path, write)


def save_model(path: str, module: nnx.Module, env, ac_kwargs: dict) -> None:
    """Write ``module``'s parameters and the record that rebuilds it (see :func:`model_record`) to ``path``.

    The file is written beside its final name and renamed into place, so it is never seen half written.
    """
    arrays = _param_arrays(module)
    arrays[RECORD_KEY] = np.array(json.dumps(model_record(module, env, ac_kwargs)))
    _write_npz(path, arrays)


def _read_npz(path: str) -> dict:
    """The arrays of an ``.npz`` file, read without pickle; one sentence if it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise UserError(f"No file at {path}.") from None
    except Exception as e:  # a truncated zip, an array of Python objects, ...
        raise UserError(f"Could not read {path}: it is damaged or was not written by spinup ({type(e).__name__}).") from None


def load_model(path: str):
    """Rebuild the module saved at ``path`` by :func:`save_model`.

    Returns:
        ``(module, record)``: the NNX module with the saved weights, and the JSON record
        (class, ``ac_kwargs``, environment id and spaces).
    """
    arrays = _read_npz(path)
    try:
        record = json.loads(str(arrays.pop(RECORD_KEY)))
    except (KeyError, ValueError):
        record = None
    check(isinstance(record, dict) and record.get("format") == FORMAT,
          f"{path} holds a model file spinup did not write; it cannot be loaded safely.")
    module = construct_from_record(record, nnx.Module, "Flax NNX module")
    flat = dict(nnx.to_flat_state(nnx.state(module, nnx.Param)))
    expected = {"/".join(map(str, p)): p for p in flat}
    check(set(expected) == set(arrays),
          f"{path} does not fit a {record['class']} built from its own arguments: it holds "
          f"{sorted(set(arrays) - set(expected)) or 'no extra'} parameters and lacks {sorted(set(expected) - set(arrays)) or 'none'}.")
    for name, p in expected.items():
        variable = flat[p]
        check(arrays[name].shape == variable[...].shape,
              f"{path}: the parameter {name} has shape {arrays[name].shape}, the module needs {variable[...].shape}.")
        variable[...] = jnp.asarray(arrays[name], dtype=variable[...].dtype)
    nnx.update(module, nnx.from_flat_state(flat))
    return module, record


def policy_function(module: nnx.Module, deterministic: bool = False, seed: int = 0):
    """A function from one observation (numpy) to one action (numpy), through ``module.act``.

    The call is jitted once and reused. Sampled actions draw from a PRNG key made from ``seed``
    and split at every call, so a run of the policy is reproducible.
    """
    graphdef, state = nnx.split(module)

    @jax.jit
    def act(state, obs, key):
        return nnx.merge(graphdef, state).act(obs, deterministic, key)

    key = jax.random.key(seed)

    def get_action(o):
        nonlocal key
        key, subkey = jax.random.split(key)
        return np.asarray(act(state, jnp.asarray(np.asarray(o), jnp.float32), subkey))

    return get_action


def load_policy_and_env(fpath, itr="last", deterministic=False, render_mode=None):
    """Rebuild a trained JAX policy and its environment from a run directory.

    The same contract as :func:`spinup.utils.test_policy.load_policy_and_env`, for a run that
    saved its model in ``jax_save/``.

    Returns:
        ``(env, get_action)``: the environment rebuilt from its registered id (``None`` if the run
        used an environment without an id), and a function from one observation to one action.
    """
    from spinup.utils.test_policy import _env_action_maker

    ac, record = load_model(find_model(fpath, itr))
    from spinup.utils.test_policy import _rebuild_env  # one way to rebuild a run's env, for both frameworks

    env = _rebuild_env(fpath, record, render_mode)
    # Clip Box actions and shift Discrete ones by the space's start, as the training loop does.
    to_env, act = _env_action_maker(dict_to_space(record["action_space"])), policy_function(ac, deterministic)
    return env, lambda o: to_env(act(o))


# ----------------------------------------------------------------------------------------------
# Checkpoints of pytrees, for resuming
# ----------------------------------------------------------------------------------------------


def _flatten_with_names(tree) -> list:
    """``[(name, leaf)]`` for the leaves of ``tree``, each named by its path (``0/mu/pi/...``)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    named = [(jax.tree_util.keystr(path, simple=True, separator="/"), leaf) for path, leaf in leaves]
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        raise ValueError("Two leaves of the tree have the same path name; rename the keys that contain '/'.")
    return named


def _is_prng_key(x) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def save_checkpoint(path: str, tree) -> None:
    """Write every leaf of the pytree ``tree`` (parameters, Optax states, PRNG keys) to the ``.npz`` ``path``.

    Typed PRNG keys (``jax.random.key``) are stored as their raw key data. The file is written
    beside its final name and renamed into place, so a crash never leaves half a checkpoint.
    """
    arrays = {"__format__": np.array(CHECKPOINT_FORMAT)}
    for name, leaf in _flatten_with_names(tree):
        arrays[name] = np.asarray(jax.random.key_data(leaf) if _is_prng_key(leaf) else leaf)
    _write_npz(path, arrays)


def restore_checkpoint(path: str, like):
    """The pytree saved at ``path`` by :func:`save_checkpoint`, in the structure of ``like``.

    ``like`` is a tree of the same structure (the freshly initialised parameters, optimiser states
    and key of the run being resumed); its leaves give the shapes, dtypes and kinds to check and
    restore: JAX arrays come back as JAX arrays, numpy as numpy, typed PRNG keys as keys.
    """
    arrays = _read_npz(path)
    check(str(arrays.pop("__format__", "")) == CHECKPOINT_FORMAT,
          f"{path} is not a JAX checkpoint written by spinup; it cannot be resumed.")
    named = _flatten_with_names(like)
    names = {n for n, _ in named}
    check(names == set(arrays), f"{path} does not fit this run: it holds {sorted(set(arrays) - names) or 'no extra'} "
          f"entries and lacks {sorted(names - set(arrays)) or 'none'}.")
    leaves = []
    for name, leaf in named:
        a = arrays[name]
        if _is_prng_key(leaf):
            leaves.append(jax.random.wrap_key_data(a, impl=jax.random.key_impl(leaf)))
            continue
        check(a.shape == np.shape(leaf) and a.dtype == np.asarray(leaf).dtype,
              f"{path}: {name} has shape {a.shape} and dtype {a.dtype}, the run needs {np.shape(leaf)} "
              f"and {np.asarray(leaf).dtype}.")
        if isinstance(leaf, jax.Array):
            leaves.append(jnp.asarray(a))
        elif isinstance(leaf, np.ndarray):
            leaves.append(a)
        else:  # a Python number
            leaves.append(type(leaf)(a.item()))
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like), leaves)
