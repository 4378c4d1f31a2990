"""Run under `mpirun -np 2` with a scratch directory as the argument: resuming gives each rank back
its own random states, environment and episode, and a resumed PPO run reproduces an uninterrupted
one. Prints OK on rank 0 when all checks pass.
"""

import os.path as osp
import sys

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from spinup import ppo
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_pytorch import setup_pytorch_for_mpi
from spinup.utils.mpi_tools import _comm, num_procs, proc_id

setup_pytorch_for_mpi()
assert num_procs() == 2, "run me with mpirun -np 2"
rank, comm, scratch = proc_id(), _comm(), sys.argv[1]


def _abort_on_failure(kind, value, tb):  # a failed check on one rank must not leave the other waiting
    sys.__excepthook__(kind, value, tb)
    comm.Abort(1)


sys.excepthook = _abort_on_failure

# 1. Each rank saves its own state ...
torch.manual_seed(100 + rank)
np.random.seed(100 + rank)
env = gym.make("CartPole-v1")
o, _ = env.reset(seed=rank)
for _ in range(5 + 3 * rank):
    o, *_ = env.step(env.action_space.sample())
logger = EpochLogger(output_dir=osp.join(scratch, "direct"))
logger.save_config(dict(epochs=1, save_freq=1))
logger.setup_checkpoint(env=env, net=torch.nn.Linear(2, 2))
logger.log_tabular("Epoch", 0)
logger.dump_tabular()
saved_torch, saved_state = torch.get_rng_state(), np.array(env.unwrapped.state)
logger.save_checkpoint(1, o, 10.0 + rank, 5 + 3 * rank)

# ... and gets it back, not rank 0's.
torch.manual_seed(999)
np.random.seed(999)
env2 = gym.make("CartPole-v1")
env2.reset(seed=123)
resumed = EpochLogger(resume=osp.join(scratch, "direct"))
resumed.setup_checkpoint(env=env2, net=torch.nn.Linear(2, 2))
epoch, o2, ep_ret, ep_len = resumed.restore_checkpoint()
assert epoch == 1 and ep_ret == 10.0 + rank and ep_len == 5 + 3 * rank, (rank, epoch, ep_ret, ep_len)
np.testing.assert_array_equal(o2, o)
np.testing.assert_array_equal(np.asarray(env2.unwrapped.state, np.float32), o2)  # o is this rank's env's obs
np.testing.assert_array_equal(env2.unwrapped.state, saved_state)
assert torch.equal(torch.get_rng_state(), saved_torch)
states = comm.allgather(torch.get_rng_state())
assert not torch.equal(states[0], states[1]), "the ranks' torch RNG states are the same"

# 2. A resumed two-process PPO run reproduces the uninterrupted one.
kw = dict(steps_per_epoch=200, train_pi_iters=2, train_v_iters=2, save_freq=1, ac_kwargs=dict(hidden_sizes=(16,)))
ppo(lambda: gym.make("CartPole-v1"), epochs=3, logger_kwargs=dict(output_dir=osp.join(scratch, "full")), **kw)
ppo(lambda: gym.make("CartPole-v1"), epochs=2, logger_kwargs=dict(output_dir=osp.join(scratch, "part")), **kw)
ppo(lambda: gym.make("CartPole-v1"), epochs=3, resume=osp.join(scratch, "part"), **kw)
if rank == 0:
    full = pd.read_table(osp.join(scratch, "full", "progress.txt")).drop(columns="Time")
    part = pd.read_table(osp.join(scratch, "part", "progress.txt")).drop(columns="Time")
    pd.testing.assert_frame_equal(full, part, check_exact=True)
    print("OK")
