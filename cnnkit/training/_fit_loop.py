"""One run of ``fit``, as named steps: begin, then per epoch train and end, then finish.

:class:`FitLoop` holds what lives only while one ``fit`` call runs (the
callback list, the progress display, the resume position); the
:class:`~cnnkit.training.Trainer` it drives holds what outlives it (model,
optimizer, metrics, data order). Reading order::

    FitLoop(trainer, data, val_data, callbacks, ...).run()
        _begin()              callbacks and history wired, resume state applied
        for each epoch:
            _train_epoch()    batches -> trainer._train_step, batch hooks, progress
            _end_epoch()      metrics reduced, validation pass, epoch hooks
                          (a NaN loss ends the run before the epoch hooks: _nonfinite.py)
            _should_stop()    callbacks' stop request (agreed by all ranks under DDP)
        _finish()             on_train_end

Distributed training changes three points only, each behind ``trainer._ddp``:
metrics are summed over ranks at the epoch end, and a stop request is agreed
after every batch (when a callback has batch hooks) and every epoch.
"""

from __future__ import annotations

from typing import Any

from cnnkit.callbacks._base import Callback, CallbackList, History
from cnnkit.training._data import ArrayData, SequenceData
from cnnkit.training._ddp import agree_stop, reduce_metrics
from cnnkit.training._fit_inputs import batch_weights
from cnnkit.training._nonfinite import NonFiniteGuard
from cnnkit.training._progress import ProgressDisplay

__all__ = ["FitLoop", "needs_batch_logs"]


def needs_batch_logs(cb: Callback) -> bool:
    """Whether ``cb`` does anything per batch (else the engine skips building batch logs)."""
    explicit = getattr(cb, "needs_batch_logs", None)
    if explicit is not None:
        return bool(explicit)
    cls = type(cb)
    return any(
        getattr(cls, hook) is not getattr(Callback, hook)
        for hook in ("on_train_batch_end", "on_train_batch_begin", "on_batch_end", "on_batch_begin")
        if hasattr(Callback, hook)
    )


def _hooks(callbacks: list[Callback], name: str) -> list[Any]:
    return [getattr(cb, name) for cb in callbacks if hasattr(cb, name)]


