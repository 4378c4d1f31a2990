"""Copy a PyTorch twin's weights into the Flax NNX network of the same structure.

Names map one to one: a torch ``nn.Sequential`` child ``"2"`` is ``layers[2]`` of an
``nnx.Sequential``, ``weight`` is ``kernel`` and every other parameter keeps its name. Layouts
differ: a torch Linear weight is (out, in) and an NNX kernel (in, out); a torch Conv2d weight is
(out, in, kh, kw) and an NNX one (kh, kw, in, out).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx


def nnx_path(torch_key: str) -> tuple:
    """The NNX state path of a torch state-dict key, e.g. ``pi.mu_net.2.weight`` -> (pi, mu_net, layers, 2, kernel)."""
    path = []
    for part in torch_key.split("."):
        if part.isdigit():
            path += ["layers", int(part)]
        else:
            path.append("kernel" if part == "weight" else part)
    return tuple(path)


def to_nnx_layout(w: np.ndarray) -> np.ndarray:
    if w.ndim == 2:  # Linear: (out, in) -> (in, out)
        return w.T
    if w.ndim == 4:  # Conv2d: (out, in, kh, kw) -> (kh, kw, in, out)
        return w.transpose(2, 3, 1, 0)
    return w


def chw_rows_to_hwc(kernel: np.ndarray, chw: tuple) -> np.ndarray:
    """Reorder the input rows of an (in, out) kernel whose inputs were flattened (C, H, W) so they
    read flattened (H, W, C), the order of NHWC features."""
    c, h, w = chw
    return kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1)


def to_nnx_state(named_tensors: dict, nnx_module: nnx.Module, image_features=None) -> nnx.State:
    """The parameters of ``nnx_module`` as an ``nnx.State``, with values from ``named_tensors``
    (torch tensors under state-dict names: a state dict, or gradients split by parameter).

    ``image_features``: the (C, H, W) shape of a CNN's output, when the first Linear after the
    convolutions (``...head.0.weight``) must have its inputs reordered from CHW to HWC.
    Raises if a parameter is missing on either side or the shapes disagree.
    """
    flat = dict(nnx.to_flat_state(nnx.state(nnx_module, nnx.Param)))
    assigned = set()
    for key, value in named_tensors.items():
        path = nnx_path(key)
        if path not in flat:
            raise KeyError(f"{key} (as {path}) has no counterpart in the NNX module")
        w = to_nnx_layout(value.detach().cpu().numpy())
        if image_features is not None and key.endswith("head.0.weight"):
            w = chw_rows_to_hwc(w, image_features)
        target = flat[path]
        if tuple(target[...].shape) != w.shape:
            raise ValueError(f"{key}: torch gives {w.shape}, NNX holds {tuple(target[...].shape)}")
        target[...] = jnp.asarray(w, dtype=target[...].dtype)
        assigned.add(path)
    missing = set(flat) - assigned
    if missing:
        raise KeyError(f"NNX parameters with no torch counterpart: {sorted(map(str, missing))}")
    return nnx.from_flat_state(flat)


def copy_torch_weights(torch_module: torch.nn.Module, nnx_module: nnx.Module, image_features=None) -> None:
    """Set every parameter of ``nnx_module`` from the same-named one of ``torch_module``."""
    nnx.update(nnx_module, to_nnx_state(torch_module.state_dict(), nnx_module, image_features))


def split_flat(flat: torch.Tensor, torch_module: torch.nn.Module) -> dict:
    """A flat vector laid out as ``torch_module.parameters()``, cut into named pieces of their shapes."""
    out, offset = {}, 0
    for name, p in torch_module.named_parameters():
        out[name] = flat[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
    return out
