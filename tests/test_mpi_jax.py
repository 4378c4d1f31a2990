"""MPI data parallelism for JAX: gradient averaging and parameter sync under a real mpirun."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spinup.utils import mpi_tools

jax = pytest.importorskip("jax")
pytest.importorskip("flax")

needs_mpi = pytest.mark.skipif(not mpi_tools.mpi_available(), reason='needs the mpi extra: pip install "spinup[mpi]"')
HERE = Path(__file__).parent


@needs_mpi
def test_averaged_jax_gradient_equals_gradient_over_union():
    cmd = mpi_tools.mpirun_command(2) + [sys.executable, str(HERE / "mpi_jax_check.py")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=mpi_tools.mpirun_env())
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "OK" in r.stdout


def test_one_process_returns_the_same_trees():
    from spinup.utils.mpi_jax import mpi_avg_grads, sync_params

    tree = {"a": jax.numpy.arange(3.0), "b": (jax.numpy.ones(2),)}
    assert mpi_avg_grads(tree) is tree
    assert sync_params(tree) is tree
    np.testing.assert_array_equal(tree["a"], [0, 1, 2])
