"""CI real-data test: the README's command, 2 epochs of LeNet-5 on real MNIST, >= 98.5%."""

from __future__ import annotations

import json

import pytest

from cnnkit.cli import main


@pytest.mark.slow
def test_lenet5_two_epochs_on_real_mnist_reaches_98_5_percent(
    shared_data, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "lenet5"
    argv = [
        "train",
        "--model",
        "lenet5",
        "--dataset",
        "mnist",
        "--epochs",
        "2",
        "--out",
        str(out),
        "--verbose",
        "0",
    ]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in capsys.readouterr().out
    assert metrics["test_accuracy"] >= 0.985, metrics
