"""A canary for the fuzz and fault tests: a loopback HTTP server that must never be reached, counting hits."""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Canary:
    """A loopback HTTP server that must never be reached: it answers every GET with `body` and counts it."""

    port: int
    body: bytes
    hits: list[str] = field(default_factory=list[str])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def canary_server(body: bytes) -> Generator[Canary]:
    """A thread-served canary on an ephemeral 127.0.0.1 port (independent of any event loop)."""
    canary = Canary(port=0, body=body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            canary.hits.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(canary.body)))
            self.end_headers()
            self.wfile.write(canary.body)

        def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    canary.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield canary
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
