"""``ImageDataGenerator.flow``: augmented batches of in-memory arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_value
from cnnkit.data._arrays import as_tensor
from cnnkit.preprocessing._sequence import BatchSequence, BatchTransform

__all__ = ["NumpyArrayIterator"]


def _split(arrays: list[Any], fraction: float, subset: str, y: Any, check_classes: bool):
    """Keras' flow split: the first ``int(n * fraction)`` samples are the validation subset."""
    cut = int(len(arrays[0]) * fraction)
    if check_classes and y is not None:
        labels = np.asarray(y)
        if not np.array_equal(np.unique(labels[:cut]), np.unique(labels[cut:])):
            raise invalid_value(
                "The training and validation subsets have different classes after the split.",
                hint="If the arrays are sorted by label, shuffle them first; or pass "
                "ignore_class_split=True.",
            )
    keep = slice(0, cut) if subset == "validation" else slice(cut, None)
    return [None if a is None else a[keep] for a in arrays]


class NumpyArrayIterator(BatchSequence):
    """Batches of ``x`` (and ``y``, ``sample_weight``), augmented by an ``ImageDataGenerator``.

    Yields NumPy arrays as Keras does: ``x`` float32 ``(batch, height, width,
    channels)``, ``y`` and ``sample_weight`` rows as given. ``x`` is kept in its
    dtype (uint8 stays uint8) and gathered by index, one batch at a time.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        generator: BatchTransform,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        subset: str | None = None,
        ignore_class_split: bool = False,
    ) -> None:
        x_t = as_tensor(x, "x")
        if x_t.ndim != 4:
            raise invalid_value(
                "ImageDataGenerator.flow: `x` must be a batch of images (rank 4).",
                expected="shape (samples, height, width, channels)",
                received={"x.shape": tuple(x_t.shape)},
            )
        for name, arr in (("y", y), ("sample_weight", sample_weight)):
            if arr is not None and len(arr) != x_t.shape[0]:
                raise invalid_value(
                    f"ImageDataGenerator.flow: `x` and `{name}` must have the same length.",
                    received={"len(x)": x_t.shape[0], f"len({name})": len(arr)},
                )
        y = None if y is None else np.asarray(y)
        w = None if sample_weight is None else np.asarray(sample_weight)
        if subset is not None:
            fraction = generator.validation_split
            if not fraction:
                raise invalid_value(
                    "ImageDataGenerator.flow: `subset` needs the generator's `validation_split`.",
                    received={"subset": subset, "validation_split": fraction},
                )
            if subset not in ("training", "validation"):
                raise invalid_value(
                    "ImageDataGenerator.flow: unknown `subset`.",
                    received={"subset": subset},
                    choices=["training", "validation"],
                )
            x_t, y, w = _split([x_t, y, w], fraction, subset, y, not ignore_class_split)
        self._check_not_empty(x_t.shape[0], "ImageDataGenerator.flow")
        super().__init__(x_t.shape[0], batch_size, shuffle, seed)
        self.x, self.y, self.sample_weight = x_t, y, w
        self.image_data_generator = generator

    def _get_batch(self, indices: np.ndarray, rng: np.random.Generator) -> Any:
        index = torch.from_numpy(indices)
        xb = self.image_data_generator.transform_batch(self.x.index_select(0, index), rng)
        if self.y is None:
            return xb
        if self.sample_weight is None:
            return xb, self.y[indices]
        return xb, self.y[indices], self.sample_weight[indices]
