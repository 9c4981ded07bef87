"""Step-indexed learning-rate schedules as callbacks: OneCycle and CosineDecay.

A schedule is a pure function of a step counter. With ``update="batch"`` the
counter counts optimizer steps (set before each batch); with ``update="epoch"``
it is the 0-based epoch (set before each epoch). The counter is the whole state,
so ``get_state()`` / ``set_state()`` make a run resumable mid-epoch: the counter
is advanced when a batch *begins*, so at any batch end it equals the number of
batches done, whichever order the callbacks run in.
"""

from __future__ import annotations

import math
from typing import Any

from cnnkit._errors import invalid_value
from cnnkit.callbacks._base import Callback
from cnnkit.callbacks._checks import check_rate, is_int_at_least, is_real
from cnnkit.callbacks._lr import optimizer_of

__all__ = ["CosineDecay", "ScheduleCallback"]

_UPDATES = ("batch", "epoch")


class ScheduleCallback(Callback):
    """Base: sets every param group's rate to ``rates_at(step)`` before each batch or epoch.

    Args:
        total_steps: Length of the schedule in steps (batches, or epochs with
            ``update="epoch"``); None derives it from ``fit``'s epochs × steps.
        update: ``"batch"`` or ``"epoch"``.

    Attributes:
        step: The next step the schedule will apply.
    """

    def __init__(self, total_steps: int | None = None, update: str = "batch") -> None:
        super().__init__()
        name = type(self).__name__
        if update not in _UPDATES:
            raise invalid_value(
                f"{name}: unknown `update` {update!r}.",
                received={"update": update},
                choices=_UPDATES,
            )
        if total_steps is not None and not is_int_at_least(total_steps, 1):
            raise invalid_value(
                f"{name}: `total_steps` must be a positive integer or None.",
                received={"total_steps": total_steps},
            )
        self.total_steps = total_steps
        self.update = update
        self.step = 0
        self._resolved_total: int | None = total_steps
        self._restored = False
        self._needs_sync = True

    @property
    def needs_batch_logs(self) -> bool:
        """Tells the engine whether to call the batch hooks: only per-batch schedules."""
        return self.update == "batch"

    def rates_at(self, step: int, n_groups: int) -> list[float]:
        """The rate of each of ``n_groups`` param groups at 0-based ``step``."""
        raise NotImplementedError

    def resolve_total(self) -> int:
        """``total_steps``, or epochs × steps per epoch from ``fit``'s params."""
        if self.total_steps is not None:
            return self.total_steps
        epochs = self.params.get("epochs")
        steps = self.params.get("steps") if self.update == "batch" else 1
        if not epochs or not steps:
            raise invalid_value(
                f"{type(self).__name__} cannot tell how long training is: `fit` did not report "
                "the number of steps per epoch (a generator without `steps_per_epoch`?).",
                received={"total_steps": None, "params": dict(self.params)},
                hint="Pass total_steps=... explicitly.",
            )
        return int(epochs) * int(steps)

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._resolved_total = self.resolve_total()
        self._needs_sync = not self._restored
        self._restored = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.update == "epoch":
            self._apply(epoch)
            self.step = epoch + 1
        elif self._needs_sync:
            # A fresh run that starts at initial_epoch > 0 continues the schedule there.
            self.step = epoch * int(self.params.get("steps") or 0)
        self._needs_sync = False

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.update == "batch":
            self._apply(self.step)
            self.step += 1

    def _apply(self, step: int) -> None:
        groups = optimizer_of(self).param_groups
        for group, rate in zip(groups, self.rates_at(step, len(groups)), strict=True):
            group["lr"] = rate

    def get_state(self) -> dict[str, Any]:
        """``{"step": n}``: the next step to apply."""
        return {"step": self.step}

    def set_state(self, state: dict[str, Any]) -> None:
        self.step = int(state.get("step", 0))
        self._restored = True
        self._needs_sync = False


class CosineDecay(ScheduleCallback):
    """Cosine decay with optional linear warm-up; Keras' ``CosineDecay`` formula.

    Without warm-up: ``lr(s) = initial_learning_rate × ((1 − alpha) × c + alpha)``
    with ``c = ½(1 + cos(π · min(s, decay_steps) / decay_steps))``. With
    ``warmup_target``: the rate rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays from ``warmup_target`` by
    the same formula over ``decay_steps``. All param groups get the same rate.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps of the cosine part; None = total steps − warmup_steps.
        alpha: Final rate as a fraction of the starting one. Default 0.
        name: Kept for Keras compatibility.
        warmup_target: Rate reached at the end of warm-up; None = no warm-up.
        warmup_steps: Steps of warm-up. Default 0.
        update: ``"batch"`` (default) or ``"epoch"``: what one step is.

    Example:
        >>> from cnnkit.callbacks import CosineDecay
        >>> cosine = CosineDecay(1e-4, warmup_target=1e-3, warmup_steps=100)
        >>> round(cosine(50), 6)  # half-way through warm-up
        0.00055
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | None = None,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
        *,
        update: str = "batch",
    ) -> None:
        super().__init__(total_steps=None, update=update)
        check_rate("CosineDecay", "initial_learning_rate", initial_learning_rate)
        if warmup_target is not None:
            check_rate("CosineDecay", "warmup_target", warmup_target)
        if not is_real(alpha) or not 0.0 <= alpha <= 1.0:
            raise invalid_value(
                "CosineDecay: `alpha` is the final rate as a fraction of the starting rate.",
                expected="0 <= alpha <= 1",
                received={"alpha": alpha},
            )
        for arg, value, low in (("decay_steps", decay_steps, 1), ("warmup_steps", warmup_steps, 0)):
            if value is not None and not is_int_at_least(value, low):
                raise invalid_value(
                    f"CosineDecay: `{arg}` must be an integer >= {low}.", received={arg: value}
                )
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.alpha = float(alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else float(warmup_target)
        self.warmup_steps = warmup_steps if warmup_target is not None else 0

    def resolve_total(self) -> int:
        if self.decay_steps is not None:
            return self.decay_steps + self.warmup_steps
        total = super().resolve_total()
        if total <= self.warmup_steps:
            raise invalid_value(
                "CosineDecay: training is no longer than the warm-up, so nothing is left to decay.",
                received={"warmup_steps": self.warmup_steps, "total_steps": total},
            )
        return total

    def __call__(self, step: int) -> float:
        """The rate at 0-based ``step`` (the Keras ``LearningRateSchedule`` interface)."""
        decay_steps = self.decay_steps
        if decay_steps is None:
            decay_steps = (self._resolved_total or self.resolve_total()) - self.warmup_steps
        if self.warmup_target is not None and step < self.warmup_steps:
            fraction = step / self.warmup_steps
            rise = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + rise * fraction
        start = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        done = min(step - self.warmup_steps, decay_steps) / decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * done))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def rates_at(self, step: int, n_groups: int) -> list[float]:
        return [self(step)] * n_groups