class FitLoop:
    """The epochs of one ``fit`` call over ready-made data adapters.

    Args:
        trainer: The :class:`~cnnkit.training.Trainer` whose model is trained.
        data: Training adapter (``ArrayData``, ``SequenceData`` or ``IterableData``).
        val_data: Validation adapter, or None.
        callbacks: The user's callbacks (already filtered for this rank).
        epochs: Index of the epoch to stop before (Keras' ``epochs``).
        initial_epoch: First epoch index of a fresh (not resumed) run.
        verbose: 0, 1 or 2.
        class_weights: Lookup tensor from ``class_weight_table``, or None.
        on_nonfinite: ``"stop"`` or ``"continue"`` (see ``_nonfinite.py``).
    """

    def __init__(
        self,
        trainer: Any,
        data: Any,
        val_data: Any,
        callbacks: list[Callback],
        *,
        epochs: int,
        initial_epoch: int,
        verbose: int,
        class_weights: Any,
        on_nonfinite: str = "stop",
    ) -> None:
        self.trainer = trainer
        self.model = trainer.model
        self.data = data
        self.val_data = val_data
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self.class_weights = class_weights
        self.history = History()
        self.callbacks = list(callbacks)
        self.cbs = CallbackList(
            [self.history, *self.callbacks],
            model=self.model,
            params={"epochs": epochs, "steps": data.steps, "verbose": verbose},
        )
        self.batch_hooks = any(needs_batch_logs(cb) for cb in self.callbacks)
        # Hooks that must run after every callback has handled the batch/epoch (backups).
        self.after_batch = _hooks(self.callbacks, "after_train_batch_end")
        self.after_epoch = _hooks(self.callbacks, "after_epoch_end")
        self.progress = ProgressDisplay(verbose, epochs)
        self.start_epoch = initial_epoch
        self.start_step = 0
        self.resumed_mid_epoch = False
        self.last_step = 0
        # Under DDP the loss is checked only at the epoch end, where the logs are already
        # reduced, so every rank decides to stop at the same point.
        self.guard = NonFiniteGuard(
            trainer,
            on_nonfinite,
            epochs=epochs,
            steps=data.steps,
            epoch_end_only=trainer._ddp is not None,
        )
        self.stopped_nonfinite = False

    # ------------------------------------------------------------------ the run
    def run(self) -> History:
        """Train every epoch from the start (or resume) position; returns the History."""
        self._begin()
        logs: dict[str, float] = {}
        try:
            for epoch in range(self.start_epoch, self.epochs):
                self._train_epoch(epoch)
                if self.stopped_nonfinite:
                    break
                epoch_logs = self._end_epoch(epoch)
                if self.stopped_nonfinite:
                    break
                logs = epoch_logs
                if self._should_stop():
                    break
        finally:
            self.trainer._guard = None
        self._finish(logs)
        return self.history

    def _begin(self) -> None:
        trainer, model = self.trainer, self.model
        trainer.history = self.history
        trainer.callbacks = self.callbacks
        for cb in self.callbacks:
            if hasattr(cb, "set_trainer"):
                cb.set_trainer(trainer)
        model.stop_training = False
        model.history = self.history
        trainer._reg_cache = None  # layers may have changed since the last fit
        trainer._checked = False
        trainer._position = (self.initial_epoch, 0)
        trainer._epoch_order_state = trainer.data_order.get_state()
        if isinstance(self.data, ArrayData) and trainer._optimizer is None:
            trainer._ensure_built(self.data.x[:1].float())  # a backup loads into built layers
        trainer._guard = self.guard
        self.cbs.on_train_begin()
        # A BackupAndRestore found a backup in on_train_begin: resume where it stopped.
        trainer._apply_pending_state()
        self.start_epoch, self.start_step = trainer._resume or (self.initial_epoch, 0)
        self.resumed_mid_epoch = trainer._resume is not None and self.start_step > 0
        trainer._resume = None
        if isinstance(self.data, SequenceData):
            # A Sequence keeps its own epoch counter (orders, augmentation draws): replay
            # the epoch ends a resumed run skipped.
            for _ in range(self.start_epoch - self.initial_epoch):
                self.data.end_epoch()

    def _train_epoch(self, epoch: int) -> None:
        trainer, cbs = self.trainer, self.cbs
        self.model.train()
        if not self.resumed_mid_epoch:
            trainer._reset_metrics()
        self.resumed_mid_epoch = False
        cbs.on_epoch_begin(epoch)
        trainer._epoch_order_state = trainer.data_order.get_state()
        self.progress.begin(self.data.steps, epoch)
        self.guard.begin_epoch(epoch)
        step = self.start_step
        for step, (xb, yb, wb) in enumerate(self.data.epoch(self.start_step), self.start_step + 1):
            if self.batch_hooks:
                cbs.on_train_batch_begin(step - 1)
            applied = trainer._train_step(
                xb, yb, batch_weights(yb, wb, self.class_weights), self.data
            )
            if self.guard.after_step(epoch, step, skipped=applied is False):
                self.progress.end(step - 1, trainer._logs())
                self.stopped_nonfinite = True
                return
            trainer._position = (epoch, step)
            if self.batch_hooks:
                cbs.on_train_batch_end(step - 1, trainer._logs())
                for hook in self.after_batch:
                    hook(step - 1)
            self.progress.update(step, trainer._logs)
            if self.batch_hooks and trainer._ddp is not None:
                self.model.stop_training = agree_stop(self.model.stop_training, trainer.device)
            if self.model.stop_training:
                break
        self.start_step = 0
        self.last_step = step

    def _end_epoch(self, epoch: int) -> dict[str, float]:
        trainer = self.trainer
        if trainer._ddp is not None:
            reduce_metrics(trainer)
        logs = trainer._logs()
        if self.guard.end_epoch(epoch, self.last_step, logs):
            self.progress.end(self.last_step, logs)
            self.stopped_nonfinite = True
            return logs
        if self.val_data is not None:
            val = trainer._test_loop(self.val_data, None, ProgressDisplay(0))
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["learning_rate"] = float(trainer.optimizer.param_groups[0]["lr"])
        trainer._position = (epoch + 1, 0)
        trainer._epoch_order_state = trainer.data_order.get_state()
        self.progress.end(self.last_step, logs)
        self.cbs.on_epoch_end(epoch, logs)
        for hook in self.after_epoch:
            hook(epoch)
        return logs

    def _should_stop(self) -> bool:
        if self.trainer._ddp is not None:
            self.model.stop_training = agree_stop(self.model.stop_training, self.trainer.device)
        return bool(self.model.stop_training)

    def _finish(self, logs: dict[str, float]) -> None:
        self.cbs.on_train_end(logs)
        self.trainer._ddp = None
