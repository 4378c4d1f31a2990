"""Run under `mpirun -np 2`: the JAX twin of mpi_grad_check.py.

Each rank computes the gradient of the mean loss on its own half of a fixed data set; after
mpi_avg_grads every rank must hold the gradient over the whole data set. Also checks that
sync_params and sync_module give every rank rank 0's parameters. Prints OK on rank 0.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from spinup.algos.jax.ppo.core import mlp
from spinup.utils.mpi_jax import mpi_avg_grads, setup_jax_for_mpi, sync_module, sync_params
from spinup.utils.mpi_tools import broadcast, num_procs, proc_id

setup_jax_for_mpi()
assert num_procs() == 2, "run me with mpirun -np 2"
rank = proc_id()
assert len(os.sched_getaffinity(0)) == 1, "each process is pinned to one core"

# Different initial weights on each rank, made equal by sync_module.
net = mlp([3, 8, 1], nnx.tanh, rngs=nnx.Rngs(rank))
sync_module(net)
graphdef, params = nnx.split(net, nnx.Param)
rank0 = jax.tree.map(lambda x: np.array(x), params)
for leaf in jax.tree.leaves(rank0):
    broadcast(leaf)
assert jax.tree.all(jax.tree.map(lambda a, b: bool(np.array_equal(a, b)), params, rank0)), "sync_module"

# sync_params on a plain pytree (an optimiser state, say), different on each rank
tree = {"w": jnp.full((2, 3), float(rank)), "n": jnp.array(rank + 1, jnp.int32)}
synced = sync_params(tree)
np.testing.assert_array_equal(synced["w"], np.zeros((2, 3)))
assert int(synced["n"]) == 1 and synced["n"].dtype == jnp.int32

rng = np.random.default_rng(123)
x = jnp.asarray(rng.normal(size=(40, 3)), jnp.float32)
y = jnp.asarray(rng.normal(size=(40, 1)), jnp.float32)


def loss_fn(p, xs, ys):
    return ((nnx.merge(graphdef, p)(xs) - ys) ** 2).mean()


full = jax.grad(loss_fn)(params, x, y)
half = slice(0, 20) if rank == 0 else slice(20, 40)
avg = mpi_avg_grads(jax.grad(loss_fn)(params, x[half], y[half]))
for g_avg, g_full in zip(jax.tree.leaves(avg), jax.tree.leaves(full)):
    assert g_avg.dtype == g_full.dtype
    np.testing.assert_allclose(g_avg, g_full, rtol=1e-5, atol=1e-6)

if rank == 0:
    print("OK")
