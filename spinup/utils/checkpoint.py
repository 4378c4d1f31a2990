"""Full checkpoints for resuming a run: networks, optimisers, buffers, counters, random states.

A checkpoint holds only tensors, numbers, strings and containers of them, so it loads with
``torch.load(..., weights_only=True)``. It captures, at the end of an epoch:

- every registered object: modules and optimisers by their ``state_dict``; other objects (replay
  buffers) by their array and number attributes, only the filled part of a buffer;
- the random-number generators of numpy (global), torch (CPU and CUDA), and each environment
  (its own generator and its action space's);
- each environment's simulator state (MuJoCo positions, velocities, warm starts; the state
  attributes of classic-control tasks) and its time-limit counter, so an episode that runs across
  the epoch boundary continues exactly as it would have;
- the loop's position (epoch, current observation, return and length of the episode so far).

Resuming from it on CPU, one process, reproduces the rows an uninterrupted run would have written.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from spinup.utils import jax_checkpoint
from spinup.utils.checks import UserError, check

FORMAT = "spinup-checkpoint-1"


# ----------------------------------------------------------------------------------------------
# Objects
# ----------------------------------------------------------------------------------------------


def _to_saved(v):
    if isinstance(v, np.generic):  # numpy scalars are not plain data to a weights-only load
        return v.item()
    if isinstance(v, np.ndarray):
        return {"__ndarray__": torch.from_numpy(np.array(v, order="C", copy=True))}  # keeps 0-d arrays 0-d
    if torch.is_tensor(v):
        return v.detach().cpu().clone()
    return v


def _from_saved(v):
    if isinstance(v, dict) and "__ndarray__" in v:
        return v["__ndarray__"].numpy()
    return v


def object_state(obj, buffer_limit: int | None = None):
    """The state of a module, optimiser or plain object (such as a replay buffer), or None if the
    object is a buffer holding more than ``buffer_limit`` transitions."""
    if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
        return {"kind": "state_dict", "value": obj.state_dict()}
    if jax_checkpoint.is_nnx(obj):  # a JAX twin's network or optimiser
        return {"kind": "nnx", "value": jax_checkpoint.nnx_state_dict(obj)}
    if torch.is_tensor(obj):  # a bare learned tensor, such as SAC's log temperature
        return {"kind": "tensor", "value": obj.detach().cpu().clone()}
    attrs = vars(obj)
    size, max_size = attrs.get("size"), attrs.get("max_size")
    if buffer_limit is not None and isinstance(size, int) and size > buffer_limit:
        return None
    out = {}
    for k, v in attrs.items():
        if torch.is_tensor(v) or isinstance(v, np.ndarray):
            # Only the filled prefix of a buffer is worth keeping.
            if isinstance(size, int) and isinstance(max_size, int) and v.ndim and v.shape[0] == max_size:
                v = v[:size]
            out[k] = _to_saved(v)
        elif isinstance(v, (numbers.Number, str, type(None))):
            out[k] = _to_saved(v)
    return {"kind": "attributes", "value": out}


def load_object_state(obj, state) -> None:
    if state["kind"] == "state_dict":
        obj.load_state_dict(state["value"])
        return
    if state["kind"] == "nnx":
        jax_checkpoint.load_nnx_state_dict(obj, state["value"])
        return
    if state["kind"] == "tensor":
        with torch.no_grad():
            obj.copy_(state["value"].to(obj.device))
        return
    for k, v in state["value"].items():
        current = getattr(obj, k, None)
        v = _from_saved(v)
        if torch.is_tensor(current):
            current[: v.shape[0]] = v.to(current.device) if v.ndim else v
        elif isinstance(current, np.ndarray):
            current[: v.shape[0]] = v
        else:
            setattr(obj, k, v)


# ----------------------------------------------------------------------------------------------
# Random-number generators
# ----------------------------------------------------------------------------------------------


def rng_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ----------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------

_MUJOCO_FIELDS = ("qpos", "qvel", "act", "ctrl", "qacc_warmstart", "mocap_pos", "mocap_quat", "time")


def env_state(env) -> dict:
    """Everything that decides an environment's next steps, as plain data."""
    state = {"elapsed_steps": None, "rng": None, "action_rng": None, "sim": {}}
    time_limit = _time_limit(env)
    if time_limit is not None:
        state["elapsed_steps"] = time_limit._elapsed_steps
    base = env.unwrapped
    if getattr(base, "_np_random", None) is not None:
        state["rng"] = base._np_random.bit_generator.state
    if getattr(env.action_space, "_np_random", None) is not None:
        state["action_rng"] = env.action_space.np_random.bit_generator.state
    if hasattr(base, "data") and hasattr(base, "model"):  # a MuJoCo task
        state["sim"] = {f: _to_saved(np.array(getattr(base.data, f))) for f in _MUJOCO_FIELDS
                        if hasattr(base.data, f)}
        state["sim_kind"] = "mujoco"
    else:  # classic control and other pure-Python tasks keep their state in plain attributes
        state["sim"] = {k: _to_saved(v) for k, v in vars(base).items()
                        if isinstance(v, (np.ndarray, numbers.Number, type(None))) and not k.startswith("_np_random")}
        state["sim_kind"] = "attributes"
    return state


