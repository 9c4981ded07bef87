"""Keras 3's ``keras.random``: ``normal``, ``uniform`` and ``SeedGenerator`` on torch.

Draws are made on the CPU from a ``torch.Generator`` (a ``SeedGenerator``'s own,
or torch's global one when ``seed`` is None) and then moved to the training
device (CUDA > MPS > CPU, as ``compile(device="auto")`` picks), so a seeded
draw is the same on every machine. ``BackupAndRestore`` saves the state of
every ``SeedGenerator`` a model keeps as an attribute, so a resumed GAN draws
the same latent vectors as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._errors import invalid_type
from cnnkit.training._engine import resolve_device

__all__ = ["SeedGenerator", "normal", "uniform"]


class SeedGenerator:
    """A seeded random stream (Keras' ``keras.random.SeedGenerator(seed)``).

    Args:
        seed: Integer seed; None draws one from torch's global generator.
    """

    def __init__(self, seed: int | None = None, **keras_kwargs: Any) -> None:
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise invalid_type("SeedGenerator: `seed` must be an integer.", received={"seed": seed})
        self.seed = seed
        self.torch_generator = torch.Generator().manual_seed(seed)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed})"


def _generator(seed: Any) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.torch_generator
    if isinstance(seed, int) and not isinstance(seed, bool):
        return torch.Generator().manual_seed(seed)
    raise invalid_type(
        "keras.random: `seed` must be None, an integer or a SeedGenerator.",
        received={"seed": seed},
    )


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    if isinstance(shape, (Sequence, torch.Size)):
        return tuple(int(s) for s in shape)
    raise invalid_type("keras.random: `shape` must be a tuple of ints.", received={"shape": shape})


def normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Samples of ``N(mean, stddev²)`` of ``shape``, on the training device."""
    draw = torch.randn(_shape(shape), generator=_generator(seed))
    return (draw * stddev + mean).to(resolve_device("auto"))


def uniform(
    shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Samples of ``U[minval, maxval)`` of ``shape``, on the training device."""
    draw = torch.rand(_shape(shape), generator=_generator(seed))
    return (draw * (maxval - minval) + minval).to(resolve_device("auto"))
