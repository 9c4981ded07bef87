"""The Keras-style progress lines (captured output) and their number formats."""

from __future__ import annotations

import re

from cnnkit.training import Trainer
from cnnkit.training._progress import format_logs, format_seconds, format_step_time
from cnnkit.training.losses import SparseCategoricalCrossentropy
from cnnkit.utils import set_random_seed
from tests.training._models import TinyNHWC, blobs

NUM = r"\d+\.\d{4}"


def _fit(verbose, capsys) -> list[str]:
    set_random_seed(0)
    x, y = blobs(64)
    trainer = Trainer(TinyNHWC(), loss=SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])  # fmt: skip
    trainer.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=verbose)
    return capsys.readouterr().out.splitlines()


def test_verbose_2_prints_one_keras_line_per_epoch(capsys):
    lines = _fit(2, capsys)
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    pattern = (rf"3/3 - \d+s - \d+(us|ms|s)/step - accuracy: {NUM} - loss: {NUM} "
               rf"- val_accuracy: {NUM} - val_loss: {NUM}")  # fmt: skip
    assert re.fullmatch(pattern, lines[1]), lines[1]
    assert re.fullmatch(pattern, lines[3]), lines[3]


def test_verbose_1_ends_each_epoch_with_a_full_bar(capsys):
    lines = [line.rstrip() for line in _fit(1, capsys) if line.strip()]
    bars = [line for line in lines if not line.startswith("Epoch")]
    assert len(bars) == 2, lines
    pattern = rf"3/3 ━{{20}} \d+s \d+(us|ms|s)/step - accuracy: {NUM} - loss: {NUM} - val_.*"
    assert all(re.fullmatch(pattern, b) for b in bars), bars


def test_verbose_0_is_silent(capsys):
    assert _fit(0, capsys) == []


def test_number_formats_follow_keras():
    assert [format_seconds(s) for s in (6.7, 125, 3723)] == ["6s", "2:05", "1:02:03"]
    assert [format_step_time(t) for t in (2.0, 0.012, 0.00085)] == [
        "2s/step", "12ms/step", "850us/step",
    ]  # fmt: skip
    logs = {"accuracy": 0.97123, "loss": 0.00005, "learning_rate": 0.001}
    assert format_logs(logs) == " - accuracy: 0.9712 - loss: 5.0000e-05"
