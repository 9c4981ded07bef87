"""The :class:`Loss` base: Keras' call (reduced to one number) and the engine's per-sample path.

``loss(y_true, y_pred, sample_weight=None)`` returns what Keras returns: the
per-sample values times the sample weights, reduced by ``reduction``
(``"sum_over_batch_size"``, the mean over the batch, by default; ``None`` or
``"none"`` keep one value per sample). The engine calls :meth:`Loss.unreduced`
instead and applies sample/class weights and the reduction itself.
``from_logits=False`` means the model outputs probabilities. When the engine
finds that the model ends in a softmax/sigmoid it feeds the *pre-activation*
logits and passes ``logits=True``, so the loss uses ``log_softmax``/``logsigmoid``
rather than ``log`` of a rounded probability.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = ["EPSILON", "FunctionLoss", "Loss", "mean_last"]

#: Keras clips probabilities to [eps, 1 - eps] before taking logs.
EPSILON = 1e-7

#: Keras loss arguments that change nothing here: the name (cnnkit names losses by
#: class), the dtype, and the class axis when it is the last one.
_NEUTRAL = {"name", "dtype"}
#: Keras reductions ``__call__`` honours; fit always averages over the batch.
_REDUCTIONS = ("sum_over_batch_size", "auto", None, "none")


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


def mean_last(values: torch.Tensor) -> torch.Tensor:
    """Keras' per-sample reduction: the mean over the last axis (a 1-D tensor stays)."""
    return values.mean(dim=-1) if values.ndim > 1 else values


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> a 0-d tensor, as in Keras.

    Subclasses define :meth:`per_sample`. Keras' ``reduction`` is honoured by
    the call (``None``/``"none"``: the weighted ``(batch, ...)`` values).

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
        reduction = keras_kwargs.get("reduction", "sum_over_batch_size")
        self.reduction = "none" if reduction is None else reduction

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        """Keras' call: weighted per-sample losses reduced by ``reduction`` (the batch mean)."""
        y_pred = y_pred if isinstance(y_pred, torch.Tensor) else torch.as_tensor(y_pred)
        y_true = y_true if isinstance(y_true, torch.Tensor) else torch.as_tensor(y_true)
        values = self.values(y_true.to(y_pred.device), y_pred)
        if sample_weight is not None:
            w = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
            values = values * w.reshape(w.shape[:1] + (1,) * (values.ndim - 1))
        if self.reduction == "none":
            return values
        return values.mean()

    def values(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool | None = None
    ) -> torch.Tensor:
        """Keras' unreduced losses: ``(batch,)``, or ``(batch, H, W)`` for image outputs.

        ``logits`` overrides ``from_logits`` (the engine sets it for a model whose
        final softmax/sigmoid it switched off).
        """
        use_logits = self.from_logits if logits is None else logits
        return self.per_sample(y_true, y_pred.float(), use_logits)

    def unreduced(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool | None = None
    ) -> torch.Tensor:
        """One loss per sample, ``(batch,)``: :meth:`values` averaged over the other axes.

        The engine weights these by sample and class and averages them.
        """
        values = self.values(y_true, y_pred, logits)
        return values if values.ndim <= 1 else values.reshape(len(values), -1).mean(dim=1)

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool) -> torch.Tensor:
        raise NotImplementedError

    def _reduction_config(self) -> dict[str, Any]:
        return {} if self.reduction == "sum_over_batch_size" else {"reduction": self.reduction}

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON-able): ``type(self)(**get_config())``."""
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        } | self._reduction_config()

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
