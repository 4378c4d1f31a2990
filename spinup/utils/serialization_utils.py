"""Turning configurations and saved models into plain data, and back.

Nothing here unpickles code: configurations become JSON (anything that is not JSON-able is shown
by its repr), and saved models hold tensors, numbers and strings only, so that
``torch.load(..., weights_only=True)`` can read them.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile

import numpy as np
import torch

from spinup.utils.checks import UserError


def convert_json(obj):
    """A JSON-able copy of ``obj``; objects JSON can't hold become their name or repr (the name of
    their class when the repr would only give their address)."""
    if is_json_serializable(obj):
        return obj
    if isinstance(obj, dict):
        return {str(convert_json(k)): convert_json(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list, set)):
        return [convert_json(x) for x in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
        return qualified_name(obj)
    if type(obj).__repr__ is object.__repr__:
        # the default repr names a memory address, which says nothing and differs between runs
        return f"<{qualified_name(type(obj))} object>"
    return repr(obj)


def is_json_serializable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError, OverflowError):
        return False


def qualified_name(obj) -> str:
    """``module.QualName`` of a class or function, e.g. ``torch.nn.modules.activation.Tanh``."""
    return f"{obj.__module__}.{obj.__qualname__}"


def import_by_name(name: str):
    """The object a qualified name points to; only classes and functions, never ``eval``."""
    module_name, _, attr = name.rpartition(".")
    if not module_name:
        raise UserError(f"'{name}' is not a dotted name such as torch.nn.Tanh.")
    try:
        obj = importlib.import_module(module_name)
    except ImportError:
        # Nested names (Outer.Inner): import the longest prefix that is a module.
        return import_by_name(module_name) if "." in module_name else _missing(name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            _missing(name)
        obj = getattr(obj, part)
    return obj


def _missing(name):
    raise UserError(f"'{name}' does not name an importable class or function.")


def atomic_write(path: str, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    A reader (or a crash) never sees a half-written file: the rename is atomic on POSIX.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_" + os.path.basename(path))
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; give the usual permissions
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ----------------------------------------------------------------------------------------------
# Gymnasium spaces as plain data, so a saved policy can be rebuilt without its environment.
# ----------------------------------------------------------------------------------------------


def space_to_dict(space, as_json: bool = False) -> dict:
    """A Box or Discrete space as plain data, for the record of a saved model.

    Args:
        space: A ``gymnasium.spaces.Box`` or ``Discrete``.
        as_json: How a Box keeps its bounds. ``False``: as tensors of the space's dtype, for a
            PyTorch model file read by ``torch.load(..., weights_only=True)``. ``True``: as nested
            lists of floats beside the shape, for the JSON record of a JAX model (float32 bounds
            survive the trip through Python floats exactly; JSON writes inf as Infinity).

    :func:`dict_to_space` reads both forms.
    """
    from gymnasium import spaces

    if isinstance(space, spaces.Box):
        if as_json:
            return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                    "low": np.asarray(space.low, np.float64).tolist(),
                    "high": np.asarray(space.high, np.float64).tolist()}
        return {"type": "Box", "low": torch.as_tensor(space.low), "high": torch.as_tensor(space.high),
                "dtype": str(space.dtype)}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    raise UserError(
        f"Saving a model for a {type(space).__name__} space is not supported; "
        "only Box and Discrete spaces are."
    )


def dict_to_space(d: dict):
    """The inverse of :func:`space_to_dict`, for either form of the bounds."""
    from gymnasium import spaces

    if d["type"] == "Box":
        dtype = np.dtype(d["dtype"])

        def bound(b):
            if isinstance(b, torch.Tensor):
                return b.numpy()
            return np.asarray(b, dtype).reshape(tuple(d["shape"]))

        return spaces.Box(low=bound(d["low"]), high=bound(d["high"]), dtype=dtype)
    if d["type"] == "Discrete":
        return spaces.Discrete(d["n"], start=d.get("start", 0))
    raise UserError(f"Unknown space type '{d['type']}' in a saved model.")


def encode_kwargs(kwargs: dict, as_json: bool = False) -> dict:
    """A model's constructor arguments (``ac_kwargs``) as saved data: classes and functions (an
    activation) become ``{"__callable__": "module.Name"}``.

    With ``as_json`` every other value is made JSON-able by :func:`convert_json` (the record of a
    JAX model is JSON); without it, tuples become lists and the rest is kept as it is (a PyTorch
    model file holds tensors too).
    """
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, type) or (callable(v) and hasattr(v, "__qualname__")):
            out[k] = {"__callable__": qualified_name(v)}
        elif as_json:
            out[k] = convert_json(v)
        elif isinstance(v, tuple):
            out[k] = list(v)
        else:
            out[k] = v
    return out


def rebuild_kwargs(kwargs: dict) -> dict:
    """The inverse of :func:`encode_kwargs`: a saved ``ac_kwargs`` with each
    ``{"__callable__": "module.Name"}`` imported back into the class or function it names (as
    ``spinup ALGO --resume`` does to rebuild a run's actor-critic arguments)."""
    return {
        k: import_by_name(v["__callable__"]) if isinstance(v, dict) and "__callable__" in v else v
        for k, v in kwargs.items()
    }


def describe_model(module, env, ac_kwargs: dict, as_json: bool = False) -> dict:
    """What both frameworks' model records hold besides the weights: the module's class, the
    environment's id (see :func:`spinup.utils.envs.env_record`), its two spaces and the module's
    constructor arguments, in the form ``as_json`` picks (see :func:`space_to_dict`)."""
    from spinup.utils.envs import env_record

    return {
        "class": qualified_name(type(module)),
        **env_record(env),
        "observation_space": space_to_dict(env.observation_space, as_json),
        "action_space": space_to_dict(env.action_space, as_json),
        "ac_kwargs": encode_kwargs(dict(ac_kwargs or {}), as_json),
    }


def construct_from_record(record: dict, base: type, kind: str):
    """A fresh module of the class a record names, built from its saved spaces and arguments.

    The class must be a subclass of ``base`` (``kind`` names it in the error): a record can only
    rebuild a model, never call anything else it names.
    """
    cls = import_by_name(record["class"])
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UserError(f"The saved model names '{record['class']}', which is not a {kind}.")
    return cls(
        dict_to_space(record["observation_space"]),
        dict_to_space(record["action_space"]),
        **rebuild_kwargs(record["ac_kwargs"]),
    )


def model_record(module: torch.nn.Module, env, ac_kwargs: dict) -> dict:
    """Everything needed to rebuild ``module`` and its environment: class, arguments, weights."""
    return {
        "format": "spinup-model-1",
        **describe_model(module, env, ac_kwargs),
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
    }


def rebuild_model(record: dict) -> torch.nn.Module:
    """The inverse of :func:`model_record`: a module of the saved class with the saved weights."""
    module = construct_from_record(record, torch.nn.Module, "torch.nn.Module")
    module.load_state_dict(record["state_dict"])
    return module


def safe_torch_load(path: str):
    """``torch.load`` that executes no pickled code, and says clearly when a file is damaged."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"No file at {path}.") from None
    except Exception as e:  # a truncated zip, a pickle of arbitrary objects, ...
        raise UserError(
            f"Could not read {path}: it is damaged or was not written by spinup ({type(e).__name__})."
        ) from None
