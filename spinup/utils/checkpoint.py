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

Resuming from it on CPU with the number of processes that wrote it (one, or N under MPI: each rank
saves and restores its own part) reproduces the rows an uninterrupted run would have written.
"""

from __future__ import annotations

import hashlib
import numbers
import re
from collections import deque

import numpy as np
import torch

from spinup.utils import jax_checkpoint
from spinup.utils.checks import UserError, check

FORMAT = "spinup-checkpoint-1"


# ----------------------------------------------------------------------------------------------
# Objects
# ----------------------------------------------------------------------------------------------


def _to_saved(v):
    """``v`` as data a weights-only load accepts: tensors, numbers, strings and containers."""
    if isinstance(v, np.generic):  # numpy scalars are not plain data to a weights-only load
        return v.item()
    if isinstance(v, np.ndarray):
        v = np.array(v, order="C", copy=True)  # keeps 0-d arrays 0-d
        try:
            return {"__ndarray__": torch.from_numpy(v)}
        except TypeError:  # strings, bytes and other dtypes torch has no tensor for: keep the raw bytes
            raw = torch.from_numpy(v.reshape(-1).view(np.uint8).copy())
            return {"__ndarray_raw__": raw, "dtype": v.dtype.str, "shape": list(v.shape)}
    if torch.is_tensor(v):
        return v.detach().cpu().clone()
    if isinstance(v, deque):
        return {"__deque__": [_to_saved(x) for x in v], "maxlen": v.maxlen}
    if isinstance(v, tuple):
        return tuple(_to_saved(x) for x in v)
    if isinstance(v, list):
        return [_to_saved(x) for x in v]
    if isinstance(v, dict):
        return {"__dict__": [(_to_saved(k), _to_saved(x)) for k, x in v.items()]}
    return v


def _from_saved(v):
    if isinstance(v, dict) and "__ndarray__" in v:
        return v["__ndarray__"].numpy()
    if isinstance(v, dict) and "__ndarray_raw__" in v:
        return v["__ndarray_raw__"].numpy().view(np.dtype(v["dtype"])).reshape(v["shape"]).copy()
    if isinstance(v, dict) and "__deque__" in v:
        return deque((_from_saved(x) for x in v["__deque__"]), maxlen=v["maxlen"])
    if isinstance(v, dict) and "__dict__" in v:
        return {_from_saved(k): _from_saved(x) for k, x in v["__dict__"]}
    if isinstance(v, tuple):
        return tuple(_from_saved(x) for x in v)
    if isinstance(v, list):
        return [_from_saved(x) for x in v]
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

# Attributes that describe an environment rather than hold its state, and rendering objects.
_NOT_STATE = {"env", "spec", "metadata", "render_mode", "action_space", "observation_space", "_action_space",
              "_observation_space", "_metadata", "_cached_spec", "_saved_kwargs", "_np_random", "np_random"}
_RENDERING = re.compile(r"screen|clock|window|viewer|renderer|surface|font|img")
# Arrays and containers larger than this are saved only when they changed since the environment
# was built: constant data (a map, a lookup table) needs no copy in every checkpoint.
_LARGE = 4096


def _is_plain(v, depth: int = 0) -> bool:
    """Whether ``v`` is data a checkpoint can hold exactly (numbers, strings, arrays, containers)."""
    if v is None or isinstance(v, (numbers.Number, str, bytes, np.generic)):
        return not isinstance(v, complex)
    if isinstance(v, np.ndarray):
        return v.dtype != object
    if depth > 8:
        return False
    if isinstance(v, (list, tuple, deque)):
        return all(_is_plain(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, (str, int)) and _is_plain(x, depth + 1) for k, x in v.items())
    return False


def _size(v) -> int:
    if isinstance(v, np.ndarray):
        return v.nbytes
    if isinstance(v, (list, tuple, deque, dict)):
        return len(v) * 8 + sum(_size(x) for x in (v.values() if isinstance(v, dict) else v))
    return 8


def _digest(v) -> str:
    h = hashlib.blake2b(digest_size=16)

    def feed(x):
        if isinstance(x, np.ndarray):
            h.update(f"a{x.dtype.str}{x.shape}".encode())
            h.update(np.ascontiguousarray(x).tobytes())
        elif isinstance(x, dict):
            h.update(b"{")
            for k, y in x.items():
                feed(k)
                feed(y)
            h.update(b"}")
        elif isinstance(x, (list, tuple, deque)):
            h.update(type(x).__name__.encode() + b"[")
            for y in x:
                feed(y)
            h.update(b"]")
        else:
            h.update(f"{type(x).__name__}:{x!r};".encode())

    feed(v)
    return h.hexdigest()


def _layers(env) -> list:
    """The wrappers of ``env`` from the outside in, then the base environment."""
    layers, layer = [], env
    while layer is not None and layer is not env.unwrapped:
        layers.append(layer)
        layer = getattr(layer, "env", None)
    return layers + [env.unwrapped]


def _attribute_names(layer, base: bool) -> list:
    if base and _is_mujoco(layer):
        return []  # a MuJoCo task's state is its simulator's, saved field by field
    names = []
    for k, v in vars(layer).items():
        if k in _NOT_STATE or (base and k.startswith("_np_random")) or _RENDERING.search(k):
            continue
        if callable(v) or isinstance(v, type) or _is_description(v):
            continue
        names.append(k)
    return names


def _is_description(v) -> bool:
    import gymnasium as gym

    return isinstance(v, (gym.Space, gym.Env, gym.envs.registration.EnvSpec))


def _is_mujoco(base) -> bool:
    return hasattr(base, "data") and hasattr(base, "model")


def env_constants(env) -> dict:
    """Digests of the large arrays and containers of ``env`` as built (before any step), so that a
    checkpoint can leave out those that never change."""
    out = {}
    for i, layer in enumerate(_layers(env)):
        for k in _attribute_names(layer, base=layer is env.unwrapped):
            v = getattr(layer, k)
            if _is_plain(v) and not isinstance(v, (numbers.Number, str, bytes, type(None))) and _size(v) > _LARGE:
                out[(i, k)] = _digest(v)
    return out


def _generator_state(v):
    if isinstance(v, np.random.Generator):
        return {"__generator__": v.bit_generator.state}
    if isinstance(v, np.random.RandomState):
        return {"__random_state__": _to_saved(v.get_state(legacy=False))}
    return None


def env_state(env, constants: dict | None = None) -> dict:
    """Everything that decides an environment's next steps, as plain data.

    ``constants`` (from :func:`env_constants`) names large arrays that are left out when they are
    unchanged since the environment was built; their digest is kept instead. Attributes that are
    neither plain data nor descriptions (a simulator object, a game engine) are listed under
    ``"unsaved"``: such an environment cannot be continued from the checkpoint.
    """
    constants = constants or {}
    state = {"elapsed_steps": None, "rng": None, "action_rng": None, "sim": {}, "layers": [], "unchanged": [],
             "unsaved": []}
    time_limit = _time_limit(env)
    if time_limit is not None:
        state["elapsed_steps"] = time_limit._elapsed_steps
    base = env.unwrapped
    if getattr(base, "_np_random", None) is not None:
        state["rng"] = base._np_random.bit_generator.state
    if getattr(env.action_space, "_np_random", None) is not None:
        state["action_rng"] = env.action_space.np_random.bit_generator.state
    layers = _layers(env)
    for i, layer in enumerate(layers):
        is_base = layer is base
        saved = {}
        for k in _attribute_names(layer, is_base):
            v = getattr(layer, k)
            gen = _generator_state(v)
            if gen is not None:
                saved[k] = gen
            elif not _is_plain(v):
                state["unsaved"].append(k if is_base else f"{type(layer).__name__}.{k}")
            elif (i, k) in constants and constants[(i, k)] == _digest(v):
                state["unchanged"].append([i, k, constants[(i, k)]])
            else:
                saved[k] = _to_saved(v)
        if is_base:
            state["sim"] = saved
        else:
            state["layers"].append({"type": type(layer).__name__, "attrs": saved})
    if _is_mujoco(base):  # a MuJoCo task
        state["sim"] = {f: _to_saved(np.array(getattr(base.data, f))) for f in _MUJOCO_FIELDS
                        if hasattr(base.data, f)}
        state["sim_kind"] = "mujoco"
    else:  # classic control and other pure-Python tasks keep their state in plain attributes
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


def _set_attributes(layer, saved: dict) -> None:
    for k, v in saved.items():
        if isinstance(v, dict) and "__generator__" in v and isinstance(getattr(layer, k, None), np.random.Generator):
            getattr(layer, k).bit_generator.state = v["__generator__"]
        elif isinstance(v, dict) and "__random_state__" in v and isinstance(getattr(layer, k, None),
                                                                             np.random.RandomState):
            getattr(layer, k).set_state(_from_saved(v["__random_state__"]))
        else:
            setattr(layer, k, _from_saved(v))


def set_env_state(env, state: dict) -> list:
    """Load ``state`` into ``env``. Returns what could not be restored (empty when the environment
    now is exactly as it was when the checkpoint was written)."""
    time_limit = _time_limit(env)
    if time_limit is not None and state["elapsed_steps"] is not None:
        time_limit._elapsed_steps = state["elapsed_steps"]
    base = env.unwrapped
    if state["rng"] is not None:
        base.np_random.bit_generator.state = state["rng"]
    if state["action_rng"] is not None:
        env.action_space.np_random.bit_generator.state = state["action_rng"]
    layers = _layers(env)
    problems = list(state.get("unsaved", []))
    # Wrappers are matched by type, in order: a wrapper added or removed since the checkpoint
    # (say, one that simulates a crash) leaves the others' state to be restored.
    saved_layers = state.get("layers", [])
    matched, j = {len(saved_layers): base}, 0
    for layer in layers[:-1]:
        for k in range(j, len(saved_layers)):
            if saved_layers[k]["type"] == type(layer).__name__:
                matched[k], j = layer, k + 1
                break
    for k, layer in matched.items():
        if layer is not base:
            _set_attributes(layer, saved_layers[k]["attrs"])
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
        _set_attributes(base, state["sim"])
    for i, k, digest in state.get("unchanged", []):
        layer = matched.get(i)
        if layer is None or not hasattr(layer, k) or _digest(getattr(layer, k)) != digest:
            problems.append(k)  # constant data that differs here from the saved run's
    return problems


# ----------------------------------------------------------------------------------------------
# The checkpoint file
# ----------------------------------------------------------------------------------------------


def process_state(envs: dict, loop: dict, constants: dict | None = None) -> dict:
    """What one process of a run holds of its own: random states, environments, loop position."""
    constants = constants or {}
    return {
        "envs": {name: env_state(env, constants.get(name)) for name, env in envs.items()},
        "rng": rng_state(),
        "loop": {k: _to_saved(v) for k, v in loop.items()},
    }


def make_checkpoint(objects: dict, envs: dict, loop: dict, buffer_limit: int | None, constants: dict | None = None,
                    other_processes: list | None = None) -> tuple[dict, list]:
    """The checkpoint record, and the names of buffers left out because of their size.

    ``other_processes`` holds :func:`process_state` of MPI ranks 1, 2, ... (rank 0's is the
    record's own ``envs``, ``rng`` and ``loop``).
    """
    saved, skipped = {}, []
    for name, obj in objects.items():
        s = object_state(obj, buffer_limit)
        if s is None:
            skipped.append(name)
        else:
            saved[name] = s
    record = {"format": FORMAT, "objects": saved, **process_state(envs, loop, constants),
              "processes": [dict(p) for p in other_processes or []]}
    return record, skipped


def apply_checkpoint(record: dict, objects: dict, envs: dict, rank: int = 0) -> dict:
    """Load ``record`` into the registered objects, and the state of process ``rank`` into its
    environments and random-number generators; return that process's loop position.

    The returned dict has ``"missing"`` (objects the checkpoint lacks), ``"env_problems"`` (per
    environment, what could not be restored) and ``"own_state"``: False when the checkpoint holds
    nothing for this rank (it was written by fewer processes), in which case the environments and
    generators are left as they are and the loop position is rank 0's.
    """
    check(isinstance(record, dict) and record.get("format") == FORMAT,
          "The checkpoint was not written by this version of spinup and cannot be resumed.")
    missing = [n for n in objects if n not in record["objects"]]
    for name, obj in objects.items():
        if name in record["objects"]:
            load_object_state(obj, record["objects"][name])
    processes = record.get("processes", [])
    own = record if rank == 0 else (processes[rank - 1] if rank - 1 < len(processes) else None)
    problems = {}
    if own is not None:
        for name, env in envs.items():
            if name in own["envs"]:
                problems[name] = set_env_state(env, own["envs"][name])
        set_rng_state(own["rng"])
    loop = {k: _from_saved(v) for k, v in (own or record)["loop"].items()}
    loop.update(missing=missing, env_problems=problems, own_state=own is not None, processes=1 + len(processes))
    return loop


def check_resumable(path: str) -> None:
    import os.path as osp

    if not osp.exists(path):
        raise UserError(f"There is no checkpoint at {path}; a run writes one at the end of every save_freq-th "
                        "epoch, so pass the directory of a run that finished at least one.")
