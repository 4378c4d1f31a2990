"""The training state of a JAX twin's run, for checkpoints: pytrees kept as plain arrays.

A jitted update takes and returns its parameters, optimiser states and PRNG key. :class:`JaxState`
holds them as attributes, so that :meth:`spinup.utils.logx.Logger.setup_checkpoint` can register
them like a PyTorch module: ``state_dict`` flattens every pytree into ``{path: tensor}``, plain
data that loads with ``torch.load(..., weights_only=True)``, and ``load_state_dict`` puts the
arrays back into pytrees of the current structure, so no structure is ever unpickled.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch

from spinup.utils.checks import UserError

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
