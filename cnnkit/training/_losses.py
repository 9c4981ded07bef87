"""Keras' crossentropy and basic regression losses, and ``get_loss`` (every loss by name).

The base class, its Keras call and the engine's per-sample path live in
:mod:`._loss_base`; the regression, distribution, margin and focal losses in
:mod:`._losses_extra`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_type, unknown_name
from cnnkit.training._loss_base import EPSILON as _EPSILON
from cnnkit.training._loss_base import FunctionLoss, Loss
from cnnkit.training._loss_base import mean_last as _mean_last
from cnnkit.training._losses_extra import (
    BinaryFocalCrossentropy,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Poisson,
    SquaredHinge,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "FunctionLoss",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get_loss",
]


class CategoricalCrossentropy(Loss):
    """``-Σ y·log p`` over the class axis; labels are one-hot (or soft) vectors."""

    name = "categorical_crossentropy"
    label_kind = "dense"
    pairs_with = "softmax"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        y_true = y_true.to(y_pred.dtype)
        if self.label_smoothing:
            classes = y_pred.shape[-1]
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        if logits:
            log_p = F.log_softmax(y_pred, dim=-1)
        else:
            probs = y_pred / y_pred.sum(dim=-1, keepdim=True)
            log_p = probs.clamp(_EPSILON, 1.0 - _EPSILON).log()
        return -(y_true * log_p).sum(dim=-1)


class SparseCategoricalCrossentropy(Loss):
    """Crossentropy with integer class labels ``(batch,)`` or ``(batch, 1)``."""

    name = "sparse_categorical_crossentropy"
    label_kind = "sparse"
    pairs_with = "softmax"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        target = y_true.reshape(y_pred.shape[:-1]).long()
        if logits:
            return F.cross_entropy(
                y_pred, target, reduction="none", label_smoothing=self.label_smoothing
            )
        log_p = (y_pred / y_pred.sum(dim=-1, keepdim=True)).clamp(_EPSILON, 1.0 - _EPSILON).log()
        nll = -log_p.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        if self.label_smoothing:
            smooth = -log_p.mean(dim=-1)
            return (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        return nll


class BinaryCrossentropy(Loss):
    """Elementwise binary crossentropy averaged over the last axis; labels in [0, 1]."""

    name = "binary_crossentropy"
    pairs_with = "sigmoid"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        y_true = y_true.to(y_pred.dtype).reshape(y_pred.shape)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if logits:
            bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        else:
            p = y_pred.clamp(_EPSILON, 1.0 - _EPSILON)
            bce = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
        return _mean_last(bce)


class MeanSquaredError(Loss):
    """``mean((y_true - y_pred)²)`` over the last axis."""

    name = "mean_squared_error"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        return _mean_last((y_true.to(y_pred.dtype).reshape(y_pred.shape) - y_pred).square())


class MeanAbsoluteError(Loss):
    """``mean(|y_true - y_pred|)`` over the last axis."""

    name = "mean_absolute_error"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        return _mean_last((y_true.to(y_pred.dtype).reshape(y_pred.shape) - y_pred).abs())


_BY_NAME: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
    "log_cosh": LogCosh,
    "logcosh": LogCosh,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson,
    "cosine_similarity": CosineSimilarity,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
}


def get_loss(loss: str | Loss | type[Loss] | Callable[..., Any]) -> Loss:
    """Resolve ``compile``'s ``loss``: a Keras name, a :class:`Loss` or its class, or a function.

    Keras' loss functions (``losses.categorical_crossentropy``) map to their class, so they
    keep the stable from-logits path and the label checks; any other callable
    ``fn(y_true, y_pred)`` becomes a :class:`FunctionLoss`.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    keras_class = getattr(loss, "keras_loss_class", None)
    if keras_class is not None:
        return keras_class()
    if callable(loss) and not isinstance(loss, (str, type)):
        return FunctionLoss(loss)
    if isinstance(loss, str):
        key = loss.lower()
        if key not in _BY_NAME:
            raise unknown_name("loss", loss, _BY_NAME, argument="loss")
        return _BY_NAME[key]()
    raise invalid_type(
        "compile(): `loss` must be a loss name, a cnnkit.training.losses.Loss or a function "
        "fn(y_true, y_pred).",
        received={"loss": loss},
        choices=sorted(_BY_NAME),
    )
