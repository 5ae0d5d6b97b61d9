"""Real services for reliability tests: throwaway Redis servers, a TCP proxy that can cut a
database off, and live Django servers in subprocesses. Everything binds 127.0.0.1 on a free
port and is stopped by the test that started it; the machine's shared services are never
touched."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on now, for a server a test is about to start. Under
    pytest-xdist the ports are split between workers (by a hash: the kernel hands out ports of
    one parity only), so two workers never pick the same port between choosing and binding."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % count if worker.isdigit() else 0
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if zlib.crc32(port.to_bytes(2, "big")) % count == index:
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def shared_redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def require_shared_redis() -> str:
    """The machine's Redis (REDIS_URL), or skip: these tests are about sharing state in it."""
    import redis

    url = shared_redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis at {url} is not reachable (set REDIS_URL)")
    return url


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def require_postgres(why: str = "SQLite serialises writers") -> None:
    if not is_postgres():
        pytest.skip(f"needs PostgreSQL (DATABASE_URL=postgres://...): {why}")


class RedisProcess:
    """Our own ``redis-server`` (no persistence) on a fixed free port, stoppable and
    restartable on the same port so that clients see a real outage and a real recovery."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None


class TcpProxy:
    """Forwards 127.0.0.1:port to a target. ``cut()`` closes the listener and every open
    connection (the service "goes away", mid-connection too); ``restore()`` listens again on
    the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, 5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def database_url(port: int | None = None) -> str:
    """A DATABASE_URL for the database this test runs against (the test database), so a
    subprocess sees the rows a ``transaction=True`` test committed."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    if connection.vendor != "postgresql":
        pytest.skip(f"live-server tests support SQLite and PostgreSQL, not {connection.vendor}")
    user = conf.get("USER") or "postgres"
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    host = conf.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{port or conf.get('PORT') or 5432}/{conf['NAME']}"


class LiveServer:
    """A gunicorn server (``tests.live_wsgi``, ``tests.live_settings``) in a subprocess: a real
    worker process with its own memory, sharing only what the environment points it at
    (database, cache). ``threads=1`` is a sync worker that keeps one persistent database
    connection, as production runs; more threads serve requests concurrently. Its log goes to
    a file the test reads."""

    def __init__(
        self, tmp_path: Path, *, database: str, cache: str, threads: int = 1, **env: str
    ) -> None:
        if importlib.util.find_spec("gunicorn") is None:
            pytest.skip("gunicorn is not installed (pip install -e '.[test]')")
        self.port = free_port()
        self.threads = threads
        self.log_path = tmp_path / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.live_settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
            "LIVE_DATABASE_URL": database,
            "LIVE_CACHE_URL": cache,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tests.live_wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                "sync" if self.threads == 1 else "gthread",
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"live server exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(
                    f"{self.url}/.well-known/openid-configuration", timeout=2
                ):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise TimeoutError(f"live server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
            self._log.close()

    def log_lines(self) -> list[str]:
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if line.startswith(("DEBUG ", "INFO ", "WARNING ", "ERROR ", "CRITICAL "))
        ]

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def post_form(
    url: str, data: dict[str, str], headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP POST (urllib: no client library smoothing anything over)."""
    from urllib.parse import urlencode

    request = urllib.request.Request(
        url,
        data=urlencode(data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextlib.contextmanager
def running(*servers: LiveServer) -> Iterator[tuple[LiveServer, ...]]:
    started: list[LiveServer] = []
    try:
        for server in servers:
            started.append(server.start())
        yield servers
    finally:
        for server in started:
            server.stop()
