"""Keras' regression, distribution and margin metrics (means of a loss), and ``MeanIoU``.

Each "mean of a loss" metric averages the per-sample values of the loss of the
same Keras name (``MeanAbsoluteError`` averages ``mean_absolute_error``), after
turning the logits the engine may feed back into probabilities. Keras'
``CosineSimilarity`` *metric* is the positive similarity (the loss is its
negative). :class:`MeanIoU` accumulates a confusion matrix over the epoch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from cnnkit._errors import invalid_value
from cnnkit.training import _losses as losses
from cnnkit.training._metric_base import Mean, Metric, probabilities

__all__ = [
    "EXTRA_METRICS",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanIoU",
    "MeanSquaredError",
    "Poisson",
    "SquaredHinge",
]


class _LossMean(Mean):
    """The weighted mean over samples of ``sign * loss`` (the loss reduced per sample)."""

    loss_class: ClassVar[type[losses.Loss]]
    sign: ClassVar[float] = 1.0

    def values(self, y_true, y_pred, activation):
        loss = self.loss_class().unreduced(y_true, probabilities(y_pred, activation))
        return loss if self.sign == 1.0 else self.sign * loss


def _loss_mean(
    class_name: str, name: str, loss_class: type[losses.Loss], doc: str, sign: float = 1.0
) -> type[_LossMean]:
    """A Keras "mean of a loss" metric class: only its name, loss and sign differ."""
    attributes = {"default_name": name, "loss_class": loss_class, "sign": sign, "__doc__": doc}
    attributes["__module__"] = __name__
    return type(class_name, (_LossMean,), attributes)


# (class, log name, loss, docstring[, sign]): Keras' metric names and definitions.
MeanAbsoluteError = _loss_mean(
    "MeanAbsoluteError", "mean_absolute_error", losses.MeanAbsoluteError,
    "Mean of ``|y_true - y_pred|``.",
)  # fmt: skip
MeanSquaredError = _loss_mean(
    "MeanSquaredError", "mean_squared_error", losses.MeanSquaredError,
    "Mean of ``(y_true - y_pred)²``.",
)  # fmt: skip
KLDivergence = _loss_mean(
    "KLDivergence", "kl_divergence", losses.KLDivergence,
    "Mean over samples of ``Σ y_true·log(y_true / y_pred)``.",
)  # fmt: skip
Poisson = _loss_mean(
    "Poisson", "poisson", losses.Poisson, "Mean of ``y_pred - y_true·log(y_pred)``."
)
Hinge = _loss_mean(
    "Hinge", "hinge", losses.Hinge,
    "Mean of ``max(1 - y_true·y_pred, 0)`` (0/1 labels mapped to -1/+1).",
)  # fmt: skip
SquaredHinge = _loss_mean(
    "SquaredHinge", "squared_hinge", losses.SquaredHinge,
    "Mean of ``max(1 - y_true·y_pred, 0)²``.",
)  # fmt: skip
LogCoshError = _loss_mean(
    "LogCoshError", "logcosh", losses.LogCosh, "Mean of ``log(cosh(y_pred - y_true))``."
)
CosineSimilarity = _loss_mean(
    "CosineSimilarity", "cosine_similarity", losses.CosineSimilarity,
    "Mean cosine similarity of label and prediction vectors, in [-1, 1] (1 is best).",
    sign=-1.0,
)  # fmt: skip


class MeanIoU(Metric):
    """Mean over classes of ``TP / (TP + FP + FN)`` from a confusion matrix, as in Keras.

    Classes that occur in neither labels nor predictions are left out of the
    mean. Labels ``(batch, ...)`` are class ids; predictions are class ids too
    unless ``sparse_y_pred=False`` (then the class axis, the last, is argmaxed).

    Args:
        num_classes: Number of classes, >= 2.
        name: Log key (``"mean_io_u"``).
        ignore_class: A label id left out of the matrix (e.g. a void class), or None.
        sparse_y_true: Labels are ids (True) or one-hot on the last axis (False).
        sparse_y_pred: Predictions are ids (True) or scores on the last axis (False).
    """

    default_name = "mean_io_u"
    config_attributes: ClassVar[dict[str, str]] = {
        "num_classes": "num_classes",
        "ignore_class": "ignore_class",
        "sparse_y_true": "sparse_y_true",
        "sparse_y_pred": "sparse_y_pred",
    }

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        **keras_kwargs: Any,
    ) -> None:
        super().__init__(name)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise invalid_value(
                "MeanIoU: `num_classes` must be an integer >= 2.",
                received={"num_classes": num_classes},
            )
        extra = set(keras_kwargs) - {"dtype", "axis"}
        if extra or keras_kwargs.get("axis", -1) != -1:
            raise invalid_value(
                "MeanIoU: unsupported argument (only dtype and axis=-1 besides the documented).",
                received={k: keras_kwargs[k] for k in sorted(set(keras_kwargs) - {"dtype"})},
            )
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)

    def update(self, y_true, y_pred, activation=None, sample_weight=None) -> None:
        true = y_true if self.sparse_y_true else y_true.argmax(-1)
        pred = y_pred if self.sparse_y_pred else y_pred.argmax(-1)
        true = true.reshape(-1).long()
        pred = pred.reshape(-1).long()
        if len(true) != len(pred):
            raise invalid_value(
                "MeanIoU: labels and predictions hold different numbers of class ids.",
                received={"labels": len(true), "predictions": len(pred)},
                hint="Pass sparse_y_pred=False for per-class scores on the last axis.",
            )
        weight = torch.ones(len(true), device=true.device)
        if sample_weight is not None:
            w = sample_weight.float().reshape(sample_weight.shape[0], -1)
            weight = w.expand(w.shape[0], len(true) // w.shape[0]).reshape(-1)
        keep = (true >= 0) & (true < self.num_classes) & (pred >= 0) & (pred < self.num_classes)
        if self.ignore_class is not None:
            keep &= true != self.ignore_class
        n = self.num_classes
        cells = torch.bincount(
            true[keep] * n + pred[keep], weights=weight[keep].float(), minlength=n * n
        )
        self._accumulate(cells.reshape(n, n).float())

    def confusion_matrix(self) -> torch.Tensor:
        """The accumulated ``(num_classes, num_classes)`` matrix, rows = labels."""
        if self._state is None:
            return torch.zeros(self.num_classes, self.num_classes)
        return self._state[0]

    def result(self) -> torch.Tensor:
        matrix = self.confusion_matrix()
        tp = matrix.diagonal()
        union = matrix.sum(0) + matrix.sum(1) - tp
        present = union > 0
        if not bool(present.any()):
            return torch.tensor(0.0, device=matrix.device)
        return (tp[present] / union[present]).mean()


#: Keras metric names -> classes, merged into ``get_metric``'s table.
EXTRA_METRICS: dict[str, type[Metric]] = {
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "poisson": Poisson,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "logcosh": LogCoshError,
    "log_cosh": LogCoshError,
    "cosine_similarity": CosineSimilarity,
}
