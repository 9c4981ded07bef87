"""The Keras-style progress display, drawn by ``rich`` (also inside Jupyter).

verbose=1 shows a live bar per epoch that ends as::

    469/469 ━━━━━━━━━━━━━━━━━━━━ 6s 12ms/step - accuracy: 0.9712 - loss: 0.0951 - val_...

verbose=2 prints only that final line without the bar (``469/469 - 6s - 12ms/step - ...``),
verbose=0 prints nothing. The bar is redrawn at most 10 times per second, and
only then are the metric tensors read (``.item()`` synchronises with the device).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

__all__ = ["ProgressDisplay", "format_logs", "format_seconds", "format_step_time"]

_REFRESH_SECONDS = 0.1


def format_seconds(seconds: float) -> str:
    """Elapsed time like Keras: ``6s``, ``2:05``, ``1:02:03``."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s >= 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


def format_step_time(seconds: float) -> str:
    """Time per step like Keras: ``1s/step``, ``12ms/step``, ``850us/step``."""
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _value(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


def format_logs(logs: dict[str, float]) -> str:
    """`` - accuracy: 0.9712 - loss: 0.0951`` (the learning rate is left out, as Keras does)."""
    return "".join(f" - {k}: {_value(v)}" for k, v in logs.items() if k != "learning_rate")


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal and not console.is_jupyter:
        # Log files and CI: do not truncate the metrics at a guessed 80 columns.
        console = Console(highlight=False, soft_wrap=True, width=240)
    return console


class ProgressDisplay:
    """One progress bar per epoch (or per evaluate/predict call).

    Args:
        verbose: 0, 1 or 2 (already checked).
        epochs: Total epochs for the ``Epoch 3/10`` header; None for evaluate/predict.
    """

    def __init__(self, verbose: int, epochs: int | None = None) -> None:
        self.verbose = verbose
        self.epochs = epochs
        self._console = _console() if verbose else None
        self._bar: Progress | None = None
        self._task = 0
        self._start = 0.0
        self._last_draw = 0.0
        self._total: int | None = None

    def begin(self, steps: int | None, epoch: int | None = None) -> None:
        """Start a bar of ``steps`` steps (None when unknown), with the epoch header."""
        self._start = self._last_draw = time.perf_counter()
        self._total = steps
        if not self._console:
            return
        if epoch is not None and self.epochs is not None:
            self._console.print(f"Epoch {epoch + 1}/{self.epochs}")
        if self.verbose == 1:
            self._bar = Progress(
                TextColumn("{task.completed}/{task.fields[total_text]}"),
                BarColumn(
                    bar_width=20,
                    style="bright_black",
                    complete_style="default",
                    finished_style="default",
                ),
                TextColumn("{task.fields[timing]}{task.fields[metrics]}"),
                console=self._console,
                auto_refresh=False,
                transient=False,
            )
            self._task = self._bar.add_task(
                "", total=steps, total_text=steps if steps else "?", timing="", metrics=""
            )
            self._bar.start()

    def update(self, step: int, logs: Callable[[], dict[str, float]]) -> None:
        """Record that ``step`` steps are done; redraw (reading ``logs()``) at most 10×/s."""
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._last_draw < _REFRESH_SECONDS and step != self._total:
            return
        self._last_draw = now
        self._draw(step, logs(), eta=True)

    def _timing(self, step: int, eta: bool) -> str:
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(step, 1)
        if eta and self._total and step < self._total:
            eta_text = format_seconds(per_step * (self._total - step))
            return f"{eta_text} {format_step_time(per_step)}"
        return f"{format_seconds(elapsed)} {format_step_time(per_step)}"

    def _draw(self, step: int, logs: dict[str, float], eta: bool) -> None:
        if self._bar is None:
            return
        self._bar.update(
            self._task, completed=step, timing=self._timing(step, eta), metrics=format_logs(logs)
        )
        self._bar.refresh()

    def end(self, step: int, logs: dict[str, float]) -> None:
        """Finish the bar with the final logs (validation metrics included)."""
        if not self._console:
            return
        if self._bar is not None:
            if self._total is None:
                self._bar.update(self._task, total=step, total_text=step)
            self._draw(step, logs, eta=False)
            self._bar.stop()
            self._bar = None
            return
        elapsed = time.perf_counter() - self._start
        total = self._total or step
        self._console.print(
            f"{step}/{total} - {format_seconds(elapsed)} - "
            f"{format_step_time(elapsed / max(step, 1))}{format_logs(logs)}"
        )
