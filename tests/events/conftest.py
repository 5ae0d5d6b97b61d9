"""Collect the events of ``oauth_token.signals`` as receivers see them (after commit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from oauth_token import signals


@dataclass
class Sent:
    name: str
    sender: Any
    kwargs: dict[str, Any]


class Recorder(list[Sent]):
    def named(self, name: str) -> list[Sent]:
        return [e for e in self if e.name == name]

    def one(self, name: str) -> Sent:
        found = self.named(name)
        assert len(found) == 1, [e.name for e in self]
        return found[0]


@pytest.fixture
def events() -> Iterator[Recorder]:
    recorder = Recorder()
    receivers = []
    for name in signals.EVENT_NAMES:

        def receive(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            recorder.append(Sent(_name, sender, kwargs))

        getattr(signals, name).connect(receive, weak=False, dispatch_uid=f"test.{name}")
        receivers.append(name)
    yield recorder
    for name in receivers:
        getattr(signals, name).disconnect(dispatch_uid=f"test.{name}")


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """``with committed():`` runs what the code under test deferred to after commit, as a
    real commit would (pytest-django wraps each test in a transaction that never commits)."""

    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run
