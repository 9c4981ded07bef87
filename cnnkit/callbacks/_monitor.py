"""The shared monitor / mode / min_delta logic of EarlyStopping, ModelCheckpoint, ReduceLROnPlateau.

Keras semantics: ``mode="min"`` means smaller is better, ``"max"`` larger, and
``"auto"`` infers the direction from the metric's name (after removing a
``val_`` prefix). A value counts as an improvement over a reference only when it
beats it by more than ``min_delta``. A missing monitored metric is not an error
(validation may run every few epochs), but it is warned about once per callback,
listing the metrics that do exist.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from cnnkit._errors import close_matches, invalid_type, invalid_value
from cnnkit.callbacks._base import Callback
from cnnkit.callbacks._checks import is_real

__all__ = ["MonitorCallback", "infer_mode"]

_MODES = ("auto", "min", "max")
# Substrings of metric names where larger is better. Keras 2 used "acc", "auc" and
# "fmeasure"; the rest are the Keras 3 metrics whose direction is "up".
_MAX_MARKERS = ("acc", "auc", "fmeasure", "f1", "precision", "recall", "iou", "r2")


def infer_mode(monitor: str) -> str:
    """The direction ``mode="auto"`` picks for a metric name: ``"max"`` or ``"min"``.

    Losses and errors (``loss``, ``mae``, ``mse``, anything unknown) are minimised;
    accuracies, AUC, precision, recall, F1 and IoU are maximised.

    Example:
        >>> infer_mode("val_accuracy"), infer_mode("val_loss")
        ('max', 'min')
    """
    name = monitor.lower().removeprefix("val_")
    if "loss" in name or "error" in name:
        return "min"
    return "max" if any(marker in name for marker in _MAX_MARKERS) else "min"


class MonitorCallback(Callback):
    """Base for callbacks that watch one metric and act when it stops improving.

    Args:
        monitor: The key of ``logs`` to watch, e.g. ``"val_loss"``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: The smallest change that counts as an improvement (>= 0; its
            sign is ignored, as in Keras).
        baseline: Optional reference value the metric must beat.

    Attributes:
        monitor_mode: The resolved direction, ``"min"`` or ``"max"``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        baseline: float | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise invalid_type(
                f"{name}: `monitor` must be the name of a metric in the logs.",
                expected="a non-empty string such as 'val_loss' or 'val_accuracy'",
                received={"monitor": monitor},
            )
        if mode not in _MODES:
            raise invalid_value(
                f"{name}: unknown `mode` {mode!r}.",
                received={"mode": mode},
                choices=_MODES,
            )
        if not is_real(min_delta) or not math.isfinite(min_delta):
            raise invalid_value(
                f"{name}: `min_delta` must be a finite number.",
                expected="a float such as 0.0 or 1e-4",
                received={"min_delta": min_delta},
            )
        if baseline is not None and not is_real(baseline):
            raise invalid_type(
                f"{name}: `baseline` must be a number or None.",
                received={"baseline": baseline},
            )
        self.monitor = monitor
        self.mode = mode
        self.monitor_mode = infer_mode(monitor) if mode == "auto" else mode
        self.min_delta = abs(float(min_delta))
        self.baseline = None if baseline is None else float(baseline)
        self._warned_missing = False
        # Set by set_state so that the next on_train_begin keeps the restored
        # counters instead of resetting them (the engine may call either first).
        self._state_restored = False

    def is_improvement(self, value: float, reference: float | None) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta``.

        ``reference=None`` means nothing to beat yet, so any value improves on it.
        """
        if reference is None:
            return True
        if self.monitor_mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def get_monitor_value(self, logs: dict[str, Any] | None) -> float | None:
        """The monitored value as a float, or None (with a one-time warning) if absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            self._warn_missing(logs)
            return None
        return float(value)

    def _warn_missing(self, logs: dict[str, Any]) -> None:
        if self._warned_missing:
            return
        self._warned_missing = True
        available = sorted(logs)
        matches = close_matches(self.monitor, available)
        hint = f" Did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""
        warnings.warn(
            f"{type(self).__name__} is monitoring {self.monitor!r}, which is not in the logs, "
            f"so it does nothing until it appears. Available metrics: "
            f"{', '.join(repr(k) for k in available) or '(none)'}.{hint} "
            "(This warning is shown once.)",
            RuntimeWarning,
            stacklevel=3,
        )

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        if not self._state_restored:
            self._reset()
        self._state_restored = False

    def _reset(self) -> None:
        """Forget the counters of a previous run; subclasses extend it."""

    def _mark_restored(self) -> None:
        self._state_restored = True
