"""Fixtures for the attack battery: every case runs against real clients, keys and APIs, and
most assert the database is exactly as it was before the hostile request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import kit


@pytest.fixture
def unchanged(db: None) -> Iterator[Callable[[], None]]:
    """Call ``unchanged()`` after setup; the test then fails if any row changed by its end."""
    snapshots: list[dict[str, Any]] = []

    def mark() -> None:
        snapshots.append(kit.db_state())

    yield mark
    if snapshots:
        assert kit.db_state() == snapshots[0], "a refused request changed the database"


@pytest.fixture
def cc_form() -> dict[str, str]:
    return {"grant_type": "client_credentials", "audience": kit.AUDIENCE}
