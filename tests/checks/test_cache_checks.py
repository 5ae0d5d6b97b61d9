"""Operator mistakes about the shared cache are reported by ``manage.py check``, before a
client could exploit them."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

pytestmark = pytest.mark.django_db


def _ids() -> set[str]:
    return {m.id for m in run_checks(tags=["oauth_token"]) if m.id}


def test_dummy_cache_is_refused_because_it_disables_replay_protection(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert "oauth_token.E050" in _ids()


def test_local_memory_cache_passes(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert "oauth_token.E050" not in _ids()
