"""Keras' regression, distribution, margin and focal losses, one value per sample.

Definitions follow Keras 3 (``keras/src/losses/losses.py``): every loss reduces
the last axis (mean, or sum for KL divergence) so it returns ``(batch, ...)``,
and :class:`~cnnkit.training.losses.Loss` applies the sample weights and the
``sum_over_batch_size`` reduction. Probabilities are clipped to ``[1e-7, 1]``
where Keras clips them (KL divergence, Poisson's log).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.training._loss_base import EPSILON as _EPSILON
from cnnkit.training._loss_base import Loss
from cnnkit.training._loss_base import mean_last as _mean_last

__all__ = [
    "BinaryFocalCrossentropy",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Poisson",
    "SquaredHinge",
]


def _aligned(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return y_true.to(y_pred.dtype).reshape(y_pred.shape)


class _NoLogitsLoss(Loss):
    """A loss of values, not probabilities: Keras gives it no ``from_logits``.

    ``config`` names the constructor arguments it stores as attributes, so
    ``type(self)(**get_config())`` rebuilds it.
    """

    config: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **keras_kwargs: Any) -> None:
        for probability_only in ("from_logits", "label_smoothing"):
            if probability_only in keras_kwargs:
                raise invalid_value(
                    f"{type(self).__name__} takes no `{probability_only}`: it compares values, "
                    "not probabilities (as in Keras).",
                    received={probability_only: keras_kwargs[probability_only]},
                )
        super().__init__(**keras_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.config} | self._reduction_config()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Huber(_NoLogitsLoss):
    """``0.5·e²`` where ``|e| <= delta``, else ``delta·|e| - 0.5·delta²``; mean over the last axis.

    Args:
        delta: Where the quadratic part turns linear (1.0, as in Keras); > 0.
    """

    name = "huber"
    config = ("delta",)

    def __init__(self, delta: float = 1.0, **keras_kwargs: Any) -> None:
        super().__init__(**keras_kwargs)
        if not float(delta) > 0:
            raise invalid_value("Huber: `delta` must be > 0.", received={"delta": delta})
        self.delta = float(delta)

    def per_sample(self, y_true, y_pred, logits):
        error = (_aligned(y_true, y_pred) - y_pred).abs()
        quadratic = 0.5 * error.square()
        linear = self.delta * error - 0.5 * self.delta**2
        return _mean_last(torch.where(error <= self.delta, quadratic, linear))


class LogCosh(_NoLogitsLoss):
    """``log(cosh(y_pred - y_true))`` averaged over the last axis, overflow-free.

    Uses ``log cosh x = x + softplus(-2x) - log 2`` (Keras' form), exact for large ``|x|``.
    """

    name = "log_cosh"

    def per_sample(self, y_true, y_pred, logits):
        x = y_pred - _aligned(y_true, y_pred)
        return _mean_last(x + F.softplus(-2.0 * x) - math.log(2.0))


class KLDivergence(_NoLogitsLoss):
    """``Σ y_true·log(y_true / y_pred)`` over the last axis, both clipped to ``[1e-7, 1]``."""

    name = "kl_divergence"

    def per_sample(self, y_true, y_pred, logits):
        t = _aligned(y_true, y_pred).clamp(_EPSILON, 1.0)
        p = y_pred.clamp(_EPSILON, 1.0)
        kl = t * (t.log() - p.log())
        return kl.sum(dim=-1) if kl.ndim > 1 else kl


class Poisson(_NoLogitsLoss):
    """``mean(y_pred - y_true·log(y_pred + 1e-7))`` over the last axis (predicted rates)."""

    name = "poisson"

    def per_sample(self, y_true, y_pred, logits):
        t = _aligned(y_true, y_pred)
        return _mean_last(y_pred - t * (y_pred + _EPSILON).log())


class CosineSimilarity(_NoLogitsLoss):
    """Negative cosine similarity of the last-axis vectors, in ``[-1, 1]`` (-1 is best).

    Args:
        axis: The vector axis; only -1 (the last) is supported.
    """

    name = "cosine_similarity"

    def __init__(self, axis: int = -1, **keras_kwargs: Any) -> None:
        super().__init__(axis=axis, **keras_kwargs)

    def per_sample(self, y_true, y_pred, logits):
        t = F.normalize(_aligned(y_true, y_pred), dim=-1, eps=1e-12)
        p = F.normalize(y_pred, dim=-1, eps=1e-12)
        return -(t * p).sum(dim=-1)


def _signed(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras' hinge labels: 0/1 labels become -1/+1; labels already in {-1, 1} stay."""
    t = _aligned(y_true, y_pred)
    return torch.where(t == 0, torch.full_like(t, -1.0), t)


class Hinge(_NoLogitsLoss):
    """``mean(max(1 - y_true·y_pred, 0))`` with 0/1 labels mapped to -1/+1."""

    name = "hinge"

    def per_sample(self, y_true, y_pred, logits):
        return _mean_last((1.0 - _signed(y_true, y_pred) * y_pred).clamp_min(0.0))


class SquaredHinge(_NoLogitsLoss):
    """``mean(max(1 - y_true·y_pred, 0)²)`` with 0/1 labels mapped to -1/+1."""

    name = "squared_hinge"

    def per_sample(self, y_true, y_pred, logits):
        return _mean_last((1.0 - _signed(y_true, y_pred) * y_pred).clamp_min(0.0).square())


class BinaryFocalCrossentropy(Loss):
    """Binary crossentropy down-weighted on easy examples by ``(1 - p_t)^gamma`` (Lin et al.).

    ``p_t`` is the predicted probability of the (smoothed) true label. With
    ``apply_class_balancing`` each element is also weighted ``alpha`` (label 1)
    or ``1 - alpha`` (label 0). ``gamma=0`` without balancing is plain binary
    crossentropy.

    Args:
        apply_class_balancing: Weight the classes by ``alpha`` / ``1 - alpha``.
        alpha: Weight of the positive class when balancing, in [0, 1] (0.25).
        gamma: Focusing exponent, >= 0 (2.0).
        from_logits: Whether ``y_pred`` holds logits.
        label_smoothing: Squeeze the labels towards 0.5 by this fraction.
    """

    name = "binary_focal_crossentropy"
    pairs_with = "sigmoid"

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        **keras_kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, **keras_kwargs)
        if not 0.0 <= float(alpha) <= 1.0:
            raise invalid_value(
                "BinaryFocalCrossentropy: `alpha` must be in [0, 1].", received={"alpha": alpha}
            )
        if not float(gamma) >= 0.0:
            raise invalid_value(
                "BinaryFocalCrossentropy: `gamma` must be >= 0.", received={"gamma": gamma}
            )
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = float(alpha)
        self.gamma = float(gamma)

    def per_sample(self, y_true, y_pred, logits):
        t = _aligned(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if logits:
            bce = F.binary_cross_entropy_with_logits(y_pred, t, reduction="none")
            p = torch.sigmoid(y_pred)
        else:
            p = y_pred.clamp(_EPSILON, 1.0 - _EPSILON)
            bce = -(t * p.log() + (1.0 - t) * (1.0 - p).log())
        p_t = t * p + (1.0 - t) * (1.0 - p)
        focal = (1.0 - p_t).pow(self.gamma) * bce
        if self.apply_class_balancing:
            focal = (t * self.alpha + (1.0 - t) * (1.0 - self.alpha)) * focal
        return _mean_last(focal)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }
