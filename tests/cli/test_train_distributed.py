"""``cnnkit train --nproc 2``: two processes train, rank 0 alone writes and reports."""

from __future__ import annotations

import json

from cnnkit.cli import main
from tests.cli.test_train import MODEL_FILE, _image_folder


def test_train_on_two_processes_writes_its_files_once(tmp_path, capfd):
    data = _image_folder(tmp_path / "shapes", per_class=8)
    model_file = tmp_path / "mymodel.py"
    model_file.write_text(MODEL_FILE)
    out = tmp_path / "run"
    argv = ["train", "--model", f"{model_file}:build", "--dataset", str(data), "--epochs", "2",
            "--image-size", "16", "--lr", "0.05", "--batch-size", "8", "--out", str(out),
            "--verbose", "2", "--nproc", "2"]  # fmt: skip
    assert main(argv) == 0
    printed = capfd.readouterr().out  # the ranks print straight to the inherited stdout
    # One report and one progress line per epoch: rank 1 prints nothing.
    assert printed.count("test accuracy: ") == 1 and printed.count("Epoch 2/2") == 1
    assert printed.count("wrote ") == 1
    files = sorted(p.name for p in out.iterdir())
    assert files == ["classes.json", "curves.png", "history.csv", "metrics.json", "model.cnnkit"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["epochs"] == 2
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in printed
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss,learning_rate" and len(rows) == 3


def test_nproc_must_be_positive(tmp_path, capsys):
    _image_folder(tmp_path / "shapes", per_class=1)
    argv = ["train", "--dataset", str(tmp_path / "shapes"), "--nproc", "0",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 2
    assert (
        "--nproc must be a number of processes >= 1. Received: nproc=0" in capsys.readouterr().err
    )
