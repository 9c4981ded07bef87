"""In-memory arrays batched by index gather and normalised per batch.

The images stay in their stored dtype (uint8 for the datasets: 47 MB for
MNIST instead of 188 MB of float32); each batch is one ``index_select`` and
one cast, never a per-sample collate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.data._order import draw_seed, epoch_permutation

__all__ = ["ArrayBatches", "as_tensor", "check_batch_size"]


def as_tensor(value: Any, name: str) -> torch.Tensor:
    """``value`` (NumPy array, list or tensor) as a CPU tensor without copying where possible."""
    if isinstance(value, torch.Tensor):
        return value
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise invalid_type(
            f"`{name}` must be a numeric array.",
            expected="a NumPy array or torch tensor of numbers",
            received={f"{name}.dtype": str(arr.dtype)},
        )
    return torch.from_numpy(np.ascontiguousarray(arr))


def check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise invalid_type("`batch_size` must be an integer.", received={"batch_size": batch_size})
    if batch_size < 1:
        raise invalid_value(
            "`batch_size` must be positive.",
            expected="an integer >= 1",
            received={"batch_size": batch_size},
        )
    return int(batch_size)


class ArrayBatches:
    """Batches of in-memory ``x`` (and ``y``), gathered by index.

    Args:
        x: Inputs ``(samples, ...)``, e.g. uint8 ``(60000, 28, 28, 1)``; NumPy
            or torch, kept in its dtype (not copied when already contiguous).
        y: Targets ``(samples, ...)`` or None. Integer labels become int64,
            floating ones float32.
        batch_size: Samples per batch; the last batch may be smaller. Default 32.
        shuffle: A new permutation every epoch. Default True.
        seed: Base seed of the orders; None draws one from torch's global
            generator. Epoch ``e`` uses the same order for the same seed.
        scale: Multiply each float batch by this (``1/255`` maps uint8 to
            0..1). Default None: values kept (uint8 -> float 0..255, as Keras).
        device: Move ``x``/``y`` there once (in their stored dtype), so on a
            GPU the data stays on the device. Default None: where they are.

    Iterating yields ``(x_batch float32, y_batch)`` (or ``x_batch`` alone when
    ``y`` is None) for one epoch and advances :attr:`epoch`.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        scale: float | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        self.x = as_tensor(x, "x")
        self.y = None if y is None else as_tensor(y, "y")
        if self.x.ndim == 0:
            raise invalid_value("`x` must have a samples axis.", received={"x.shape": ()})
        if self.y is not None:
            if self.y.ndim == 0 or self.y.shape[0] != self.x.shape[0]:
                raise invalid_value(
                    "`x` and `y` must have the same number of samples.",
                    received={"len(x)": self.x.shape[0], "len(y)": tuple(self.y.shape)[:1]},
                )
            self.y = self.y.long() if not self.y.is_floating_point() else self.y.float()
        if device is not None:
            self.x = self.x.to(device)
            self.y = None if self.y is None else self.y.to(device)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = draw_seed() if seed is None else int(seed)
        self.scale = scale
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per epoch: ``ceil(samples / batch_size)``."""
        return math.ceil(self.x.shape[0] / self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        """The sample indices of ``epoch`` in batch order (identity when not shuffling)."""
        n = self.x.shape[0]
        return epoch_permutation(n, self.seed, epoch) if self.shuffle else torch.arange(n)

    def take(self, indices: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The batch of ``indices``: one gather per array, then a cast (and ``scale``)."""
        indices = indices.to(self.x.device)
        xb = self.x.index_select(0, indices).to(torch.float32)
        if self.scale is not None:
            xb.mul_(self.scale)
        if self.y is None:
            return xb
        return xb, self.y.index_select(0, indices.to(self.y.device))

    def __iter__(self) -> Iterator[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        order = self.order(self.epoch)
        self.epoch += 1
        for start in range(0, order.numel(), self.batch_size):
            yield self.take(order[start : start + self.batch_size])
