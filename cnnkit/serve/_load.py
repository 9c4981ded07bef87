"""A bounded load test of a running studio: N requests from C concurrent clients.

Used by ``tests/serve/test_load.py`` and ``benchmarks/serve_load.py``. Each
client is a thread with one keep-alive ``http.client`` connection (standard
library only, so the ``serve`` extra needs nothing more, and a lean client: it
runs on the same CPU as the server, and a heavy one such as httpx would steal
its cycles); latency is measured per request from sending to the last byte of
the answer. :class:`StudioProcess` runs ``cnnkit serve`` in a subprocess.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "LoadResult",
    "StudioProcess",
    "multipart_image",
    "process_cpu_seconds",
    "process_rss_bytes",
    "process_tree",
    "run_load",
]


@dataclass
class LoadResult:
    """Latencies (ms) of the successful requests, and the failures as text."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def report(self) -> str:
        n = len(self.latencies_ms) + len(self.errors)
        return (
            f"{n} requests in {self.seconds:.2f} s ({n / max(self.seconds, 1e-9):.0f}/s), "
            f"{len(self.errors)} errors, p50 {self.percentile(50):.1f} ms, "
            f"p90 {self.percentile(90):.1f} ms, p99 {self.percentile(99):.1f} ms"
        )


def multipart_image(data: bytes, filename: str = "image.png") -> tuple[bytes, str]:
    """``(body, content_type)`` of a form with the one file field ``image``."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux ``/proc``), e.g. a studio and its ``--workers``."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return found


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` and its descendants have used so far."""
    total = 0.0
    for member in process_tree(pid):
        # Fields after the ")" that closes the command name: utime and stime are the 12th, 13th.
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def process_rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` and its descendants (Linux ``/proc``)."""
    total = 0
    for member in process_tree(pid):
        lines = Path(f"/proc/{member}/status").read_text().splitlines()
        rss = [int(line.split()[1]) * 1024 for line in lines if line.startswith("VmRSS:")]
        if not rss:
            raise OSError(f"no VmRSS for process {member}")
        total += rss[0]
    return total


def run_load(
    host: str,
    port: int,
    path: str,
    body: bytes,
    content_type: str,
    *,
    requests: int = 2000,
    concurrency: int = 16,
    timeout_s: float = 30.0,
) -> LoadResult:
    """POST ``body`` to ``path`` ``requests`` times from ``concurrency`` clients at once.

    A non-200 answer or a connection error counts as an error (and the client
    reconnects). Each request has ``timeout_s``; the whole run is bounded by it too.
    """
    result = LoadResult()
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.perf_counter() + timeout_s
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
        while time.perf_counter() < deadline:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                ms = (time.perf_counter() - start) * 1000
                with lock:
                    if response.status == 200:
                        result.latencies_ms.append(ms)
                    else:
                        result.errors.append(f"HTTP {response.status}: {answer[:200]!r}")
            except (OSError, http.client.HTTPException) as err:
                with lock:
                    result.errors.append(f"{type(err).__name__}: {err}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(deadline - time.perf_counter(), 0) + 1)
    result.seconds = time.perf_counter() - start
    if remaining[0]:
        result.errors.append(f"{remaining[0]} requests not sent before the {timeout_s} s limit")
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StudioProcess:
    """``cnnkit serve ARGS`` in its own process on 127.0.0.1 and a free port.

    Args:
        args: Arguments after ``cnnkit serve`` (model paths, ``--threads 1``, ...).
        env: The child's environment (default this process's).
        start_timeout_s: How long to wait for ``/api/models`` to answer. Default 60.
        wait: Wait until it answers (default). With False, call :meth:`wait_ready`
            later, so the caller can do something else while the server imports.

    Raises:
        RuntimeError: the server exited or did not answer in time (with its output).
    """

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        start_timeout_s: float = 60.0,
        wait: bool = True,
    ):
        self.host, self.port = "127.0.0.1", _free_port()
        self.url = f"http://{self.host}:{self.port}"
        cmd = [sys.executable, "-m", "cnnkit", "serve", *args, "--port", str(self.port)]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self._deadline = time.monotonic() + start_timeout_s
        self._ready = False
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Block until ``/api/models`` answers (at once when it already has)."""
        while not self._ready:
            try:
                urllib.request.urlopen(f"{self.url}/api/models", timeout=2).read()
                self._ready = True
            except OSError:
                if self.process.poll() is not None or time.monotonic() > self._deadline:
                    self.stop()
                    raise RuntimeError(f"cnnkit serve did not start: {self.output()}") from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """Everything the server printed (read after :meth:`stop`)."""
        return self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
