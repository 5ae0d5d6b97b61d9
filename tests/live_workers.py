"""Fixtures for tests against two real worker processes (gunicorn, ``tests.live_settings``)
sharing the test database and one Redis, as a scaled-out deployment runs (imported by the
conftest modules of tests/concurrency and tests/dpop). Each test gets its own cache key
prefix, so nothing needs flushing and nothing leaks between tests or into other users of the
same Redis db."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.services import LiveServer, database_url, post_form, require_shared_redis


@pytest.fixture(scope="module")
def worker_pair(
    tmp_path_factory, django_db_setup, django_db_blocker
) -> Iterator[tuple[tuple[LiveServer, LiveServer], str, str]]:
    """Started once per module (a gunicorn start costs seconds); tests share them, each with
    its own rows (``transaction=True``)."""
    redis_url = require_shared_redis()
    prefix = f"rel-{secrets.token_hex(6)}"
    with django_db_blocker.unblock():
        url = database_url()
    tmp_path = tmp_path_factory.mktemp("workers")
    servers = [
        LiveServer(
            tmp_path,
            database=url,
            cache=redis_url,
            threads=25,
            LIVE_CACHE_PREFIX=prefix,
            LIVE_CONN_MAX_AGE="0",
            # Tests share these workers but not their rows: a row a test creates with the same
            # identifier as an earlier test's (the API, say) must not meet the earlier one's
            # memoised snapshot, which the documented bound (CHANGE_CHECK_INTERVAL, 1 s, tested
            # in tests/performance/test_shared_cache.py) would otherwise serve for up to 1 s.
            LIVE_CHANGE_CHECK_INTERVAL="0",
        )
        for _ in range(2)
    ]
    started: list[LiveServer] = []
    try:
        for server in servers:
            started.append(server.start())
        yield (servers[0], servers[1]), redis_url, prefix
    finally:
        for server in started:
            server.stop()


@pytest.fixture(autouse=True)
def _share_the_workers_cache(request: pytest.FixtureRequest) -> None:
    """Tests that talk to the workers write through the same Redis and key prefix, as an admin
    process would, so the workers see every change at once (before any other fixture runs)."""
    if "two_workers" not in request.fixturenames:
        return
    _, redis_url, prefix = request.getfixturevalue("worker_pair")
    settings = request.getfixturevalue("settings")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        }
    }
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CACHE_KEY_PREFIX": prefix}


@pytest.fixture
def two_workers(worker_pair, transactional_db) -> tuple[LiveServer, LiveServer]:
    return worker_pair[0]


def parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released together by a barrier; each returns a
    result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except Exception as exc:  # reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    return results


def post_to(server: LiveServer, path: str, data: dict[str, str], **headers: str):
    return lambda: post_form(f"{server.url}{path}", data, headers=headers)
