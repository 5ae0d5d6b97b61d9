"""A scriptable HTTP server on 127.0.0.1 for outbound-request tests (jwks_uri, metadata
documents, back-channel logout): each path answers as told, every request is recorded, and
hostile behaviours (redirects, trickling, oversized or endless bodies) are one line each."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hit:
    method: str
    path: str
    body: bytes


def respond(
    status: int = 200, body: Any = None, headers: dict[str, str] | None = None
) -> Behaviour:
    """A fixed answer; a dict or list body is sent as JSON with its Content-Length."""
    raw = json.dumps(body).encode() if isinstance(body, dict | list) else (body or b"")
    if isinstance(raw, str):
        raw = raw.encode()

    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    return behave


def redirect(location: str, status: int = 302) -> Behaviour:
    return respond(status, b"", {"Location": location})


def trickle(body: Any, every: float = 0.05) -> Behaviour:
    """A well-formed answer sent one byte at a time, ``every`` seconds apart: each read
    succeeds quickly, only the whole response is slow. Stops when the reader hangs up."""
    raw = json.dumps(body).encode()

    def behave(handler: BaseHTTPRequestHandler) -> None:
        head = (
            f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n"
        ).encode()
        try:
            for i in range(len(head + raw)):
                handler.wfile.write((head + raw)[i : i + 1])
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            return

    return behave


def endless(chunk: bytes = b" " * 4096) -> Behaviour:
    """A 200 with no Content-Length whose body never ends (until the reader hangs up)."""

    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
        try:
            for _ in range(100_000):
                handler.wfile.write(chunk)
        except OSError:
            return

    return behave


@dataclass
class StubServer:
    routes: dict[str, Behaviour] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


@contextmanager
def stub_server(routes: dict[str, Behaviour] | None = None) -> Iterator[StubServer]:
    stub = StubServer(dict(routes or {}))

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stub.hits.append(Hit(self.command, self.path, body))
            behaviour = stub.routes.get(self.path.split("?")[0], respond(404, {"error": "none"}))
            behaviour(self)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    stub.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
