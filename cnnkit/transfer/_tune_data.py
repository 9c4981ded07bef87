"""The data side of ``fine_tune``: the one caching pass, and mirrored training batches.

Mirroring (``augment="flip"``) is the augmentation that suits photos of
objects whose handedness carries no meaning (pets, products, scenes): a
mirrored cat is still a cat. With the cache it cannot be random per epoch
(the frozen part runs once), so the caching pass runs every *training* image
twice, as it is and mirrored, and both stages train on the 2N cached
examples. Without the cache every training batch is mirrored at random,
image by image, by cnnkit's own ``RandomFlip("horizontal")`` layer. Validation
images are never mirrored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.data._arrays import ArrayBatches
from cnnkit.layers import RandomFlip
from cnnkit.models._model import model_device
from cnnkit.transfer._extract import (
    collect,
    inference_layout,
    is_array_pair,
    iter_batches,
    resolve_precision,
    run_units,
)
from cnnkit.transfer._units import Unit, find_base

__all__ = ["MirroredBatches", "as_dataset", "cache_cuts", "check_augment", "fit_xy"]


def check_augment(augment: Any) -> bool:
    """True for ``"flip"``, False for None; a template error for anything else."""
    if augment is not None and augment != "flip":
        raise unknown_name("augment", augment, ["flip", "None"], argument="augment")
    return augment == "flip"


def as_dataset(data: Any, image_size: tuple[int, int], batch_size: int, shuffle: bool) -> Any:
    """A folder path becomes an ``image_dataset_from_directory`` dataset; anything else is kept."""
    if not isinstance(data, (str, os.PathLike)):
        return data
    from cnnkit.data import image_dataset_from_directory

    return image_dataset_from_directory(
        data, image_size=image_size, batch_size=batch_size, shuffle=shuffle
    )


def cache_budget_bytes() -> int:
    """Half the machine's physical memory: the most the cache may take (4 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return 4 * 1024**3


def _check_budget(row_bytes: int, rows: int) -> None:
    need, budget = row_bytes * rows, cache_budget_bytes()
    if need > budget:
        raise invalid_value(
            "fine_tune: the cache of the frozen part's outputs would not fit in memory.",
            expected=f"at most {budget / 1024**3:.1f} GiB (half the physical memory)",
            received={"estimated cache": f"{need / 1024**3:.1f} GiB for {rows:,} images"},
            hint="Pass cache=False (every epoch runs the whole network), a later "
            "unfreeze_from (a smaller cut), or augment=None (half the rows).",
        )


def _mirror(x: torch.Tensor) -> torch.Tensor:
    """Left-right mirror of NHWC images ``(N, H, W, C)``."""
    return x.flip(2)


def cache_cuts(
    model: nn.Module,
    units: list[Unit],
    cuts: tuple[int, int],
    data: Any,
    batch_size: int,
    *,
    mirrored: bool = False,
    precision: str = "float32",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """One pass over ``data``: the inputs of ``units[cuts[0]]`` and of ``units[cuts[1]]``.

    Args:
        model: The model the units belong to.
        units: ``model_units(model)``.
        cuts: ``(early, late)`` unit indices, ``early <= late``.
        data: Labelled images in any form ``iter_batches`` takes.
        batch_size: Images per forward pass.
        mirrored: Also run every image mirrored left-right; its rows follow the
            originals' rows (``2N`` rows in all, labels repeated).
        precision: ``"float32"`` (default), ``"bf16"`` or ``"auto"``, as
            ``extract_features``: bf16 autocast of the units; outputs are float32.

    Returns:
        ``(early_inputs (N', ...), late_inputs (N', features), labels (N',), precision)``
        with ``N'`` = N, or 2N when ``mirrored``, and the precision used.
    """
    early, late = cuts
    base = find_base(model)
    batches, total = iter_batches(data, batch_size, None if base is None else base.sample_shape[:2])
    device = model_device(model)
    used = resolve_precision(precision, device)
    seen: dict[str, Any] = {"early_shape": None, "budget_checked": False}

    def one_view(x: torch.Tensor) -> torch.Tensor:
        bf16 = torch.autocast(device.type, dtype=torch.bfloat16)
        with bf16 if used == "bf16" else nullcontext():
            a = run_units(frozen[:early], x)
            b = run_units(frozen[early:late], a)
        seen["early_shape"] = tuple(a.shape[1:])
        return torch.cat([a.flatten(1).float(), b.flatten(1).float()], dim=1)

    def views(x: torch.Tensor) -> torch.Tensor:
        row = one_view(x) if not mirrored else torch.cat([one_view(x), one_view(_mirror(x))], 1)
        if not seen["budget_checked"] and total is not None:
            # After the first batch the row size is known: refuse before filling the memory.
            _check_budget(row.shape[1] * row.element_size(), total * x.shape[0])
            seen["budget_checked"] = True
        return row

    with inference_layout(model):
        frozen = units
        if used == "bf16" and base is not None:
            # As extract_features: BN folded where bf16 rounding dwarfs the fold's.
            frozen = _folded_units(model, late, base.sample_shape, device) or units
        label = "caching (and mirroring)" if mirrored else "caching"
        flat, labels = collect(views, batches, total, device=device, verbose=True, label=label)
    if labels is None:
        raise invalid_value("fine_tune: the data has no labels.", received={"labels": None})
    if mirrored:
        flat = np.concatenate(np.split(flat, 2, axis=1))
        labels = np.concatenate([labels, labels])
    split = int(np.prod(seen["early_shape"]))
    return flat[:, :split].reshape(-1, *seen["early_shape"]), flat[:, split:], labels, used


def _folded_units(
    model: nn.Module, late: int, shape: tuple[int, ...], device: torch.device
) -> list[Unit] | None:
    """The units of a BN-folded copy of ``model`` (checked up to ``late``), None if none fold."""
    from cnnkit.transfer._folding import folded_copy
    from cnnkit.transfer._units import model_units

    probe = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0)) * 255

    def run(net: nn.Module) -> torch.Tensor:
        with torch.inference_mode():
            return run_units(model_units(net)[:late], probe.to(device)).float()

    folded, count = folded_copy(model, run)
    return model_units(folded) if count else None


class MirroredBatches:
    """Training batches with each image mirrored left-right with probability ½.

    Re-iterable (one pass per epoch) with ``len``, so ``fit`` treats it as a
    dataset. The coin flips come from torch's global generator, so
    ``set_random_seed`` makes them repeatable.

    Args:
        data: A dataset of ``(x, y)`` batches, or a pair ``(x, y)`` of arrays
            (shuffled into batches every epoch).
        batch_size: Batch size for arrays. Default 32.
    """

    def __init__(self, data: Any, batch_size: int = 32) -> None:
        if is_array_pair(data):
            data = ArrayBatches(data[0], data[1], batch_size=batch_size, shuffle=True)
        self.data = data
        self._flip = RandomFlip("horizontal")  # the layer's own per-image coin flips

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, Any]]:
        for batch in self.data:
            yield self._flip(torch.as_tensor(batch[0]), training=True), batch[1]


def fit_xy(data: Any, mirrored: bool, batch_size: int) -> tuple[Any, Any]:
    """``fit``'s ``(x, y)``: a pair ``(images, labels)`` as is, a dataset as ``(dataset, None)``."""
    if mirrored:
        return MirroredBatches(data, batch_size), None
    return data if is_array_pair(data) else (data, None)
