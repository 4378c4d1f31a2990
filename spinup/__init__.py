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

# The JAX twins load on first use (``from spinup import ppo_jax``), so that ``import spinup`` needs
# neither JAX nor the time it takes to import.
_JAX_ALGOS = ("vpg", "trpo", "ppo", "ddpg", "td3", "sac", "dqn")
JAX_INSTALL_HINT = 'The JAX versions of the algorithms need JAX, Flax and Optax; install them with `pip install -e ".[jax]"`.'


def __getattr__(name: str):
    algo = name[: -len("_jax")] if name.endswith("_jax") else None
    if algo not in _JAX_ALGOS:
        raise AttributeError(f"module 'spinup' has no attribute '{name}'")
    import importlib

    from spinup.utils.checks import UserError

    for package in ("jax", "flax", "optax"):
        try:
            importlib.import_module(package)
        except ImportError:
            raise UserError(JAX_INSTALL_HINT) from None
    fn = getattr(importlib.import_module(f"spinup.algos.jax.{algo}.{algo}"), algo)
    globals()[name] = fn  # later look-ups find it without coming back here
    return fn


__all__ = [
    "ddpg", "ddpg_pytorch", "td3", "td3_pytorch", "sac", "sac_pytorch", "dqn", "dqn_pytorch",
    "ppo", "ppo_pytorch", "trpo", "trpo_pytorch", "vpg", "vpg_pytorch", "Logger", "EpochLogger", "__version__"]
