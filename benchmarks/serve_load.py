"""The studio's predict path under load: 2,000 requests from 16 concurrent clients.

``cnnkit serve`` runs in a subprocess on 127.0.0.1 (default ``--workers 2``: two
processes sharing the port, one torch thread each, i.e. one per core; pass
``--serve-args "--threads 1"`` for the single-process studio); the
clients are threads in this process, each with one keep-alive ``http.client``
connection (a lean client: it shares the 2 cores with the server, and a heavy
one such as httpx would steal the server's CPU). Each request posts a real
MNIST test digit as the multipart field ``image``, as the Predict page does.
The anchor is the same LeNet-5 forward pass of one image in plain PyTorch, in
this process, so the figure says what the HTTP layer costs on top.

Goal (issue 12): p50 <= 15 ms, p99 <= 60 ms, memory flat.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/serve_load.py \\
        [--model RUN_DIR_OR_FILE] [--requests 2000] [--clients 16]

Without ``--model`` a freshly initialised LeNet-5 is served (the work per
request does not depend on the weights) from a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cnnkit.serve._load import (
    StudioProcess,
    multipart_image,
    process_cpu_seconds,
    process_rss_bytes,
    run_load,
)


def _digit_png() -> bytes:
    """One MNIST test digit as PNG (a seeded random digit-sized image without real data)."""
    import io

    from PIL import Image

    try:
        from cnnkit.datasets import mnist

        image = mnist.load_data()[1][0][0]
    except (OSError, ValueError):
        image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def _fresh_lenet(folder: Path) -> Path:
    from cnnkit.applications import LeNet5

    model = LeNet5()
    path = folder / "lenet5.cnnkit"
    model.save(path)
    return path


def _torch_forward_ms(model_path: Path, repeats: int = 500) -> float:
    """Median ms of one image through the same model, plain torch, one thread."""
    from cnnkit.models import load_model

    torch.set_num_threads(1)
    model = load_model(model_path, compile=False).eval()
    x = torch.rand(1, *model.input_shape[1:]) * 255
    times = []
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="run folder or .cnnkit file")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--serve-args", default="--workers 2", help="extra `cnnkit serve` options")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else _fresh_lenet(Path(tmp))
        model_file = model / "model.cnnkit" if model.is_dir() else model
        body, content_type = multipart_image(_digit_png())
        server = StudioProcess([str(model), *args.serve_args.split()])
        try:
            load = (server.host, server.port, "/api/predict", body, content_type)
            warm = run_load(*load, requests=args.warmup, concurrency=args.clients, timeout_s=60)
            before = process_rss_bytes(server.pid)
            # CPU seconds per request are what the shared machine's load does not distort.
            server_cpu, client_cpu = process_cpu_seconds(server.pid), time.process_time()
            result = run_load(*load, requests=args.requests, concurrency=args.clients)
            server_cpu = process_cpu_seconds(server.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            after = process_rss_bytes(server.pid)
        finally:
            server.stop()
        anchor_ms = _torch_forward_ms(model_file)

    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"torch {torch.__version__}; load average before/after "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"warm-up: {warm.report()}")
    print(f"studio:  {result.report()}")
    print(f"server RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB "
          f"({(after - before) / 2**10:+.0f} KiB over {args.requests} requests)")  # fmt: skip
    per = 1000 / args.requests
    print(f"CPU per request: server {server_cpu * per:.2f} ms, client {client_cpu * per:.2f} ms")
    p50 = result.percentile(50)
    print(f"plain torch forward of 1 image: {anchor_ms:.2f} ms; studio p50 / torch = "
          f"{p50 / anchor_ms:.1f}x")  # fmt: skip
    print(f"goal p50 <= 15 ms: {'met' if p50 <= 15 else 'NOT met'}; "
          f"p99 <= 60 ms: {'met' if result.percentile(99) <= 60 else 'NOT met'}; "
          f"errors: {len(result.errors)}")  # fmt: skip


if __name__ == "__main__":
    main()
