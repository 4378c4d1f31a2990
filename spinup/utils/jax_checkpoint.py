"""The JAX side of the logger's checkpoints and models: what a JAX twin's run saves and resumes.

:mod:`spinup.utils.checkpoint` keeps a run's loop position, environments and NumPy generator
in one file that loads with ``torch.load(..., weights_only=True)``; this module lets it hold Flax
NNX objects too (the actor-critic and its ``nnx.Optimizer``\\ s), as plain tensors named by their
state paths, so no code is unpickled on resume. The models for ``test_policy`` are written by
:mod:`spinup.utils.jax_saver`.

JAX twins draw no random numbers from a global generator, so there is no JAX generator state to
save: their keys are derived from the seed and the epoch number.
"""

from __future__ import annotations

import sys

import numpy as np
import torch


def is_nnx(obj) -> bool:
    """Whether ``obj`` is a Flax NNX module or optimiser (without importing Flax when it is not loaded)."""
    nnx = sys.modules.get("flax.nnx")
    return nnx is not None and isinstance(obj, (nnx.Module, nnx.Optimizer))


def _flat_state(obj) -> dict:
    from flax import nnx

    return {"/".join(map(str, path)): v for path, v in nnx.to_flat_state(nnx.state(obj))}


def nnx_state_dict(obj) -> dict:
    """Every array of ``obj``'s NNX state (parameters, Adam moments, step counts) as a CPU tensor."""
    out = {}
    for name, v in _flat_state(obj).items():
        a = np.array(v[...])
        # torch has no unsigned 32-bit arithmetic; a step count fits in int64 without loss
        out[name] = torch.from_numpy(a.astype(np.int64) if a.dtype == np.uint32 else a)
    return out


def load_nnx_state_dict(obj, state: dict) -> None:
    """Put the arrays of :func:`nnx_state_dict` back into ``obj``, checking names and shapes."""
    import jax.numpy as jnp
    from flax import nnx

    from spinup.utils.checks import check

    flat = nnx.to_flat_state(nnx.state(obj))
    names = {"/".join(map(str, path)) for path, _ in flat}
    check(names == set(state), f"The checkpoint does not fit this run's {type(obj).__name__}: it holds "
          f"{sorted(set(state) - names) or 'no extra'} entries and lacks {sorted(names - set(state)) or 'none'}.")
    for path, v in flat:
        a = state["/".join(map(str, path))].numpy()
        check(a.shape == v[...].shape, f"The checkpoint's {'/'.join(map(str, path))} has shape {a.shape}; "
              f"this run needs {v[...].shape}.")
        v[...] = jnp.asarray(a, dtype=v[...].dtype)
    nnx.update(obj, nnx.from_flat_state(flat))


def model_record(run_dir: str) -> dict:
    """The record (class, ``ac_kwargs``, environment id) of the JAX model saved in ``run_dir``, read
    without building the module; what ``spinup ALGO --resume`` needs."""
    import json

    from spinup.utils import jax_saver

    arrays = jax_saver._read_npz(jax_saver.find_model(run_dir))
    return json.loads(str(arrays[jax_saver.RECORD_KEY]))


def policy_video(module, model_env, path: str, num_episodes: int = 1, max_ep_len: int = 1000, seed: int = 0):
    """:func:`spinup.utils.video.policy_video` for a JAX actor-critic: the deterministic policy on video."""
    from spinup.utils.jax_saver import policy_function
    from spinup.utils.video import video_in_fresh_env

    return video_in_fresh_env(model_env, policy_function(module, deterministic=True), path, num_episodes,
                              max_ep_len, seed)
