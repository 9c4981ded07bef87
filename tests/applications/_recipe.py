"""The fixtures README's weight recipe, shared by the zoo tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch


def recipe_state(manifest: dict) -> dict[str, torch.Tensor]:
    """The README's recipe: walk the manifest in order with one seeded generator."""
    g = torch.Generator().manual_seed(0)
    state: dict[str, torch.Tensor] = {}
    for key, shape, _dtype in manifest["state_dict"]:
        if key.endswith("num_batches_tracked"):
            t = torch.tensor(0)
        elif key.endswith("running_var"):
            t = torch.rand(shape, generator=g) + 0.5
        elif key.endswith("running_mean"):
            t = torch.randn(shape, generator=g) * 0.1
        elif len(shape) >= 2:
            t = torch.randn(shape, generator=g) / math.sqrt(math.prod(shape[1:]))
        elif key.endswith("bias"):
            t = torch.randn(shape, generator=g) * 0.01
        else:
            t = 1 + 0.1 * torch.randn(shape, generator=g)
        state[key] = t
    return state


def load_manifest(fixtures: Path, name: str) -> dict:
    return json.loads((fixtures / f"{name}.manifest.json").read_text())
