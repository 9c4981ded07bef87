"""Fixtures of the studio tests: a LeNet-5 trained briefly on real MNIST, a real server.

The model is trained once per session with ``cnnkit train`` itself (about 220
steps on 14,000 MNIST images), so its run folder is exactly what a user
serves, history.csv included, and drawn "1"s and "7"s are recognised.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``cnnkit train --model lenet5`` run folder: one epoch on 14,000 MNIST images."""
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
        argv = ["train", "--model", "lenet5", "--epochs", "1", "--limit", "14000"]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``cnnkit serve RUN_DIR`` in its own process on 127.0.0.1 and a free port."""

    def __init__(self, run_dir: Path):
        self.host, self.port = "127.0.0.1", free_port()
        self.url = f"http://{self.host}:{self.port}"
        cmd = [sys.executable, "-m", "cnnkit", "serve", str(run_dir), "--port", str(self.port)]
        out = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
        self.process = subprocess.Popen([*cmd, "--threads", "1"], cwd=REPO_ROOT, **out)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/models", timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"cnnkit serve did not start: {self.output()}") from None
                time.sleep(0.1)

    def output(self) -> str:
        return self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def server(run_dir: Path) -> Iterator[Server]:
    srv = Server(run_dir)
    yield srv
    srv.stop()
