"""A bounded load test: 2,000 predict requests from 16 clients against a real uvicorn.

Latency is printed, not asserted (the CPU is shared; benchmarks/serve_load.py
records the figures); what must hold is zero errors and flat memory.
"""

from __future__ import annotations

import os

from cnnkit.serve._load import multipart_image, process_rss_bytes, run_load
from tests.serve.conftest import png_bytes

REQUESTS, CLIENTS = 2000, 16


def test_two_thousand_predictions_without_errors_and_flat_memory(server, mnist_test, capsys):
    server.wait_ready()
    body, content_type = multipart_image(png_bytes(mnist_test[0][0]))
    args = (server.host, server.port, "/api/predict", body, content_type)
    warm = run_load(*args, requests=100, concurrency=CLIENTS, timeout_s=60)
    assert not warm.errors, warm.errors[:3]
    before = process_rss_bytes(server.pid)
    result = run_load(*args, requests=REQUESTS, concurrency=CLIENTS, timeout_s=120)
    after = process_rss_bytes(server.pid)
    with capsys.disabled():
        print(
            f"\nserve load: {result.report()}; server RSS {before / 2**20:.1f} -> "
            f"{after / 2**20:.1f} MiB; load average {os.getloadavg()[0]:.1f}"
        )
    assert not result.errors, result.errors[:3]
    assert len(result.latencies_ms) == REQUESTS
    # Flat: a leak of even 1 KiB per request would add ~2 MiB over the run.
    assert after - before < 8 * 2**20
