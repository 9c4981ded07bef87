"""A throwaway HTTP server on 127.0.0.1 for the download tests (no internet needed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    """Serves ``files`` (name -> bytes) and counts requests per path.

    ``truncated`` names paths answered with a Content-Length larger than the
    body, after which the connection is closed: an interrupted transfer.
    """

    def __init__(self, files: dict[str, bytes], truncated: frozenset[str] = frozenset()):
        self.files = files
        self.truncated = truncated
        self.requests: list[str] = []
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.requests.append(name)
                body = server.files.get(name)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                extra = 1000 if name in server.truncated else 0
                self.send_header("Content-Length", str(len(body) + extra))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                return  # keep pytest output clean

        return Handler


@contextmanager
def serve(files: dict[str, bytes], truncated: frozenset[str] = frozenset()) -> Iterator[FileServer]:
    """Run a :class:`FileServer` on an ephemeral port for the ``with`` block."""
    state = FileServer(files, truncated)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def closed_port_url(name: str) -> str:
    """A URL on 127.0.0.1 whose port nothing listens on: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"
