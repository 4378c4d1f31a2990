"""Spinning Up in Deep RL: short, standalone implementations of the key deep-RL algorithms."""

# Algorithms
from spinup.algos.pytorch.ddpg.ddpg import ddpg as ddpg_pytorch
from spinup.algos.pytorch.dqn.dqn import dqn as dqn_pytorch
from spinup.algos.pytorch.ppo.ppo import ppo as ppo_pytorch
from spinup.algos.pytorch.sac.sac import sac as sac_pytorch
from spinup.algos.pytorch.td3.td3 import td3 as td3_pytorch
from spinup.algos.pytorch.trpo.trpo import trpo as trpo_pytorch
from spinup.algos.pytorch.vpg.vpg import vpg as vpg_pytorch

# Loggers
from spinup.utils.logx import EpochLogger, Logger

__version__ = "1.0.0"

# The bare names are the PyTorch versions: there is no other implementation.
ddpg = ddpg_pytorch
dqn = dqn_pytorch
ppo = ppo_pytorch
sac = sac_pytorch
td3 = td3_pytorch
trpo = trpo_pytorch
vpg = vpg_pytorch

__all__ = [
    "ddpg", "ddpg_pytorch", "td3", "td3_pytorch", "sac", "sac_pytorch", "dqn", "dqn_pytorch",
    "ppo", "ppo_pytorch", "trpo", "trpo_pytorch", "vpg", "vpg_pytorch", "Logger", "EpochLogger", "__version__"]
