"""HTTP servers on 127.0.0.1 for the outbound side of the protocol, the only ones the tests
start in-process:

- ``stub_server``: scriptable, for outbound-request tests (jwks_uri, metadata documents,
  back-channel logout): each path answers as told, every request is recorded, and hostile
  behaviours (redirects, trickling, oversized or endless bodies) are one line each;
- ``serve(handle)``: any other behaviour, one function per request;
- ``LocalSite``: one document for every path: a client's or a trusted issuer's JWK Set (the
  ``jwks_server`` fixture), an attacker's site, or the page a redirect_uri lands on.

``stub_server(tls=...)`` and ``serve(handle, tls=...)`` speak https with a certificate from
``tests/tls.py`` (trusted by the outbound module through ``OUTBOUND_CA_FILE``).

Both bind a free port (parallel test processes never collide) and stop at once:
``serve_forever`` polls for shutdown every 50 ms (the standard library's 0.5 s added half a
second to every test that started one) and closing does not wait for request threads."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.parse
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
    scheme: str = "http"

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def serve(handle: Behaviour, tls: ssl.SSLContext | None = None) -> _Server:
    """Start answering every GET and POST with ``handle`` on a free 127.0.0.1 port (the
    building block of ``stub_server`` and ``LocalSite``, and of special-purpose servers such as
    tests/logout/rp.py), over TLS with a server context ``tls``; stop it with ``shut_down``."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            handle(self)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    if tls is not None:
        # The handshake runs in accept(); one a client aborts (an untrusted certificate) is an
        # OSError there, which socketserver drops.
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def shut_down(server: _Server) -> None:
    server.shutdown()
    server.server_close()


@contextmanager
def stub_server(
    routes: dict[str, Behaviour] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[StubServer]:
    stub = StubServer(dict(routes or {}), scheme="https" if tls is not None else "http")

    def handle(handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        stub.hits.append(Hit(handler.command, handler.path, body))
        behaviour = stub.routes.get(handler.path.split("?")[0], respond(404, {"error": "none"}))
        behaviour(handler)

    server = serve(handle, tls)
    stub.port = int(server.server_address[1])
    try:
        yield stub
    finally:
        shut_down(server)


_MISSING = object()


class LocalSite:
    """``LocalSite(jwks)`` serves ``jwks`` as JSON (``jwks`` may be reassigned while it runs;
    any JSON value is allowed, a malformed document too); ``LocalSite(html=...)`` serves an
    HTML page. ``requests`` holds (method, path, params) of every request, ``paths`` its path
    alone, ``hits`` how many there were."""

    def __init__(self, jwks: Any = _MISSING, *, html: bytes = b"", path: str = "/jwks.json"):
        self.jwks: Any = {"keys": []} if jwks is _MISSING else jwks
        self.html = html
        self.path = path
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.paths: list[str] = []
        self._server: _Server | None = None
        self.base = ""

    @property
    def url(self) -> str:
        return self.base + self.path

    @property
    def hits(self) -> int:
        return len(self.requests)

    def start(self) -> LocalSite:
        def handle(handler: BaseHTTPRequestHandler) -> None:
            parts = urllib.parse.urlsplit(handler.path)
            if handler.command == "POST":
                length = int(handler.headers.get("Content-Length") or 0)
                params = handler.rfile.read(length).decode()
            else:
                params = parts.query
            self.requests.append(
                (handler.command, parts.path, dict(urllib.parse.parse_qsl(params)))
            )
            self.paths.append(parts.path)
            if self.html:
                respond(200, self.html, {"Content-Type": "text/html"})(handler)
            else:
                respond(200, json.dumps(self.jwks).encode())(handler)

        self._server = serve(handle)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop listening (idempotent): afterwards the URL refuses connections."""
        server, self._server = self._server, None
        if server is not None:
            shut_down(server)

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextmanager
def service_names(*names: str) -> Iterator[None]:
    """Make each single-label host name (``rp``, as docker-compose names services) resolve to
    127.0.0.1 for the process, so the servers above can be reached by it; other names resolve
    as usual."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return original("127.0.0.1" if host in names else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = original  # type: ignore[assignment]
