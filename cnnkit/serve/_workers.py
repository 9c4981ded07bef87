"""Serving the studio from one process or several sharing one port (``--workers``).

One process runs one event loop, and Python runs one request's code at a time
in it: on the 2-core machines this project measures, a LeNet-5 studio tops out
at about one core (server CPU ~1.3 ms per predict request, ~770 requests/s).
``workers > 1`` starts that many processes, each with its own copy of the
models and one torch thread, all listening on the same address with
``SO_REUSEPORT``; the kernel spreads new connections over them. The first
process is the caller; the others are ``python -m cnnkit serve`` children
given the resolved model paths, stopped when the caller stops. The caller starts
answering only when every sibling has said it is listening, so a client that
sees the studio answer sees all of its workers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["READY_LINE", "bound_socket", "serve", "worker_command"]

#: What a sibling worker prints once its socket listens.
READY_LINE = "cnnkit serve: worker listening"


def bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A listening TCP socket on ``host:port`` (shared with sibling workers if ``reuse_port``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def worker_command(models: Sequence[str], host: str, port: int) -> list[str]:
    """The command line of one extra worker: the same models, address and one torch thread."""
    return [
        sys.executable, "-m", "cnnkit", "serve", *models,
        "--host", host, "--port", str(port), "--threads", "1", "--reuse-port",
    ]  # fmt: skip


def serve(app: Any, host: str, port: int, *, workers: int, models: Sequence[str],
          reuse_port: bool = False) -> None:  # fmt: skip
    """Run ``app`` with uvicorn until interrupted, with ``workers - 1`` sibling processes.

    Args:
        app: The ASGI app of this process.
        host, port: Where to listen.
        workers: Processes in all (1: this one only, no ``SO_REUSEPORT``).
        models: Resolved model paths, passed to the siblings.
        reuse_port: Set ``SO_REUSEPORT`` even with one worker (a sibling's own socket).
    """
    import uvicorn

    shared = reuse_port or workers > 1
    sock = bound_socket(host, port, reuse_port=shared)
    if reuse_port:  # a sibling: say so to the process that started it
        print(READY_LINE, flush=True)
    children = [
        subprocess.Popen(
            worker_command(models, host, port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(workers - 1)
    ]
    try:
        for child in children:
            _wait_until_listening(child)
        # uvicorn re-raises the signal that stopped it once it has shut down; with the
        # default SIGTERM action that would end this process before its siblings are
        # stopped below, so SIGTERM becomes SystemExit here (as Ctrl-C is KeyboardInterrupt).
        if children:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        server.run(sockets=[sock])
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sock.close()


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _wait_until_listening(child: subprocess.Popen) -> None:
    """Read ``child``'s output until its ready line, then pass the rest on in a thread."""
    for line in child.stdout:
        if line.strip() == READY_LINE:
            break
        print(line, end="", flush=True)
    else:
        raise RuntimeError(f"cnnkit serve: worker {child.pid} exited (code {child.wait()})")

    def forward() -> None:
        for line in child.stdout:
            print(line, end="", flush=True)

    threading.Thread(target=forward, daemon=True).start()
