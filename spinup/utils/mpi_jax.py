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

from spinup.utils.mpi_tools import broadcast, mpi_avg, num_procs, proc_id


def setup_jax_for_mpi() -> None:
    """Keep each process's XLA to one core, as :func:`~spinup.utils.mpi_pytorch.setup_pytorch_for_mpi`
    keeps PyTorch to one thread.

    XLA's CPU client starts a pool of threads of its own, one per core, whatever the thread
    settings say; with N processes on N cores those pools only fight each other. So under MPI each
    process is pinned to one of the cores it may use (rank modulo their number), and XLA is asked
    for single-threaded kernels as well. A process running alone is left as it is. Call this
    before JAX computes anything: XLA reads its flags once, when its CPU backend starts.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    for flag in ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"):
        if flag.split("=")[0] not in flags:
            flags += " " + flag
    os.environ["XLA_FLAGS"] = flags.strip()
    if num_procs() > 1 and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[proc_id() % len(cores)]})


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

