"""Fixtures of the studio tests: a LeNet-5 trained briefly on real MNIST, a real server.

The model is trained once per session with ``cnnkit train`` itself (about 220
steps: two epochs on 7,000 MNIST images), so its run folder is exactly what a user
serves, history.csv included, and drawn "1"s and "7"s are recognised.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnkit.serve._load import StudioProcess
from tests.conftest import shared_data_dir


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``cnnkit train --model lenet5`` run folder: two epochs on 7,000 MNIST images."""
    data = shared_data_dir()
    if data is None:
        pytest.skip("real data not found: set CNNKIT_DATA to the shared/data folder")
    from cnnkit.cli import main

    out = tmp_path_factory.mktemp("serve") / "lenet5-mnist"
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNKIT_DATA", str(data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on a shared CPU: one thread is fastest
    try:
        # Two epochs of 7,000 (the steps of one of 14,000), so the Model page draws curves.
        argv = ["train", "--model", "lenet5", "--epochs", "2", "--limit", "7000"]
        assert main([*argv, "--validation-split", "0.05", "--out", str(out), "--verbose", "0"]) == 0
    finally:
        torch.set_num_threads(threads)
        mp.undo()
    return out


@pytest.fixture(scope="session")
def mnist_test(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first 200 MNIST test images (uint8, 28×28) and labels."""
    from cnnkit.datasets import mnist

    mp = pytest.MonkeyPatch()
    mp.setenv("CNNKIT_DATA", str(shared_data_dir()))
    try:
        _, (x, y) = mnist.load_data()
    finally:
        mp.undo()
    return x[:200], y[:200]


def png_bytes(image: np.ndarray) -> bytes:
    """One uint8 image ``(H, W)`` or ``(H, W, C)`` as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image.squeeze()).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def server(run_dir: Path) -> Iterator[StudioProcess]:
    """``cnnkit serve RUN_DIR --threads 1`` on 127.0.0.1, still starting: ``wait_ready()``.

    Not waited for here, so the browser starts while the server imports.
    """
    srv = StudioProcess([str(run_dir), "--threads", "1"], wait=False)
    yield srv
    srv.stop()
