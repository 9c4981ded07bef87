"""OneCycle: the 1cycle learning-rate (and momentum) policy, with torch ``OneCycleLR`` semantics."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cnnkit._errors import invalid_value
from cnnkit.callbacks._checks import check_rate, is_real
from cnnkit.callbacks._lr import optimizer_of
from cnnkit.callbacks._schedules import ScheduleCallback

__all__ = ["OneCycle"]

_STRATEGIES = ("cos", "linear")


class OneCycle(ScheduleCallback):
    """Warm up to ``max_lr``, then anneal far below the start (Smith's 1cycle policy).

    The formula is torch's ``OneCycleLR``, step for step: with
    ``initial = max_lr / div_factor`` and ``final = initial / final_div_factor``,
    the rate goes ``initial → max_lr`` over the first ``pct_start × total_steps − 1``
    steps and ``max_lr → final`` until step ``total_steps − 1`` (three phases with
    ``three_phase=True``: up, back down to ``initial``, then to ``final``). Each
    phase interpolates with ``cos`` (``end + (start − end)/2 · (1 + cos(π·pct))``)
    or ``linear``. Momentum (SGD ``momentum`` or Adam's ``beta1``) moves the
    opposite way between ``max_momentum`` and ``base_momentum``. Past the last
    step the final rate is kept.

    Args:
        max_lr: Peak rate, or one per optimizer param group.
        total_steps: Length of the cycle; None = epochs × steps per epoch of ``fit``.
        pct_start: Fraction of the cycle spent rising. Default 0.3.
        anneal_strategy: ``"cos"`` (default) or ``"linear"``.
        div_factor: ``initial = max_lr / div_factor``. Default 25.
        final_div_factor: ``final = initial / final_div_factor``. Default 1e4.
        three_phase: Use the three-phase variant. Default False.
        cycle_momentum: Also cycle momentum / beta1. Default True.
        base_momentum: Momentum at the peak rate. Default 0.85.
        max_momentum: Momentum at the lowest rates. Default 0.95.
        update: ``"batch"`` (default, like torch) or ``"epoch"``.

    Example:
        >>> from cnnkit.callbacks import OneCycle
        >>> one_cycle = OneCycle(max_lr=0.01)  # pass to fit(callbacks=[one_cycle])
    """

    def __init__(
        self,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        *,
        update: str = "batch",
    ) -> None:
        super().__init__(total_steps=total_steps, update=update)
        peaks = list(max_lr) if isinstance(max_lr, Sequence) else [max_lr]
        self.max_lrs = [check_rate("OneCycle", "max_lr", lr) for lr in peaks]
        self.scalar_max_lr = not isinstance(max_lr, Sequence)
        if not is_real(pct_start) or not 0.0 < pct_start < 1.0:
            raise invalid_value(
                "OneCycle: `pct_start` is the fraction of the cycle spent rising.",
                expected="a number with 0 < pct_start < 1",
                received={"pct_start": pct_start},
            )
        if anneal_strategy not in _STRATEGIES:
            raise invalid_value(
                f"OneCycle: unknown `anneal_strategy` {anneal_strategy!r}.",
                received={"anneal_strategy": anneal_strategy},
                choices=_STRATEGIES,
            )
        for arg, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not is_real(value) or not value > 0:
                raise invalid_value(f"OneCycle: `{arg}` must be > 0.", received={arg: value})
        self.pct_start = float(pct_start)
        self.anneal_strategy = anneal_strategy
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.three_phase = bool(three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum = float(base_momentum)
        self.max_momentum = float(max_momentum)

    def _phases(self, total: int) -> list[tuple[float, str, str]]:
        """``(end_step, start_point, end_point)`` per phase; points are initial/peak/final."""
        rise_end = self.pct_start * total - 1
        if self.three_phase:
            return [
                (rise_end, "initial", "peak"),
                (2 * self.pct_start * total - 2, "peak", "initial"),
                (total - 1, "initial", "final"),
            ]
        return [(rise_end, "initial", "peak"), (total - 1, "peak", "final")]

    def _position(self, step: int) -> tuple[str, str, float]:
        """The phase's start and end points and the fraction done, at ``step``."""
        total = self._resolved_total or self.resolve_total()
        step = min(step, total - 1)
        phases = self._phases(total)
        start_step = 0.0
        for end_step, start, end in phases[:-1]:
            if step <= end_step:
                return start, end, _fraction(step, start_step, end_step)
            start_step = end_step
        end_step, start, end = phases[-1]
        return start, end, _fraction(step, start_step, end_step)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def rates_at(self, step: int, n_groups: int) -> list[float]:
        peaks = self.max_lrs * n_groups if self.scalar_max_lr else self.max_lrs
        if len(peaks) != n_groups:
            raise invalid_value(
                "OneCycle: `max_lr` needs one rate per optimizer param group.",
                received={"max_lr": self.max_lrs, "param_groups": n_groups},
            )
        start, end, pct = self._position(step)
        rates = []
        for peak in peaks:
            initial = peak / self.div_factor
            points = {"initial": initial, "peak": peak, "final": initial / self.final_div_factor}
            rates.append(self._anneal(points[start], points[end], pct))
        return rates

    def momentum_at(self, step: int) -> float:
        """The momentum (or beta1) at ``step``: high when the rate is low, and vice versa."""
        start, end, pct = self._position(step)
        points = {"initial": self.max_momentum, "peak": self.base_momentum}
        points["final"] = self.max_momentum
        return self._anneal(points[start], points[end], pct)

    def _apply(self, step: int) -> None:
        super()._apply(step)
        if not self.cycle_momentum:
            return
        momentum = self.momentum_at(step)
        optimizer = optimizer_of(self)
        for group in optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (momentum, *tuple(group["betas"])[1:])
            elif "momentum" in group:
                group["momentum"] = momentum
            else:
                raise invalid_value(
                    "OneCycle: `cycle_momentum=True` needs an optimizer with `momentum` "
                    "(SGD, RMSprop) or `betas` (Adam, AdamW).",
                    received={"optimizer": type(optimizer).__name__},
                    hint="Pass cycle_momentum=False.",
                )


def _fraction(step: int, start_step: float, end_step: float) -> float:
    # A phase can be empty when pct_start × total_steps is exactly 1; torch divides by
    # zero there, here the phase counts as done.
    if end_step == start_step:
        return 1.0
    return (step - start_step) / (end_step - start_step)
