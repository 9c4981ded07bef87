"""``cnnkit bench``: per-row lines, the table and the JSON file."""

from __future__ import annotations

import json

from cnnkit.cli import main


def test_bench_cli_prints_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "--model", "lenet5", "--device", "cpu,cuda", "--precision", "fp32,fp16"]
    assert main([*argv, "--batch-size", "8", "--steps", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cpu fp32 nchw: train" in printed and "cpu fp16: skipped:" in printed
    data = json.loads(out.read_text())
    assert data["rows"][0]["status"] == "ok" and data["meta"]["batch_size"] == 8


def test_bench_cli_unknown_device(capsys):
    assert main(["bench", "--device", "tpu"]) == 2
    assert "Received: devices='tpu'" in capsys.readouterr().err
