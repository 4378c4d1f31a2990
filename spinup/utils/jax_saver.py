"""Saving JAX networks and training state as plain arrays, so that loading runs no pickled code.

A JAX run keeps its parameters, optimiser states and PRNG key as pytrees of arrays. Here they are
flattened into ``{path: tensor}`` dictionaries, the same plain data the PyTorch runs save, and
written with ``torch.save``; ``torch.load(..., weights_only=True)`` reads them back. Loading puts
the arrays into a pytree of the same structure built afresh (a network made from its class and
arguments, an optimiser state from ``init``), so no structure is ever unpickled.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch

from spinup.utils.checks import UserError
from spinup.utils.serialization_utils import (_encode_kwargs, dict_to_space, import_by_name, qualified_name,
                                              rebuild_kwargs, space_to_dict)

SAVE_DIR = "jax_save"


def tree_to_tensors(tree) -> dict:
    """The leaves of ``tree`` as ``{path: CPU tensor}``, the paths written by ``jax.tree_util.keystr``."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        a = np.asarray(leaf)
        if a.dtype == np.uint32:  # PRNG keys; torch keeps few operations for unsigned 32-bit integers
            a = a.astype(np.int64)
        out[jax.tree_util.keystr(path)] = torch.from_numpy(np.array(a, order="C", copy=True))
    return out


def tensors_to_tree(tensors: dict, template):
    """``template`` with each leaf replaced by the saved tensor of the same path (and dtype)."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    keys = [jax.tree_util.keystr(path) for path, _ in leaves]
    missing = [k for k in keys if k not in tensors]
    if missing or len(keys) != len(tensors):
        raise UserError(f"The saved arrays do not fit this network or optimiser (missing: {missing[:3]}, "
                        f"saved: {len(tensors)}, expected: {len(keys)}); were the run's arguments changed?")
    new = []
    for k, (_, leaf) in zip(keys, leaves):
        value = tensors[k].numpy()
        if value.shape != np.shape(leaf):
            raise UserError(f"The saved array {k} has shape {value.shape}, the network here {np.shape(leaf)}.")
        new.append(jnp.asarray(value.astype(np.asarray(leaf).dtype)))
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(template), new)


class JaxState:
    """The pytrees a jitted update takes and returns, held as attributes so checkpoints can find them.

    ``JaxState(params=..., key=...)``; the training loop assigns new values to the attributes after
    each update. ``state_dict`` and ``load_state_dict`` make it one more object for
    :meth:`spinup.utils.logx.Logger.setup_checkpoint`.
    """

    def __init__(self, **trees):
        self.__dict__.update(trees)

    def state_dict(self) -> dict:
        return {name: tree_to_tensors(tree) for name, tree in vars(self).items()}

    def load_state_dict(self, saved: dict) -> None:
        for name, tensors in saved.items():
            setattr(self, name, tensors_to_tree(tensors, getattr(self, name)))


def model_record(module, env, ac_kwargs: dict) -> dict:
    """Everything needed to rebuild an NNX ``module``: its class, arguments, spaces and parameters."""
    from flax import nnx

    from spinup.utils.envs import env_record

    return {
        "format": "spinup-model-1",
        "framework": "jax",
        "class": qualified_name(type(module)),
        **env_record(env),
        "observation_space": space_to_dict(env.observation_space),
        "action_space": space_to_dict(env.action_space),
        "ac_kwargs": _encode_kwargs(dict(ac_kwargs)),
        "state_dict": tree_to_tensors(nnx.state(module, nnx.Param)),
    }


def rebuild_model(record: dict):
    """The inverse of :func:`model_record`: an NNX module of the saved class with the saved weights."""
    from flax import nnx

    cls = import_by_name(record["class"])
    if not (isinstance(cls, type) and issubclass(cls, nnx.Module)):
        raise UserError(f"The saved model names '{record['class']}', which is not a flax.nnx.Module.")
    module = cls(dict_to_space(record["observation_space"]), dict_to_space(record["action_space"]),
                 **rebuild_kwargs(record["ac_kwargs"]))
    nnx.update(module, tensors_to_tree(record["state_dict"], nnx.state(module, nnx.Param)))
    return module


def policy_fn(module, deterministic=False, seed=0):
    """A function from one numpy observation to one numpy action of ``module.act``, compiled once.

    Sampling policies draw from their own PRNG key, started from ``seed`` and split on each call.
    """
    from flax import nnx

    graphdef, state = nnx.split(module)

    @jax.jit
    def act(state, o, key):
        return nnx.merge(graphdef, state).act(o, deterministic, key)

    key = jax.random.PRNGKey(seed)

    def get_action(o):
        nonlocal key
        key, sub = jax.random.split(key)
        return np.asarray(act(state, jnp.asarray(np.asarray(o), jnp.float32), sub))

    return get_action


def finite_parameters(module):
    """``(path, ok)`` for each parameter of an NNX ``module``: ok is False when it holds NaN or inf."""
    from flax import nnx

    for path, leaf in jax.tree_util.tree_flatten_with_path(nnx.state(module, nnx.Param))[0]:
        yield jax.tree_util.keystr(path), bool(jnp.isfinite(leaf).all())


def is_jax_module(module) -> bool:
    """Whether ``module`` is a Flax NNX module (False, without importing flax, when it is not installed)."""
    if isinstance(module, torch.nn.Module):
        return False
    try:
        from flax import nnx
    except ImportError:
        return False
    return isinstance(module, nnx.Module)
