"""Keras' classification and regression losses, computed stably from logits when possible.

Every loss returns one value per sample (``reduction="none"``); the engine
applies sample/class weights and Keras' ``sum_over_batch_size`` reduction.
``from_logits=False`` means the model outputs probabilities. When the engine
finds that the model ends in a softmax/sigmoid it feeds the *pre-activation*
logits instead and sets ``logits=True`` in the call, so the loss uses
``log_softmax``/``logsigmoid`` rather than ``log`` of a rounded probability.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_type, invalid_value, unknown_name

# Keras clips probabilities to [eps, 1 - eps] before taking logs.
_EPSILON = 1e-7


#: Keras loss arguments that change nothing here: the name (cnnkit names losses by
#: class), the dtype, and the class axis when it is the last one.
_NEUTRAL = {"name", "dtype"}
_REDUCTIONS = ("sum_over_batch_size", "auto", None)


def _check_keras_kwargs(owner: str, kwargs: dict[str, Any]) -> None:
    """Accept the Keras constructor arguments cnnkit honours; refuse the rest by name.

    Silently dropping ``reduction="sum"`` or ``axis=1`` would train a different
    model than the course code asks for, so only values that match cnnkit's
    behaviour pass.
    """
    for key, value in kwargs.items():
        if key in _NEUTRAL:
            continue
        if key == "reduction" and value in _REDUCTIONS:
            continue
        if key == "axis" and value == -1:
            continue
        if key in ("reduction", "axis"):
            supported = "'sum_over_batch_size'" if key == "reduction" else "-1 (the last axis)"
            raise invalid_value(
                f"{owner}: `{key}` {value!r} is not supported; cnnkit supports {supported}.",
                received={key: value},
            )
        raise unknown_name(
            f"{owner} argument", key, ["from_logits", "label_smoothing", "reduction", "axis",
                                       "name", "dtype"], argument="argument",
        )  # fmt: skip


class Loss:
    """Base class: a callable ``loss(y_true, y_pred, logits=None) -> (batch,)`` tensor.

    Args:
        from_logits: Whether ``y_pred`` holds logits (True) or probabilities.
        label_smoothing: Mix the targets with the uniform distribution by this
            fraction (0 disables it); crossentropy losses only.
    """

    name: ClassVar[str] = "loss"
    #: What the last axis of the labels must look like: "sparse", "dense" or "any".
    label_kind: ClassVar[str] = "any"
    #: The activation whose logits the loss can use directly ("softmax"/"sigmoid").
    pairs_with: ClassVar[str | None] = None

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, **keras_kwargs: Any
    ) -> None:
        _check_keras_kwargs(type(self).__name__, keras_kwargs)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise invalid_value(
                f"{type(self).__name__}: `label_smoothing` must be in [0, 1).",
                received={"label_smoothing": label_smoothing},
            )
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def __call__(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool | None = None
    ) -> torch.Tensor:
        use_logits = self.from_logits if logits is None else logits
        return self.per_sample(y_true, y_pred.float(), use_logits)

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON-able): ``type(self)(**get_config())``."""
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class FunctionLoss(Loss):
    """Any Keras-style loss function ``fn(y_true, y_pred)`` used as a loss.

    ``fn`` gets the labels and the model's outputs (probabilities when the
    model ends in softmax/sigmoid, never pre-activation logits) and returns a
    per-sample ``(batch,)`` tensor, a ``(batch, ...)`` tensor (averaged over
    the non-batch axes, as Keras does) or a scalar (then every sample gets that
    value, so sample weights only rescale it).

    Args:
        fn: The loss function.
    """

    name = "function"

    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
        super().__init__()
        if not callable(fn):
            raise invalid_type(
                "FunctionLoss: `fn` must be a function fn(y_true, y_pred).",
                received={"fn": fn},
            )
        self.fn = fn

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        value = self.fn(y_true, y_pred)
        if not isinstance(value, torch.Tensor):
            raise invalid_type(
                f"The loss function {_function_name(self.fn)} must return a torch tensor.",
                received={"type": type(value).__name__},
            )
        batch = y_pred.shape[0]
        if value.ndim == 0:
            return value.expand(batch)
        if value.shape[0] != batch:
            raise invalid_value(
                f"The loss function {_function_name(self.fn)} must return a scalar or one "
                "value per sample.",
                received={"shape": tuple(value.shape), "batch": batch},
            )
        return value.reshape(batch, -1).mean(dim=1)

    def get_config(self) -> dict[str, Any]:
        # The function itself: not JSON, so a saved model skips its compile state rather
        # than storing a name that would load back as a non-callable string.
        return {"fn": self.fn}

    def __repr__(self) -> str:
        return f"FunctionLoss({_function_name(self.fn)})"


def _function_name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


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


def _mean_last(values: torch.Tensor) -> torch.Tensor:
    return values.mean(dim=-1) if values.ndim > 1 else values


_BY_NAME: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
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
