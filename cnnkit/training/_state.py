"""Resumable training state as (tensors, JSON) pairs: RNGs and optimizer state.

``BackupAndRestore`` writes the tensors with safetensors and the rest as JSON
metadata in the same file, so nothing is ever unpickled. Every random stream
that can influence the weights is captured: torch's CPU (and CUDA) generator,
NumPy's and Python's global generators, and the engine's data-order generator.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = [
    "capture_rng",
    "flatten_optimizer",
    "restore_rng",
    "unflatten_optimizer",
]


def capture_rng(data_order: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """All random-generator states: tensors and JSON-able metadata.

    Args:
        data_order: The state of the engine's data-order generator to store (the
            state at the start of the current epoch, so a resume redraws the same
            permutation).
    """
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    tensors = {
        "rng/torch": torch.get_rng_state(),
        "rng/data_order": data_order.clone(),
        "rng/numpy": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = state
    version, py_state, py_gauss = random.getstate()
    meta = {
        "numpy": [np_name, int(np_pos), int(np_has_gauss), float(np_gauss)],
        "python": [version, list(py_state), py_gauss],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> torch.Tensor:
    """Inverse of :func:`capture_rng`; returns the stored data-order generator state."""
    torch.set_rng_state(tensors["rng/torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng/cuda/"))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    name, pos, has_gauss, gauss = meta["numpy"]
    keys = tensors["rng/numpy"].numpy().astype(np.uint32)
    np.random.set_state((name, keys, pos, has_gauss, gauss))
    version, py_state, py_gauss = meta["python"]
    random.setstate((version, tuple(py_state), py_gauss))
    return tensors["rng/data_order"]


def flatten_optimizer(
    state: dict[str, Any], prefix: str = "optim"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and JSON (param_groups, scalars)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str = "optim"
) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer`: a dict for ``optimizer.load_state_dict``."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "/"):
            _, index, key = name.split("/", 2)
            state.setdefault(int(index), {})[key] = value
    for index, entry in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}
