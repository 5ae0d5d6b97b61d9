"""Run one callable from many threads at once, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections


def requires_postgres() -> Any:
    return pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs DATABASE_URL pointing at PostgreSQL: SQLite serialises all writers, "
        "so it cannot show that two connections never both win",
    )


def race(fn: Callable[[], Any], n: int) -> list[Any]:
    """Start ``n`` threads that call ``fn`` together (a barrier releases them at once);
    returns each call's result or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    return results
