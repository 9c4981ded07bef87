"""Keras' ``keras.metrics`` path: ``keras.metrics.SparseCategoricalAccuracy()``.

Re-exports :mod:`cnnkit.training.metrics`; ``get`` resolves a name or class as
Keras' ``keras.metrics.get`` does.
"""

from cnnkit.training.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    Metric,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from cnnkit.training.metrics import get_metric as get

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "Metric",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "get",
]
