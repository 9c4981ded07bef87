"""cnnkit.bench: rows, baselines, skips and template errors, on LeNet-5 with tiny steps."""

from __future__ import annotations

import json

import pytest
import torch

from cnnkit.bench import bench, bench_meta, skip_reason, write_bench


def test_rows_speedups_and_skips(tmp_path):
    seen = []
    rows = bench(
        "lenet5",
        devices="cpu,cuda",
        precisions="bf16,fp16",
        channels_last=True,
        batch_size=8,
        steps=2,
        warmup=1,
        on_row=seen.append,
    )
    assert seen == rows
    ran = [r for r in rows if r.status == "ok"]
    # fp32 is always measured first as the baseline, then each layout of each precision.
    assert [(r.precision, r.layout) for r in ran] == [
        ("fp32", "nchw"),
        ("fp32", "channels_last"),
        ("bf16", "nchw"),
        ("bf16", "channels_last"),
    ]
    assert ran[0].speedup_train == 1.0 and ran[0].speedup_infer == 1.0
    for row in ran:
        assert row.train_images_per_s > 0 and row.infer_images_per_s > 0
        assert row.speedup_train == pytest.approx(
            row.train_images_per_s / ran[0].train_images_per_s
        )
    skipped = {(r.device, r.precision): r.note for r in rows if r.status == "skipped"}
    assert "fp16" in skipped[("cpu", "fp16")]  # one line for fp16 on CPU, not one per layout
    assert len([r for r in rows if r.precision == "fp16"]) == 1
    if not torch.cuda.is_available():
        assert skipped[("cuda", "all")].startswith("no CUDA device")
    path = write_bench(rows, tmp_path / "b.json", bench_meta(model="lenet5"))
    data = json.loads(path.read_text())
    assert data["meta"]["model"] == "lenet5" and len(data["rows"]) == len(rows)


def test_skip_reasons():
    assert skip_reason("cpu", "fp32") is None and skip_reason("cpu", "bf16") is None
    assert skip_reason("cpu", "fp16") is not None
    if not torch.cuda.is_available():
        assert "no CUDA" in skip_reason("cuda", "fp32")


def test_errors_follow_the_template():
    with pytest.raises(ValueError, match=r"Unknown model.*Received: model='resnet19'.*resnet18"):
        bench("resnet19")
    with pytest.raises(ValueError, match=r"Received: precisions='fp8'"):
        bench("lenet5", precisions="fp8")
    with pytest.raises(ValueError, match=r"`steps` must be an integer >= 1.*Received: steps=0"):
        bench("lenet5", steps=0)
