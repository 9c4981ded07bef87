"""``cnnkit serve`` without a model: a LeNet-5 trained on real MNIST once, then cached."""

from __future__ import annotations

import argparse
import io
import json
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.cli import _serve, _train
from cnnkit.serve._load import StudioProcess, multipart_image, process_tree, run_load
from tests.conftest import shared_data_dir

TINY = {"limit": 3000, "epochs": 1}  # ~45 steps: ~80% on the test set (chance 10%)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``CNNKIT_HOME`` holding the tiny default model, trained here once."""
    data = shared_data_dir()
    if data is None:
        pytest.skip("real data not found: set CNNKIT_DATA to the shared/data folder")
    home = tmp_path_factory.mktemp("cnnkit-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNKIT_HOME", str(home))
    mp.setenv("CNNKIT_DATA", str(data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on a shared CPU: one thread is fastest
    try:
        run = _serve.default_model(verbose=0, **TINY)
    finally:
        torch.set_num_threads(threads)
        mp.undo()
    assert run == home / "serve" / "lenet5-mnist-limit3000-epochs1"
    return home


def test_the_default_model_is_trained_once_and_then_loaded_from_the_cache(cache, monkeypatch):
    run = cache / "serve" / "lenet5-mnist-limit3000-epochs1"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    assert (run / "history.csv").is_file() and (run / "classes.json").is_file()
    assert not [p for p in run.parent.iterdir() if p.name.startswith(".")]  # no scratch left

    def no_training(args: argparse.Namespace) -> int:
        raise AssertionError("the cached default model was trained again")

    monkeypatch.setenv("CNNKIT_HOME", str(cache))
    monkeypatch.setattr(_train, "run", no_training)
    stamp = (run / "model.cnnkit").stat().st_mtime_ns
    assert _serve.default_model(verbose=0, **TINY) == run
    assert (run / "model.cnnkit").stat().st_mtime_ns == stamp


def test_cnnkit_serve_without_a_model_serves_the_cached_default(cache):
    env = {**os.environ, "CNNKIT_HOME": str(cache), "CNNKIT_DATA": str(shared_data_dir())}
    args = ["--default-limit", "3000", "--default-epochs", "1", "--threads", "1"]
    server = StudioProcess(args, env=env)
    try:
        with urllib.request.urlopen(f"{server.url}/api/models", timeout=10) as answer:
            (info,) = json.load(answer)
    finally:
        server.stop()
    assert info["id"] == "lenet5-mnist-limit3000-epochs1" and info["params"] == 60_074
    assert info["test_accuracy"] > 0.5
    assert "the default LeNet-5 from the cache" in server.output()


def test_two_workers_share_the_port_and_stop_together(cache):
    env = {**os.environ, "CNNKIT_HOME": str(cache), "CNNKIT_DATA": str(shared_data_dir())}
    args = ["--default-limit", "3000", "--default-epochs", "1", "--workers", "2"]
    server = StudioProcess(args, env=env)
    png = io.BytesIO()
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(png, format="PNG")
    body, content_type = multipart_image(png.getvalue())
    try:
        family = process_tree(server.pid)
        assert len(family) == 2, family  # the studio answers only once its sibling listens
        result = run_load(server.host, server.port, "/api/predict", body, content_type,
                          requests=200, concurrency=8)  # fmt: skip
    finally:
        server.stop()
    assert not result.errors and len(result.latencies_ms) == 200
    assert not [pid for pid in family if Path(f"/proc/{pid}").exists()]
    assert "2 worker processes" in server.output()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--default-limit", "0"], r"--default-limit must be >= 1.*Received: default_limit=0"),
        (["--default-epochs", "-1"], r"--default-epochs must be >= 1"),
        (["m.cnnkit", "--default-limit", "5"], r"apply only without MODEL_OR_RUN_DIR"),
        (["--port", "0"], r"--port must be in 1..65535.*Received: port=0"),
        (["--workers", "0"], r"--workers must be >= 1.*Received: workers=0"),
    ],
)
def test_bad_serve_arguments_name_the_option(argv, match, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    _serve.add_arguments(parser)
    with pytest.raises(ValueError, match=match):
        _serve.run(parser.parse_args(argv))
