"""Statement counting for query budgets: what reached the database, without the transaction
control (BEGIN, COMMIT, SAVEPOINT) that wraps it, and the one read a process-local cache adds.

With Django's default local-memory cache every request reads the change generation from the
database (one primary-key SELECT, ``oauth_token/core/cache.py``) so that a change made by
another process applies to it; with Redis it costs nothing on most requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_token.models import ChangeGeneration

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")


def is_generation_read(sql: str) -> bool:
    table = ChangeGeneration._meta.db_table
    return sql.replace('"', "").startswith(f"SELECT value FROM {table} ")


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The data statements captured: no transaction control, no change-generation read."""
    sqls = [q["sql"] for q in captured.captured_queries]
    return [s for s in sqls if not s.upper().startswith(_CONTROL) and not is_generation_read(s)]


@contextmanager
def assert_no_query_but_change_generation() -> Iterator[CaptureQueriesContext]:
    """Nothing reaches the database but, at most once, the change-generation read."""
    with CaptureQueriesContext(connection) as captured:
        yield captured
    sqls = [q["sql"] for q in captured.captured_queries]
    others = [s for s in sqls if not is_generation_read(s)]
    assert not others, f"unexpected queries: {others}"
    assert len(sqls) <= 1, f"the change generation was read {len(sqls)} times"


@contextmanager
def assert_max_statements(budget: int) -> Iterator[CaptureQueriesContext]:
    """At most ``budget`` data statements (see :func:`statements`)."""
    with CaptureQueriesContext(connection) as captured:
        yield captured
    done = statements(captured)
    assert len(done) <= budget, f"{len(done)} statements > {budget}:\n" + "\n".join(done)


def describe(captured: Any) -> str:
    return "\n".join(q["sql"] for q in captured.captured_queries)
