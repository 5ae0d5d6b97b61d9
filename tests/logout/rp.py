"""A relying party's back-channel logout endpoint on 127.0.0.1 (OIDC Back-Channel Logout 1.0
§2.5): records every POST and answers with the statuses it is told to, in order."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LogoutReceiver:
    def __init__(self, statuses: tuple[int, ...] = (200,)) -> None:
        self.statuses = list(statuses)
        self.received: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver._lock:
                    receiver.received.append(
                        {
                            "content_type": self.headers.get("Content-Type"),
                            "form": urllib.parse.parse_qs(body),
                        }
                    )
                    status = (
                        receiver.statuses.pop(0)
                        if len(receiver.statuses) > 1
                        else (receiver.statuses[0])
                    )
                receiver.release.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def logout_receiver(*statuses: int) -> Iterator[LogoutReceiver]:
    receiver = LogoutReceiver(statuses or (200,))
    try:
        yield receiver
    finally:
        receiver.close()
