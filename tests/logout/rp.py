"""A relying party's back-channel logout endpoint on 127.0.0.1 (OIDC Back-Channel Logout 1.0
§2.5): records every POST and answers with the statuses it is told to, in order."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.stub_server import serve, shut_down


class LogoutReceiver:
    def __init__(self, statuses: tuple[int, ...] = (200,)) -> None:
        self.statuses = list(statuses)
        self.received: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()
        receiver = self

        def handle(handler: BaseHTTPRequestHandler) -> None:
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length).decode()
            with receiver._lock:
                receiver.received.append(
                    {
                        "content_type": handler.headers.get("Content-Type"),
                        "form": urllib.parse.parse_qs(body),
                    }
                )
                status = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else (receiver.statuses[0])
                )
            receiver.release.wait(30)
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.send_header("Cache-Control", "no-store")
            handler.end_headers()

        self.server = serve(handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The first ``count`` requests, waiting for them (bounded; no timing is asserted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} back-channel logout requests, got {self.received}")

    def logout_tokens(self, count: int = 1) -> list[str]:
        return [r["form"]["logout_token"][0] for r in self.wait_for(count)]

    def close(self) -> None:
        self.release.set()
        shut_down(self.server)


@contextmanager
def logout_receiver(*statuses: int) -> Iterator[LogoutReceiver]:
    receiver = LogoutReceiver(statuses or (200,))
    try:
        yield receiver
    finally:
        receiver.close()
