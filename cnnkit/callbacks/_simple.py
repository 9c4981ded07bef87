"""Two small callbacks: TerminateOnNaN and LambdaCallback."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from cnnkit._errors import invalid_type, unknown_name
from cnnkit.callbacks._base import _HOOKS, Callback

__all__ = ["LambdaCallback", "TerminateOnNaN"]

# Keras 2 names that course code still passes to LambdaCallback.
_ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite.

    It warns (``RuntimeWarning``) with the epoch and batch, both 1-based as in the
    progress bar, and sets ``model.stop_training``.

    Attributes:
        stopped_at: ``(epoch, batch)``, 0-based, of the bad loss, or None.

    Example:
        >>> from cnnkit.callbacks import TerminateOnNaN
        >>> guard = TerminateOnNaN()
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.stopped_at = (self._epoch, batch)
        epochs = self.params.get("epochs")
        steps = self.params.get("steps")
        epoch_text = f"{self._epoch + 1}/{epochs}" if epochs else f"{self._epoch + 1}"
        batch_text = f"{batch + 1}/{steps}" if steps else f"{batch + 1}"
        warnings.warn(
            f"TerminateOnNaN: invalid loss {float(loss)} at epoch {epoch_text}, batch "
            f"{batch_text}; terminating training. A lower learning rate, gradient clipping "
            "or checking the inputs for NaN usually helps.",
            RuntimeWarning,
            stacklevel=2,
        )
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback built from plain functions, one per hook (Keras semantics).

    Epoch hooks take ``(epoch, logs)``, batch hooks ``(batch, logs)`` and the
    begin/end-of-run hooks ``(logs)``; ``logs`` is always a dict (``{}`` if none).
    Any hook of :class:`Callback` may be given, and the Keras 2 names
    ``on_batch_begin``/``on_batch_end`` mean the train-batch hooks.

    Example:
        >>> from cnnkit.callbacks import LambdaCallback
        >>> losses = []
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any] | None,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in kwargs.items():
            if name not in _HOOKS and name not in _ALIASES:
                raise unknown_name("LambdaCallback hook", name, (*_HOOKS, *_ALIASES), argument=name)
            hooks[_ALIASES.get(name, name)] = fn
        # The engine skips the batch hooks of callbacks that do not ask for them.
        self.needs_batch_logs = any(
            fn is not None for name, fn in hooks.items() if name.startswith("on_train_batch")
        )
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise invalid_type(
                    f"LambdaCallback: `{name}` must be a function.", received={name: fn}
                )
            # An instance attribute shadows the method of the same name.
            setattr(self, name, _hook(fn, takes_index="batch" in name or "epoch" in name))


def _hook(fn: Callable[..., Any], *, takes_index: bool) -> Callable[..., None]:
    """Wrap ``fn`` so it always gets a logs dict, even when the engine passes none."""
    if takes_index:

        def indexed(index: int, logs: dict[str, float] | None = None) -> None:
            fn(index, logs if logs is not None else {})

        return indexed

    def run(logs: dict[str, float] | None = None) -> None:
        fn(logs if logs is not None else {})

    return run
