"""Learning-rate callbacks driven by epochs: ReduceLROnPlateau and LearningRateScheduler.

Both act on ``model.optimizer``, a torch optimizer, through every entry of its
``param_groups`` so that fine-tuning with a different rate per layer group keeps
its ratios.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.callbacks._base import Callback
from cnnkit.callbacks._checks import check_count, is_real, optional_number
from cnnkit.callbacks._monitor import MonitorCallback

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau", "optimizer_of"]


def optimizer_of(callback: Callback) -> Any:
    """The torch optimizer of ``callback.model``, or a template error if it has none."""
    optimizer = getattr(callback.model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "param_groups"):
        raise invalid_value(
            f"{type(callback).__name__} needs a compiled model whose `optimizer` is a torch "
            "optimizer with `param_groups`.",
            received={"optimizer": optimizer},
            hint="Call model.compile(optimizer=...) before fit.",
        )
    return optimizer


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras semantics).

    Args:
        monitor: The metric to watch. Default ``"val_loss"``.
        factor: New rate = old rate × factor, with 0 < factor < 1. Default 0.1.
        patience: Epochs without improvement before reducing. Default 10.
        verbose: 1 prints every reduction. Default 0.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: Smallest change that counts as an improvement. Default 1e-4.
        cooldown: Epochs to wait after a reduction before counting again. Default 0.
        min_lr: The rate never goes below this. Default 0.

    Example:
        >>> from cnnkit.callbacks import ReduceLROnPlateau
        >>> plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta)
        if not is_real(factor) or not 0.0 < factor < 1.0:
            raise invalid_value(
                "ReduceLROnPlateau does not support this `factor`: the new rate is old rate × "
                "factor, so it must shrink the rate.",
                expected="a number with 0 < factor < 1",
                received={"factor": factor},
            )
        if not is_real(min_lr) or not min_lr >= 0.0:
            raise invalid_value(
                "ReduceLROnPlateau: `min_lr` must be a non-negative number.",
                received={"min_lr": min_lr},
            )
        self.factor = float(factor)
        self.patience = check_count("ReduceLROnPlateau", "patience", patience)
        self.cooldown = check_count("ReduceLROnPlateau", "cooldown", cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait >= self.patience and self._reduce(epoch):
            self.cooldown_counter = self.cooldown
            self.wait = 0

    def _reduce(self, epoch: int) -> bool:
        """Lower every group's rate; False when all are already at ``min_lr``."""
        reduced = False
        for group in optimizer_of(self).param_groups:
            old = float(group["lr"])
            if old > self.min_lr:
                group["lr"] = max(old * self.factor, self.min_lr)
                reduced = True
        if reduced and self.verbose > 0:
            new = optimizer_of(self).param_groups[0]["lr"]
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return reduced

    def get_state(self) -> dict[str, Any]:
        """``{"best", "wait", "cooldown_counter"}``; the rate itself lives in the optimizer."""
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = optional_number(state.get("best"))
        self.wait = int(state.get("wait", 0))
        self.cooldown_counter = int(state.get("cooldown_counter", 0))
        self._mark_restored()


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from ``schedule(epoch, lr)``.

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` with a 0-based ``epoch`` and the
            current rate; a one-argument ``schedule(epoch)`` also works, as in Keras.
            It is called once per optimizer param group with that group's rate.
        verbose: 1 prints the new rate every epoch. Default 0.

    Example:
        >>> from cnnkit.callbacks import LearningRateScheduler
        >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch < 5 else lr * 0.5)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise invalid_type(
                "LearningRateScheduler: `schedule` must be a function schedule(epoch, lr) -> lr.",
                received={"schedule": schedule},
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        groups = optimizer_of(self).param_groups
        for group in groups:
            if self._takes_lr:
                result = self.schedule(epoch, float(group["lr"]))
            else:
                result = self.schedule(epoch)
            group["lr"] = _as_rate(result, epoch)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{groups[0]['lr']}."
            )


def _accepts_two_arguments(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume Keras' form
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _as_rate(result: Any, epoch: int) -> float:
    """The schedule's output as a float >= 0, or a template error naming the epoch."""
    rate = _to_float(result)
    if rate is None:
        raise invalid_type(
            f"LearningRateScheduler: the `schedule` function must return a number, but at "
            f"epoch {epoch} it returned a {type(result).__name__}.",
            received={"lr": result},
        )
    if not math.isfinite(rate) or rate < 0:
        raise invalid_value(
            f"LearningRateScheduler: the `schedule` function returned an invalid learning rate "
            f"at epoch {epoch}.",
            expected="a finite number >= 0",
            received={"lr": result},
        )
    return rate


def _to_float(value: Any) -> float | None:
    """A number (Python, NumPy or a one-element tensor) as a float; None for anything else."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
