"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped.

The backup holds the model weights, the optimizer state (moments, step
counts, learning rates), every random generator (torch, NumPy, Python and the
engine's data-order generator), the position (epoch and batch), the partial
epoch's metric sums, the history so far, and the state of every callback that
has one (``get_state``). Run the same script again after a crash and the same
``fit`` call continues mid-epoch; on CPU the final weights are bit-identical
to an uninterrupted run.

The file is one safetensors file (tensors) whose metadata carries the rest as
JSON, so loading it never unpickles anything. It is written atomically: to a
temporary file in the same folder, flushed and fsynced, then renamed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save

from cnnkit._errors import invalid_type, invalid_value
from cnnkit._io import atomic_write
from cnnkit.callbacks._base import Callback

__all__ = ["BackupAndRestore"]

_FILE = "training_state.safetensors"
_META_KEY = "cnnkit_training_state"


class BackupAndRestore(Callback):
    """Back up the whole training state regularly; restore it when ``fit`` starts again.

    Args:
        backup_dir: Folder for the backup (created if missing). Use one folder per run.
        save_freq: ``"epoch"`` to back up at the end of every epoch, or an integer N
            to back up every N training batches (resume then happens mid-epoch).
        delete_checkpoint: Delete the backup once ``fit`` completes normally.

    Example::

        model.fit(x, y, epochs=10, callbacks=[BackupAndRestore("runs/backup", save_freq=100)])
    """

    def __init__(
        self, backup_dir: str | os.PathLike[str], save_freq: Any = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not str(backup_dir):
            raise invalid_type(
                "BackupAndRestore: `backup_dir` must be a folder path.",
                received={"backup_dir": backup_dir},
            )
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise invalid_value(
                "BackupAndRestore: `save_freq` must be 'epoch' or a number of batches >= 1.",
                received={"save_freq": save_freq},
            )
        self.backup_dir = Path(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._trainer: Any = None
        self._batches = 0

    @property
    def path(self) -> Path:
        """The backup file."""
        return self.backup_dir / _FILE

    @property
    def needs_batch_logs(self) -> bool:
        # Saving every N batches needs the batch hook, not the logs; the hook is cheap.
        return self.save_freq != "epoch"

    def set_trainer(self, trainer: Any) -> None:
        """Called by the engine with the ``Trainer`` whose state is backed up."""
        self._trainer = trainer

    def _require_trainer(self) -> Any:
        if self._trainer is None:
            raise invalid_value(
                "BackupAndRestore works only inside cnnkit's fit(): no trainer was attached.",
                received={"trainer": None},
            )
        return self._trainer

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        trainer = self._require_trainer()
        self._batches = 0
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return
        tensors: dict[str, torch.Tensor] = {}
        with safe_open(str(self.path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
            if raw is None:
                raise invalid_value(
                    "BackupAndRestore: the backup file is not a cnnkit training state.",
                    received={"path": str(self.path)},
                    hint="Delete it or choose another backup_dir.",
                )
            for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                tensors[key] = f.get_tensor(key)
        trainer.set_training_state(tensors, json.loads(raw))

    # The engine calls the two ``after_*`` hooks once EVERY callback has run the
    # matching ``on_*`` hook. Saving inside ``on_*`` would snapshot the callbacks
    # after this one before they saw the epoch (or batch) while the saved position
    # already points past it, so after a resume they would never see it.
    def after_train_batch_end(self, batch: int) -> None:
        """Back up every ``save_freq`` batches; called after all callbacks' batch end."""
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save()

    def after_epoch_end(self, epoch: int) -> None:
        """Back up at an epoch end; called after all callbacks' ``on_epoch_end``."""
        if self.save_freq == "epoch":
            self._save()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.delete_checkpoint:
            self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        tensors, meta = self._require_trainer().get_training_state()
        # safetensors wants contiguous CPU tensors that share no memory.
        flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
        data = save(flat, metadata={_META_KEY: json.dumps(meta)})
        atomic_write(self.path, lambda tmp: Path(tmp).write_bytes(data))
