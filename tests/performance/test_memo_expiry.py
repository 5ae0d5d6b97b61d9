"""The process-local memo of lookups is bounded in time as well as by the shared generation:
a change whose invalidation never reached the cache is served stale for at most
LOOKUP_CACHE_SECONDS (README, Security, "Out of scope")."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from oauth_token.conf import oauth_settings
from oauth_token.core import cache
from oauth_token.models import Client
from oauth_token.registry import snapshots

pytestmark = pytest.mark.django_db


def test_memo_expires_after_lookup_cache_seconds(m2m_client, monkeypatch):
    client, _ = m2m_client
    assert snapshots.get_client(client.client_id).name == "Machine"
    # A change that bypasses the signals, as if its invalidation had been lost, and the shared
    # copy expiring on its own.
    Client.objects.filter(pk=client.pk).update(name="Renamed")
    caches["default"].delete(snapshots.client_cache_key(client.client_id))

    assert snapshots.get_client(client.client_id).name == "Machine"

    later = cache.time.monotonic() + oauth_settings.LOOKUP_CACHE_SECONDS + 1
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    assert snapshots.get_client(client.client_id).name == "Renamed"
