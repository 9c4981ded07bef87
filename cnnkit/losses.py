"""Keras' ``keras.losses`` path: ``keras.losses.CategoricalCrossentropy()``.

Re-exports :mod:`cnnkit.training.losses`; ``get`` resolves a name or class as
Keras' ``keras.losses.get`` does.
"""

from cnnkit.training.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from cnnkit.training.losses import get_loss as get

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
]
