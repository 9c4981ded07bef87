"""Keras' classification metrics, accumulated on the device without synchronising.

The base classes live in :mod:`._metric_base`, the regression, margin and
segmentation metrics in :mod:`._metrics_extra`. ``"accuracy"``
is resolved like Keras 3 from the shapes of the labels and predictions:
one output unit -> binary, integer labels -> sparse categorical, otherwise
categorical.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.training._metric_base import Mean, Metric
from cnnkit.training._metric_base import probabilities as _probabilities
from cnnkit.training._metrics_extra import EXTRA_METRICS


class CategoricalAccuracy(Mean):
    """1 where the predicted class (argmax) is the argmax of the one-hot label."""

    default_name = "categorical_accuracy"

    def values(self, y_true, y_pred, activation):
        return (y_pred.argmax(-1) == y_true.argmax(-1)).float()


class SparseCategoricalAccuracy(Mean):
    """1 where the predicted class (argmax) equals the integer label."""

    default_name = "sparse_categorical_accuracy"

    def values(self, y_true, y_pred, activation):
        return (y_pred.argmax(-1) == y_true.reshape(y_pred.shape[:-1]).long()).float()


class BinaryAccuracy(Mean):
    """1 where ``prediction > threshold`` agrees with the 0/1 label (mean over outputs)."""

    default_name = "binary_accuracy"
    config_attributes: ClassVar[dict[str, str]] = {"threshold": "threshold"}

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        super().__init__(name)
        self.threshold = float(threshold)

    def values(self, y_true, y_pred, activation):
        hit = (_probabilities(y_pred, activation) > self.threshold) == (
            y_true.reshape(y_pred.shape) > 0.5
        )
        hit = hit.float()
        return hit.mean(-1) if hit.ndim > 1 else hit


class TopKCategoricalAccuracy(Mean):
    """1 where the one-hot label's class is among the ``k`` highest predictions."""

    default_name = "top_k_categorical_accuracy"
    config_attributes: ClassVar[dict[str, str]] = {"k": "k"}

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise invalid_value(
                f"{type(self).__name__}: `k` must be an integer >= 1.", received={"k": k}
            )
        self.k = k

    def _labels(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        return y_true.argmax(-1)

    def values(self, y_true, y_pred, activation):
        k = min(self.k, y_pred.shape[-1])
        top = y_pred.topk(k, dim=-1).indices
        return (top == self._labels(y_true, y_pred).unsqueeze(-1)).any(-1).float()


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """1 where the integer label is among the ``k`` highest predictions."""

    default_name = "sparse_top_k_categorical_accuracy"

    def _labels(self, y_true, y_pred):
        return y_true.reshape(y_pred.shape[:-1]).long()


class _Confusion(Metric):
    """Micro-averaged true/false positives/negatives at a threshold, Keras-style."""

    config_attributes: ClassVar[dict[str, str]] = {"thresholds": "threshold"}

    def __init__(self, name: str | None = None, thresholds: float = 0.5) -> None:
        super().__init__(name)
        self.threshold = float(thresholds)

    def update(self, y_true, y_pred, activation=None, sample_weight=None) -> None:
        probs = _probabilities(y_pred, activation)
        if y_true.shape != probs.shape and probs.shape[-1] > 1 and y_true.numel() == len(probs):
            # Integer labels with a multi-class output: compare against one-hot targets.
            y_true = torch.nn.functional.one_hot(y_true.reshape(-1).long(), probs.shape[-1])
        truth = y_true.reshape(probs.shape) > 0.5
        pred = probs > self.threshold
        w = (
            torch.ones_like(probs)
            if sample_weight is None
            else (sample_weight.reshape(-1, *([1] * (probs.ndim - 1))).expand_as(probs).float())
        )
        self._accumulate(
            (w * (pred & truth)).sum(), (w * (pred & ~truth)).sum(), (w * (~pred & truth)).sum()
        )


class Precision(_Confusion):
    """``TP / (TP + FP)`` at ``thresholds`` (0.5), over all output units."""

    default_name = "precision"

    def result(self) -> torch.Tensor:
        if self._state is None:
            return torch.tensor(0.0)
        tp, fp, _ = self._state
        return tp / (tp + fp).clamp_min(1e-12)


class Recall(_Confusion):
    """``TP / (TP + FN)`` at ``thresholds`` (0.5), over all output units."""

    default_name = "recall"

    def result(self) -> torch.Tensor:
        if self._state is None:
            return torch.tensor(0.0)
        tp, _, fn = self._state
        return tp / (tp + fn).clamp_min(1e-12)


class Accuracy(Mean):
    """Keras' ``"accuracy"`` (and ``"top_k_accuracy"``): the variant is picked from shapes.

    Args:
        name: Log key, ``"accuracy"`` by default.
        k: None for plain accuracy, else top-``k`` accuracy.
    """

    default_name = "accuracy"
    config_attributes: ClassVar[dict[str, str]] = {"k": "k"}

    def __init__(self, name: str | None = None, k: int | None = None) -> None:
        super().__init__(name)
        self.k = k
        self._impl: Mean | None = None

    def values(self, y_true, y_pred, activation):
        if self._impl is None:
            sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
            if self.k is not None:
                self._impl = (
                    SparseTopKCategoricalAccuracy(self.k)
                    if sparse
                    else (TopKCategoricalAccuracy(self.k))
                )
            elif y_pred.shape[-1] == 1:
                self._impl = BinaryAccuracy()
            else:
                self._impl = SparseCategoricalAccuracy() if sparse else CategoricalAccuracy()
        return self._impl.values(y_true, y_pred, activation)


_BY_NAME: dict[str, Any] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision,
    "recall": Recall,
    **EXTRA_METRICS,
}
_TOP_K = re.compile(r"top_(\d+)_accuracy")


def get_metric(metric: str | Metric | type[Metric]) -> Metric:
    """Resolve one entry of ``compile``'s ``metrics``: a Keras name, a metric or its class."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, type) and issubclass(metric, Metric):
        return metric()
    if not isinstance(metric, str):
        raise invalid_type(
            "compile(): every entry of `metrics` must be a metric name or a cnnkit metric.",
            received={"metric": metric},
            choices=sorted(_BY_NAME),
        )
    key = metric.lower()
    top_k = _TOP_K.fullmatch(key)
    if top_k:
        return Accuracy(name=metric, k=int(top_k.group(1)))
    if key not in _BY_NAME:
        raise unknown_name("metric", metric, [*_BY_NAME, "top_5_accuracy"], argument="metrics")
    cls = _BY_NAME[key]
    # Keras logs these under the name as written ("acc", "mae").
    return cls(name=metric) if cls is Accuracy or key in EXTRA_METRICS else cls()
