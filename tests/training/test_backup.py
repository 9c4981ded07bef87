"""BackupAndRestore: SIGKILL mid-epoch, run again, and get bit-identical final weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cnnkit.callbacks import BackupAndRestore, Callback
from cnnkit.training import Trainer
from cnnkit.utils import set_random_seed
from tests.conftest import REPO_ROOT
from tests.training._models import blobs, cnnkit_mlp

# 256 samples / batch 16 = 16 batches per epoch, 3 epochs; backups every 5 batches.
SCRIPT = """
import sys, time
from pathlib import Path
import numpy as np, torch
from safetensors.torch import save_file
torch.set_num_threads(1)
from cnnkit.callbacks import BackupAndRestore, Callback
from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, Input, Rescaling
from cnnkit.models import Sequential
from cnnkit.utils import set_random_seed

backup_dir, out, kill_at, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
set_random_seed(7)
x = np.random.randint(0, 255, (256, 8, 8, 1)).astype(np.uint8)
y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))) + (x[:, 0, 0, 0] > 200)
model = Sequential([Input((8, 8, 1)), Rescaling(1 / 255), Conv2D(4, 3, activation="relu"),
                    Flatten(), Dropout(0.3), Dense(3, activation="softmax")])
y = y.astype(np.int64)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

class Watch(Callback):
    seen = 0
    epoch = 0
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_begin(self, batch, logs=None):
        if self.seen == 0:
            print(f"first batch: epoch {self.epoch} batch {batch}", flush=True)
        self.seen += 1
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch * 16 + batch + 1 == kill_at:
            marker.write_text("ready")
            time.sleep(600)  # the parent SIGKILLs us here, mid-epoch

history = model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                    callbacks=[BackupAndRestore(backup_dir, save_freq=5), Watch()])
print("epochs", history.epoch, flush=True)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)
"""


def _run(tmp_path: Path, name: str, kill_at: int = -1) -> subprocess.CompletedProcess | None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    marker = tmp_path / f"{name}.marker"
    args = [sys.executable, str(script), str(tmp_path / f"{name}-backup"),
            str(tmp_path / f"{name}.safetensors"), str(kill_at), str(marker)]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    if kill_at < 0:
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=240,
                              check=True)  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"training did not reach batch {kill_at}: {proc.communicate()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return None


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    reference = _run(tmp_path, "reference")
    assert "first batch: epoch 0 batch 0" in reference.stdout
    # Killed after batch 23 = epoch 1, batch 7; the last backup was after batch 20.
    _run(tmp_path, "crashed", kill_at=23)
    assert (tmp_path / "crashed-backup" / "training_state.safetensors").exists()
    resumed = _run(tmp_path, "crashed")
    assert "first batch: epoch 1 batch 4" in resumed.stdout, resumed.stdout
    assert "epochs [0, 1, 2]" in resumed.stdout  # the history survived the crash too
    assert not (tmp_path / "crashed-backup" / "training_state.safetensors").exists()
    want = load_file(tmp_path / "reference.safetensors")
    got = load_file(tmp_path / "crashed.safetensors")
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want)


class _Crash(Callback):
    def __init__(self, at_epoch: int) -> None:
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def _fit(backup: Path, crash_at: int | None = None, mlp=None):
    set_random_seed(3)
    x, y = blobs(64)
    trainer = Trainer(mlp or cnnkit_mlp(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
    cbs = [BackupAndRestore(backup)] + ([_Crash(crash_at)] if crash_at is not None else [])
    history = trainer.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=cbs)
    return trainer, history


def test_epoch_backups_resume_in_process(tmp_path):
    ref, ref_history = _fit(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "b", crash_at=2)
    assert (tmp_path / "b" / "training_state.safetensors").exists()
    resumed, history = _fit(tmp_path / "b")
    assert history.epoch == [0, 1, 2]
    np.testing.assert_array_equal(history.history["loss"], ref_history.history["loss"])
    for a, b in zip(ref.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_backup_errors(tmp_path):
    with pytest.raises(ValueError, match=r"`save_freq` must be 'epoch' or a number of batches"):
        BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(TypeError, match=r"`backup_dir` must be a folder path"):
        BackupAndRestore(None)
    (tmp_path / "training_state.safetensors").write_bytes(b"\x08" + b"\x00" * 7 + b"{}      ")
    with pytest.raises(ValueError, match=r"not a cnnkit training state"):
        _fit(tmp_path)


def test_resume_replays_a_sequences_epochs(tmp_path):
    """ImageDataGenerator.flow keeps its own epoch counter (order, augmentation draws)."""
    from cnnkit.preprocessing.image import ImageDataGenerator

    def fit(backup: Path, crash_at: int | None = None):
        set_random_seed(5)
        x, y = blobs(64)
        flow = ImageDataGenerator(width_shift_range=0.2).flow(x, y, batch_size=16, seed=1)
        trainer = Trainer(cnnkit_mlp(), loss="sparse_categorical_crossentropy")
        cbs = [BackupAndRestore(backup)] + ([_Crash(crash_at)] if crash_at is not None else [])
        trainer.fit(flow, epochs=3, verbose=0, callbacks=cbs)
        return [p.detach().clone() for p in trainer.model.parameters()]

    reference = fit(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "b", crash_at=2)
    resumed = fit(tmp_path / "b")
    assert all(torch.equal(a, b) for a, b in zip(reference, resumed, strict=True))
