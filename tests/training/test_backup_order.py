"""BackupAndRestore saves only after every callback has handled the epoch / batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.callbacks import BackupAndRestore, Callback, EarlyStopping, LambdaCallback
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential

VALUES = [0.5, 0.1, 0.2, 0.3, 0.4, 0.5]


class _Inject(Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["plateau"] = VALUES[epoch]


class _Crash(Exception):
    pass


def _run(backup_dir, crash_epoch=None):
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")

    def begin(epoch, logs):
        if epoch == crash_epoch:
            raise _Crash

    stopper = EarlyStopping(monitor="plateau", patience=1)
    x = np.random.default_rng(0).random((32, 4), dtype=np.float32)
    y = np.zeros(32, dtype=np.int64)
    callbacks = [
        BackupAndRestore(backup_dir),
        _Inject(),
        stopper,
        LambdaCallback(on_epoch_begin=begin),
    ]
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=callbacks)
    return history.epoch, stopper.stopped_epoch


def test_resume_after_epoch_backup_matches_uninterrupted_run(tmp_path):
    # Before the fix the backup held EarlyStopping's state from before epoch 1's end,
    # so the resumed run never saw epoch 1 and stopped one epoch late.
    assert _run(tmp_path / "a") == ([0, 1, 2], 2)
    with pytest.raises(_Crash):
        _run(tmp_path / "b", crash_epoch=2)
    assert _run(tmp_path / "b") == ([0, 1, 2], 2)


class _Counter(Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def get_state(self):
        return {"batches": self.batches}

    def set_state(self, state):
        self.batches = state["batches"]


def test_batch_backup_holds_the_later_callbacks_batch_count(tmp_path):
    backup = BackupAndRestore(tmp_path, save_freq=2, delete_checkpoint=False)
    counter = _Counter()
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((32, 4), dtype=np.float32)
    model.fit(x, np.zeros(32, dtype=np.int64), batch_size=8, epochs=1, verbose=0,
              callbacks=[backup, counter])  # fmt: skip
    # 4 batches, backup after batch 4 with the counter already at 4 (before the fix: 3).
    restored = _Counter()
    model.fit(x, np.zeros(32, dtype=np.int64), batch_size=8, epochs=2, verbose=0,
              callbacks=[BackupAndRestore(tmp_path, save_freq=100), restored])  # fmt: skip
    assert restored.batches == 4 + 4
