"""Callback base class, the list that dispatches to many callbacks, and History.

Hook names and arguments are Keras': ``on_train_begin(logs)``,
``on_epoch_end(epoch, logs)``, ``on_train_batch_end(batch, logs)``, ... The
engine calls them through a :class:`CallbackList`. ``logs`` is a plain dict of
floats such as ``{"loss": 0.12, "accuracy": 0.97, "val_loss": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Callback", "CallbackList", "History"]

_HOOKS = (
    "on_train_begin", "on_train_end",
    "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end",
    "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class Callback:
    """Base class: override the hooks you need; each receives Keras' arguments.

    Attributes:
        model: The model being trained, set by the engine before training.
        params: ``{"epochs", "steps", "verbose"}`` set by the engine.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def get_state(self) -> dict[str, Any]:
        """The callback's resumable state as a dict of plain numbers (``{}`` if stateless).

        ``BackupAndRestore`` stores it with the rest of a backup and hands it back
        through :meth:`set_state` when an interrupted ``fit`` resumes.
        """
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned; the default has nothing to restore."""
        del state

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, float] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...
    # Keras 2 course code overrides ``on_batch_begin/on_batch_end``; the train-batch hooks
    # forward to them by default, as in Keras, so such subclasses keep working.
    def on_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: dict[str, float] | None = None) -> None: ...
    def on_test_end(self, logs: dict[str, float] | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_predict_begin(self, logs: dict[str, float] | None = None) -> None: ...
    def on_predict_end(self, logs: dict[str, float] | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    Attributes:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch.
        epoch: The epoch indices that were recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))


class CallbackList:
    """Calls the same hook on every callback, in order.

    Args:
        callbacks: The callbacks; ``None`` means none.
        model: Set on every callback.
        params: Set on every callback.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        *,
        model: Any = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.callbacks: list[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                from cnnkit._errors import invalid_type

                raise invalid_type(
                    "Every entry of `callbacks` must be a cnnkit.callbacks.Callback.",
                    received={"callback": cb},
                )
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(params)

    def __getattr__(self, hook: str) -> Any:
        if hook not in _HOOKS:
            raise AttributeError(hook)

        def dispatch(*args: Any, **kwargs: Any) -> None:
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)

        return dispatch
