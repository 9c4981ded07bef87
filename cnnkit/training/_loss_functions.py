"""Keras' loss *functions*: ``losses.categorical_crossentropy(y_true, y_pred)``.

Each returns one value per sample, computed by the matching :class:`Loss`
class, so the two spellings give the same numbers. Passed to ``compile`` they
resolve to that class (``keras_loss_class``), which keeps the stable
from-logits path for softmax/sigmoid models and the label-shape checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnkit.training._losses import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)

__all__ = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "cosine_similarity",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "log_cosh",
    "logcosh",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]


def _as_tensor(value: Any) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)


def _loss_function(cls: type[Loss], crossentropy: bool) -> Callable[..., torch.Tensor]:
    if crossentropy:

        def fn(
            y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
        ) -> torch.Tensor:
            loss = cls(from_logits=from_logits, label_smoothing=label_smoothing)
            return loss.values(_as_tensor(y_true), _as_tensor(y_pred))
    else:

        def fn(y_true: Any, y_pred: Any) -> torch.Tensor:
            return cls().values(_as_tensor(y_true), _as_tensor(y_pred))

    fn.__name__ = fn.__qualname__ = cls.name
    fn.__doc__ = (
        f"Per-sample {cls.__name__}: ``{cls.name}(y_true, y_pred) -> (batch, ...)`` tensor "
        "(labels and predictions as tensors or arrays)."
    )
    fn.keras_loss_class = cls  # type: ignore[attr-defined]
    return fn


categorical_crossentropy = _loss_function(CategoricalCrossentropy, crossentropy=True)
sparse_categorical_crossentropy = _loss_function(SparseCategoricalCrossentropy, crossentropy=True)
binary_crossentropy = _loss_function(BinaryCrossentropy, crossentropy=True)
mean_squared_error = mse = _loss_function(MeanSquaredError, crossentropy=False)
mean_absolute_error = mae = _loss_function(MeanAbsoluteError, crossentropy=False)
binary_focal_crossentropy = _loss_function(BinaryFocalCrossentropy, crossentropy=True)
huber = _loss_function(Huber, crossentropy=False)
log_cosh = logcosh = _loss_function(LogCosh, crossentropy=False)
kl_divergence = kld = _loss_function(KLDivergence, crossentropy=False)
poisson = _loss_function(Poisson, crossentropy=False)
cosine_similarity = _loss_function(CosineSimilarity, crossentropy=False)
hinge = _loss_function(Hinge, crossentropy=False)
squared_hinge = _loss_function(SquaredHinge, crossentropy=False)
