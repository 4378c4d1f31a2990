"""Run under `mpirun -np 2`: MPI-averaged gradients equal the gradient over the union of the data.

Each rank computes the mean loss on its own half of a fixed data set; after mpi_avg_grads every
rank must hold the gradient of the mean loss over the whole data set. Also checks sync_params and
pooled statistics. Prints OK on rank 0 when all checks pass.
"""

import numpy as np
import torch

from spinup.algos.pytorch.ppo.core import mlp
from spinup.utils.mpi_pytorch import mpi_avg_grads, setup_pytorch_for_mpi, sync_params
from spinup.utils.mpi_tools import mpi_statistics_scalar, num_procs, proc_id

setup_pytorch_for_mpi()
assert num_procs() == 2, "run me with mpirun -np 2"
rank = proc_id()

# Different initial weights on each rank, made equal by sync_params.
torch.manual_seed(rank)
net = mlp([3, 8, 1], torch.nn.Tanh).double()
sync_params(net)

gen = torch.Generator().manual_seed(123)
x = torch.randn(40, 3, generator=gen, dtype=torch.float64)
y = torch.randn(40, 1, generator=gen, dtype=torch.float64)


def loss_fn(xs, ys):
    return ((net(xs) - ys) ** 2).mean()


# Gradient over the union, computed by every rank alone.
net.zero_grad()
loss_fn(x, y).backward()
full = [p.grad.clone() for p in net.parameters()]

# Gradient over this rank's half, then averaged over the ranks.
net.zero_grad()
half = slice(0, 20) if rank == 0 else slice(20, 40)
loss_fn(x[half], y[half]).backward()
mpi_avg_grads(net)
for g_avg, g_full in zip((p.grad for p in net.parameters()), full):
    torch.testing.assert_close(g_avg, g_full)

# Statistics pooled over both ranks equal statistics of the union.
local = np.arange(5.0) + 10 * rank
mean, std, lo, hi = mpi_statistics_scalar(local, with_min_and_max=True)
union = np.concatenate([np.arange(5.0), np.arange(5.0) + 10])
np.testing.assert_allclose([mean, std, lo, hi], [union.mean(), union.std(), union.min(), union.max()])

if rank == 0:
    print("OK")
