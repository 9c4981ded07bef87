"""``cnnkit compare`` on a slice of real MNIST: table, results.json, Markdown, PNG, errors."""

from __future__ import annotations

import json

import pytest

from cnnkit.baselines import REPORT_FILES, compare
from cnnkit.cli import main


def test_compare_writes_every_report_file(shared_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "cmp"
    argv = ["compare", "--dataset", "mnist", "--models", "knn-l2,forest"]
    argv += ["--train-size", "1000", "--test-size", "300", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "knn-l2: accuracy" in printed and "forest: accuracy" in printed
    assert all((out / name).is_file() for name in REPORT_FILES)
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["train_images"] == 1000 and results["meta"]["normalize"] is True
    rows = {row["model"]: row for row in results["rows"]}
    assert list(rows) == ["knn-l2", "forest"]
    # 1,000 training digits: every baseline is far above chance (10%).
    assert all(row["accuracy"] > 0.80 for row in rows.values())
    assert rows["knn-l2"]["size"] == 1000 * 784 and rows["forest"]["size_unit"] == "tree nodes"
    assert all(row["predict_seconds_per_1000"] > 0 for row in rows.values())
    markdown = (out / "results.md").read_text()
    assert "| knn-l2 |" in markdown and "normalised" in markdown
    assert (out / "accuracy_vs_predict_time.png").read_bytes()[:4] == b"\x89PNG"


def test_no_normalize_hurts_the_mlp_but_not_knn(shared_data, monkeypatch):
    """Raw 0..255 pixels leave kNN's ranking unchanged (one uniform scale on one channel)
    and slow the MLP's Adam training down (measured: see docs/benchmarks.md)."""
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    kwargs = {"models": "knn-l2,mlp", "train_size": 1000, "test_size": 300}
    normal = {r.model: r.accuracy for r in compare("mnist", **kwargs).rows}
    raw = compare("mnist", normalize=False, **kwargs)
    assert raw.meta["normalize"] is False and raw.meta["channel_mean"] == []
    raw_acc = {r.model: r.accuracy for r in raw.rows}
    assert raw_acc["knn-l2"] == normal["knn-l2"]
    assert raw_acc["mlp"] < normal["mlp"]


def test_unknown_model_names_the_closest_one(capsys):
    assert main(["compare", "--models", "knn-l3", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "Received: models='knn-l3'" in err and "knn-l1" in err


def test_bad_sizes_are_template_errors():
    with pytest.raises(ValueError, match=r"`train_size` must be a positive.*train_size=0"):
        compare("mnist", "knn-l2", train_size=0)
    with pytest.raises(ValueError, match=r"Unknown dataset.*Received: dataset='mnits'.*mnist"):
        compare("mnits", "knn-l2")
