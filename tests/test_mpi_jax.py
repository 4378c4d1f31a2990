"""MPI data parallelism for JAX: gradient averaging and parameter sync under a real mpirun."""

import numpy as np
import pytest

from test_mpi import mpirun_check, needs_mpi

jax = pytest.importorskip("jax")
pytest.importorskip("flax")


@needs_mpi
def test_averaged_jax_gradient_equals_gradient_over_union():
    mpirun_check("mpi_jax_check.py", timeout=300)


def test_one_process_returns_the_same_trees():
    from spinup.utils.mpi_jax import mpi_avg_grads, sync_params

    tree = {"a": jax.numpy.arange(3.0), "b": (jax.numpy.ones(2),)}
    assert mpi_avg_grads(tree) is tree
    assert sync_params(tree) is tree
    np.testing.assert_array_equal(tree["a"], [0, 1, 2])
