"""The /activate throttle on real cache servers: counts shared through Redis, and closed
(not open) when the cache cannot be reached."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client as BrowserClient

from oauth_token.models import DeviceCodeStatus
from tests.services import free_port, require_shared_redis

from .conftest import row_for

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def started(tv_client, device_code_request):
    client, secret = tv_client
    return device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()


def redis_cache(url: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.redis
def test_wrong_codes_are_counted_in_redis_across_workers(started, person, settings):
    url = require_shared_redis()
    prefix = f"devicepar-{uuid.uuid4().hex}"
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "DEVICE_ACTIVATION_MAX_FAILURES": 3,
        "DEVICE_ACTIVATION_FAILURE_WINDOW": 60,
    }
    settings.CACHES = redis_cache(url, prefix)
    import redis

    server = redis.Redis.from_url(url)
    try:
        # Two browsers of the same person, as if served by two workers: one count.
        first, second = BrowserClient(), BrowserClient()
        first.force_login(person)
        second.force_login(person)
        first.post("/activate", {"user_code": "BCDF-GHJK"})
        second.post("/activate", {"user_code": "BCDF-GHJK"})
        first.post("/activate", {"user_code": "BCDF-GHJK"})
        keys = server.keys(f"{prefix}:*throttle:*")
        assert len(keys) == 2  # this person, and this address
        assert all(0 < server.ttl(k) <= 60 for k in keys)
        response = second.post("/activate", {"user_code": started["user_code"]})
        assert response.status_code == 429
        assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING
    finally:
        keys = server.keys(f"{prefix}:*")
        if keys:
            server.delete(*keys)


def test_throttle_fails_closed_when_the_cache_is_unreachable(started, person, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0", "devicepar-down")
    browser = BrowserClient()
    browser.force_login(person)
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING
