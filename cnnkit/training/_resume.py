"""What ``BackupAndRestore`` saves and loads: the whole state of a running ``fit``.

:meth:`ResumeMixin.get_training_state` returns (tensors, JSON metadata): the
weights, the optimizer state, every random stream (see ``_state.py``), the
metric sums, the position ``(epoch, batch)``, the history, each callback's
own state, and what a custom ``train_step`` keeps on its model (its optimizers,
metrics and seed generators: ``_extra_state.py``).
:meth:`ResumeMixin.set_training_state` loads them back; the fit loop then resumes
at that position (``FitLoop._begin``).
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._errors import invalid_value
from cnnkit.training._extra_state import capture_extra, restore_extra
from cnnkit.training._state import (
    capture_rng,
    flatten_optimizer,
    restore_rng,
    unflatten_optimizer,
)

__all__ = ["ResumeMixin"]


class ResumeMixin:
    """Resumable training state; expects the attributes that :class:`Trainer` sets up."""

    def _apply_pending_state(self) -> None:
        meta, self._pending_state = self._pending_state, None
        if meta is None:
            return
        if meta["history"] is not None and self.history is not None:
            self.history.epoch, self.history.history = meta["history"]
        for cb, (name, state) in zip(self.callbacks, meta["callbacks"], strict=False):
            if type(cb).__name__ == name:
                cb.set_state(state)

    def get_training_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything needed to resume ``fit`` at the current batch: tensors and JSON."""
        tensors = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        opt_tensors, opt_meta = flatten_optimizer(self.optimizer.state_dict())
        rng_tensors, rng_meta = capture_rng(self._epoch_order_state)
        extra_tensors, extra_meta = capture_extra(self)  # a custom step's own optimizers...
        tensors |= opt_tensors | rng_tensors | extra_tensors
        for i, metric in enumerate([self.loss_tracker, *self.metrics]):
            for j, value in enumerate(metric._state or []):
                tensors[f"metric/{i}/{j}"] = value
        history = self.history
        meta = {
            "position": list(self._position),
            "model_keys": list(self.model.state_dict()),
            "optimizer": opt_meta,
            "rng": rng_meta,
            "history": None if history is None else [history.epoch, history.history],
            "callbacks": [[type(cb).__name__, cb.get_state()] for cb in self.callbacks],
            "scaler": None if self._scaler is None else self._scaler.state_dict(),
            "extra": extra_meta,
        }
        return tensors, meta

    def set_training_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Load :meth:`get_training_state` output; the running ``fit`` resumes from it."""
        # By position: layer auto-names (dense_3 vs dense) differ when the same script
        # is re-run inside one process, while the structure and order do not.
        own = self.model.state_dict()
        saved = [tensors[f"model/{k}"] for k in meta["model_keys"]]
        if [tuple(v.shape) for v in saved] != [tuple(v.shape) for v in own.values()]:
            raise invalid_value(
                "The training backup does not fit this model (different layers or shapes).",
                received={"backup tensors": len(saved), "model tensors": len(own)},
                hint="Use a new backup_dir for a new model.",
            )
        self.model.load_state_dict(dict(zip(own, saved, strict=True)))
        self.optimizer.load_state_dict(unflatten_optimizer(tensors, meta["optimizer"]))
        self.data_order.set_state(restore_rng(tensors, meta["rng"]))
        for i, metric in enumerate([self.loss_tracker, *self.metrics]):
            found = sorted(
                (k for k in tensors if k.startswith(f"metric/{i}/")),
                key=lambda k: int(k.rsplit("/", 1)[1]),
            )
            metric._state = [tensors[k].to(self.device) for k in found] or None
        if meta.get("extra"):
            restore_extra(self, tensors, meta["extra"])
        # History and callback states are applied once every on_train_begin has run,
        # so a callback that resets itself there cannot wipe what was restored.
        self._pending_state = meta
        if self._scaler is not None and meta["scaler"]:
            self._scaler.load_state_dict(meta["scaler"])
        self._resume = (int(meta["position"][0]), int(meta["position"][1]))
