"""W080: a process-local cache with several workers. Configuration changes still reach every
worker (the change generation is then read from the database), but replay markers, DPoP
nonces, throttles and lockouts would be kept per worker, so ``manage.py check`` says so."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

pytestmark = pytest.mark.django_db

REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
    }
}


def oauth_ids() -> set[str]:
    return {m.id for m in run_checks() if m.id and m.id.startswith("oauth_token.")}


@pytest.mark.parametrize(
    "environment",
    [
        {"WEB_CONCURRENCY": "4"},
        {"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 -w 3"},
        {"GUNICORN_CMD_ARGS": "--workers=2"},
    ],
)
def test_local_memory_cache_with_several_workers_warns(monkeypatch, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert "oauth_token.W080" in oauth_ids()


@pytest.mark.parametrize(
    "environment", [{}, {"WEB_CONCURRENCY": "1"}, {"GUNICORN_CMD_ARGS": "-w 1"}]
)
def test_one_worker_with_local_memory_is_fine(monkeypatch, environment):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert "oauth_token.W080" not in oauth_ids()


def test_a_shared_cache_with_several_workers_is_fine(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    with override_settings(CACHES=REDIS):
        assert "oauth_token.W080" not in oauth_ids()


@pytest.mark.parametrize("interval", [-1, "1", None, True])
def test_change_check_interval_must_be_seconds(settings, interval):
    with override_settings(OAUTH_TOKEN={**settings.OAUTH_TOKEN, "CHANGE_CHECK_INTERVAL": interval}):
        assert "oauth_token.E080" in oauth_ids()