def _time_limit(env):
    """The TimeLimit wrapper in ``env``'s stack (it counts the steps of the current episode)."""
    layer = env
    while layer is not None:
        if "_elapsed_steps" in vars(layer):
            return layer
        layer = getattr(layer, "env", None)
    return None


def set_env_state(env, state: dict) -> None:
    time_limit = _time_limit(env)
    if time_limit is not None and state["elapsed_steps"] is not None:
        time_limit._elapsed_steps = state["elapsed_steps"]
    base = env.unwrapped
    if state["rng"] is not None:
        base.np_random.bit_generator.state = state["rng"]
    if state["action_rng"] is not None:
        env.action_space.np_random.bit_generator.state = state["action_rng"]
    if state.get("sim_kind") == "mujoco":
        import mujoco

        for f, v in state["sim"].items():
            v = _from_saved(v)
            if f == "time":
                base.data.time = float(v)
            else:
                getattr(base.data, f)[...] = v
        mujoco.mj_forward(base.model, base.data)
    else:
        for k, v in state["sim"].items():
            setattr(base, k, _from_saved(v))


# ----------------------------------------------------------------------------------------------
# The checkpoint file
# ----------------------------------------------------------------------------------------------


def make_checkpoint(objects: dict, envs: dict, loop: dict, buffer_limit: int | None) -> tuple[dict, list]:
    """The checkpoint record, and the names of buffers left out because of their size."""
    saved, skipped = {}, []
    for name, obj in objects.items():
        s = object_state(obj, buffer_limit)
        if s is None:
            skipped.append(name)
        else:
            saved[name] = s
    record = {
        "format": FORMAT,
        "objects": saved,
        "envs": {name: env_state(env) for name, env in envs.items()},
        "rng": rng_state(),
        "loop": {k: _to_saved(v) for k, v in loop.items()},
    }
    return record, skipped


def apply_checkpoint(record: dict, objects: dict, envs: dict) -> dict:
    """Load ``record`` into the registered objects and environments; return the loop position."""
    check(isinstance(record, dict) and record.get("format") == FORMAT,
          "The checkpoint was not written by this version of spinup and cannot be resumed.")
    missing = [n for n in objects if n not in record["objects"]]
    for name, obj in objects.items():
        if name in record["objects"]:
            load_object_state(obj, record["objects"][name])
    for name, env in envs.items():
        if name in record["envs"]:
            set_env_state(env, record["envs"][name])
    set_rng_state(record["rng"])
    loop = {k: _from_saved(v) for k, v in record["loop"].items()}
    loop["missing"] = missing
    return loop


def check_resumable(path: str) -> None:
    import os.path as osp

    if not osp.exists(path):
        raise UserError(f"There is no checkpoint at {path}; a run writes one at the end of every save_freq-th "
                        "epoch, so pass the directory of a run that finished at least one.")
