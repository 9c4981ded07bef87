"""Keras' ``keras.metrics`` path: ``keras.metrics.SparseCategoricalAccuracy()``.

Re-exports :mod:`cnnkit.training.metrics`; ``get`` resolves a name or class as
Keras' ``keras.metrics.get`` does.
"""

from cnnkit.training.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    Mean,
    MeanAbsoluteError,
    MeanIoU,
    MeanSquaredError,
    Metric,
    Poisson,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    SquaredHinge,
    TopKCategoricalAccuracy,
)
from cnnkit.training.metrics import get_metric as get

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanIoU",
    "MeanSquaredError",
    "Metric",
    "Poisson",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "TopKCategoricalAccuracy",
    "get",
]
