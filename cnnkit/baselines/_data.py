"""The comparison's data: a named dataset as float32 arrays, normalised or raw.

``normalize=True`` (the default) maps pixels to ``x / 255`` and then
standardises each channel with the training set's mean and standard
deviation: ``(x / 255 - mean_c) / std_c``. ``normalize=False`` feeds the raw
0..255 values. kNN on a one-channel image and the random forest give the same
predictions either way (a uniform scale keeps every distance ranking; trees
split on thresholds that move with the values); gradient-trained networks do
not, which is what ``--no-normalize`` shows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from cnnkit._errors import invalid_value, unknown_name

__all__ = ["DATASETS", "ComparisonData", "load_comparison_data"]

#: Name -> (module in cnnkit.datasets, keyword arguments of its load_data, description).
DATASETS: dict[str, tuple[str, dict[str, bool], str]] = {
    "mnist": ("mnist", {}, "MNIST, 60,000 / 10,000 images"),
    "fashion_mnist": ("fashion_mnist", {}, "Fashion-MNIST, 60,000 / 10,000 images"),
    "cifar10": ("cifar10", {}, "CIFAR-10, 50,000 / 10,000 images"),
    "cifar10_subset": (
        "cifar10",
        {"subset": True},
        "CIFAR-10 subset in CNNKIT_DATA (5,085 / 1,017 real images)",
    ),
}


@dataclass
class ComparisonData:
    """Float32 arrays ``(n, H, W, C)`` and int64 labels, plus what was done to them."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    normalize: bool
    description: str
    channel_mean: list[float] = field(default_factory=list)
    channel_std: list[float] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def _check_size(value: int | None, name: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise invalid_value(
            f"compare: `{name}` must be a positive number of images or None.",
            received={name: value},
        )


def load_comparison_data(
    name: str,
    *,
    normalize: bool = True,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ComparisonData:
    """Load ``name`` (see :data:`DATASETS`), keep the first ``train_size``/``test_size``
    images (None: all) and normalise as the module notes say."""
    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS, argument="dataset")
    _check_size(train_size, "train_size")
    _check_size(test_size, "test_size")
    module_name, kwargs, description = DATASETS[name]
    module = importlib.import_module(f"cnnkit.datasets.{module_name}")
    (x, y), (xt, yt) = module.load_data(**kwargs)
    x, y, xt, yt = x[:train_size], y[:train_size], xt[:test_size], yt[:test_size]
    if x.ndim == 3:  # (n, 28, 28) -> Keras' channel axis
        x, xt = x[..., None], xt[..., None]
    x, xt = x.astype(np.float32), xt.astype(np.float32)
    mean: list[float] = []
    std: list[float] = []
    if normalize:
        x /= 255.0
        xt /= 255.0
        mean_c = x.mean(axis=(0, 1, 2), dtype=np.float64)
        std_c = x.std(axis=(0, 1, 2), dtype=np.float64)
        x -= mean_c.astype(np.float32)
        x /= std_c.astype(np.float32)
        xt -= mean_c.astype(np.float32)
        xt /= std_c.astype(np.float32)
        mean, std = [float(v) for v in mean_c], [float(v) for v in std_c]
    if train_size is not None or test_size is not None:
        description += f"; first {len(x):,} / {len(xt):,} used"
    return ComparisonData(
        name,
        x,
        np.asarray(y, dtype=np.int64).reshape(-1),
        xt,
        np.asarray(yt, dtype=np.int64).reshape(-1),
        normalize,
        description,
        mean,
        std,
    )
