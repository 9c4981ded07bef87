"""CSVLogger: rows as Keras writes them, flushed every epoch, append mode."""

from __future__ import annotations

import csv

import pytest

from cnnkit.callbacks import Callback, CSVLogger
from tests.callbacks._fakes import drive

LOGS = [
    {"loss": 1.5, "accuracy": 0.5, "val_loss": 1.25, "val_accuracy": 0.625},
    {"loss": 0.75, "accuracy": 0.75, "val_loss": 1.0, "val_accuracy": 0.6875},
]


def _rows(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_rows_and_header(tmp_path):
    path = tmp_path / "logs" / "history.csv"
    drive(CSVLogger(path), LOGS)
    assert _rows(path) == [
        ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
        ["0", "0.5", "1.5", "0.625", "1.25"],
        ["1", "0.75", "0.75", "0.6875", "1.0"],
    ]


def test_each_row_is_on_disk_when_the_epoch_ends(tmp_path):
    path = tmp_path / "h.csv"
    seen = []

    class ReadBack(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(len(_rows(path)))

    drive([CSVLogger(path), ReadBack()], LOGS)
    assert seen == [2, 3]  # header + one row, then + another row, before training ends


@pytest.mark.parametrize(("append", "rows"), [(True, 5), (False, 3)])
def test_append(tmp_path, append, rows):
    path = tmp_path / "h.csv"
    drive(CSVLogger(path), LOGS)
    drive(CSVLogger(path, append=append), LOGS)
    content = _rows(path)
    assert len(content) == rows
    assert sum(r[0] == "epoch" for r in content) == 1  # one header only


def test_separator_and_missing_validation_columns(tmp_path):
    path = tmp_path / "h.csv"
    drive(CSVLogger(path, separator=";"), [{"loss": 1.0, "learning_rate": 0.001}])
    # Without val_ keys in the first epoch, Keras adds val_ columns (validation may run later).
    assert _rows(path, ";") == [
        ["epoch", "learning_rate", "loss", "val_loss"],
        ["0", "0.001", "1.0", "NA"],
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"filename": 5}, TypeError, r"`filename` must be a path.*Received: filename=5"),
        ({"filename": "h.csv", "separator": ";;"}, ValueError, r"`separator` must be a single"),
    ],
)
def test_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        CSVLogger(**kwargs)
