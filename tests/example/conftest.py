"""Running the example project as a newcomer does: ``example_project/manage.py`` in a
subprocess, configured only through the environment, on its own SQLite file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
_CREDENTIAL = re.compile(r"^(client_id|client_secret):\s+(\S+)$", re.MULTILINE)


def example_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "OAUTH_", "DATABASE_", "CACHE_"))
        and k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PORT")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'example.sqlite3'}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def credentials(output: str) -> dict[str, str]:
    found = dict(_CREDENTIAL.findall(output))
    assert set(found) == {"client_id", "client_secret"}, output
    return found


def manage(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MANAGE), *argv],
        env=example_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def quickstart_server(
    tmp_path: Path, *, set_issuer: bool = True, **env: str
) -> Iterator[tuple[str, Path]]:
    """``manage.py quickstart`` on a free port in ``tmp_path`` until the block ends; yields
    (base URL, path of the server's log). ``set_issuer=False`` leaves OAUTH_ISSUER unset, so
    only ``--port`` tells the server where it is; ``env`` adds environment variables."""
    base = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "quickstart", "--port", base.rsplit(":", 1)[1]],
            env=example_env(
                tmp_path, **({"OAUTH_ISSUER": f"{base}/"} if set_issuer else {}), **env
            ),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_until_serving(process, base, log)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process: subprocess.Popen[str], base: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"example server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/.well-known/jwks.json", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"example server did not start:\n{log.read_text()}")


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    return tmp_path
