"""Data parallelism for JAX parameters over MPI: average gradients, synchronise parameters.

The JAX counterpart of :mod:`spinup.utils.mpi_pytorch`. JAX arrays are immutable, so each
function returns a new pytree instead of changing its argument in place. The arrays travel
through host memory as one flat numpy vector, in a single MPI message.
"""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from spinup.utils.mpi_tools import broadcast, mpi_avg, num_procs


def setup_jax_for_mpi() -> None:
    """Keep each process's XLA on one thread, as :func:`~spinup.utils.mpi_pytorch.setup_pytorch_for_mpi`
    does for PyTorch.

    XLA's CPU client starts a thread pool of its own as soon as the first array is made; with N
    processes on N cores, those threads only fight each other. Call this before JAX computes
    anything (the flags are read once, when the CPU backend starts).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    for flag in ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"):
        if flag.split("=")[0] not in flags:
            flags += " " + flag
    os.environ["XLA_FLAGS"] = flags.strip()


def mpi_avg_grads(grads):
    """The pytree ``grads`` with each array replaced by its average over all processes.

    With one process the same pytree comes back untouched.
    """
    if num_procs() == 1:
        return grads
    flat, unravel = ravel_pytree(grads)
    if flat.size == 0:
        return grads
    avg = mpi_avg(np.asarray(flat))  # mpi_tools reduces in float64
    return unravel(jnp.asarray(avg, dtype=flat.dtype))


def sync_params(params):
    """Rank 0's copy of the pytree ``params``, on every process, so all start from the same network."""
    if num_procs() == 1:
        return params
    flat, unravel = ravel_pytree(params)
    buf = np.array(flat)  # a writable, contiguous host copy for MPI to overwrite
    broadcast(buf)
    return unravel(jnp.asarray(buf))


def sync_module(module) -> None:
    """Overwrite the parameters of the Flax NNX ``module`` with rank 0's, in place."""
    from flax import nnx

    if num_procs() == 1:
        return
    nnx.update(module, sync_params(nnx.state(module, nnx.Param)))

