"""Several workers share one Redis (DESIGN "Storage and scale"): a change made by another
process — another worker, the admin, a management command — applies to this process's very
next request, although this process had everything cached and memoised."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests import services
from tests.responses import assert_error, assert_invalid_client, assert_token

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CC = {"grant_type": "client_credentials", "audience": "https://api.example.com"}


@pytest.fixture
def shared_redis(settings) -> Iterator[str]:
    """This process's cache is the shared Redis, under a key prefix of its own."""
    url = services.require_shared_redis()
    prefix = f"oauth_token_test_{secrets.token_hex(4)}"
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    with override_settings(
        CACHES=caches, OAUTH_TOKEN={**settings.OAUTH_TOKEN, "CACHE_KEY_PREFIX": prefix}
    ):
        yield prefix
    import redis

    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def in_another_process(prefix: str, action: str, client_id: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.performance.change_row", action, client_id],
        cwd=services.ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.live_settings",
            "LIVE_DATABASE_URL": services.database_url(),
            "LIVE_CACHE_URL": services.shared_redis_url(),
            "KEY_PREFIX": prefix,
            "PYTHONPATH": str(services.ROOT),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def warm_client(shared_redis, signing_keys, m2m_client, token_request, django_assert_num_queries):
    client, secret = m2m_client
    assert_token(token_request(CC, auth=(client.client_id, secret)))
    with django_assert_num_queries(0):
        assert_token(token_request(CC, auth=(client.client_id, secret)))
    return shared_redis, client, secret


def test_secret_rotated_elsewhere_applies_to_the_next_request(warm_client, token_request):
    prefix, client, old = warm_client
    new = in_another_process(prefix, "rotate_secret", client.client_id)["secret"]
    assert_invalid_client(token_request(CC, auth=(client.client_id, old)))
    assert_token(token_request(CC, auth=(client.client_id, new)))


def test_client_deleted_elsewhere_applies_to_the_next_request(warm_client, token_request):
    prefix, client, secret = warm_client
    in_another_process(prefix, "delete_client", client.client_id)
    assert_invalid_client(token_request(CC, auth=(client.client_id, secret)))


def test_grant_deleted_elsewhere_applies_to_the_next_request(warm_client, token_request):
    prefix, client, secret = warm_client
    in_another_process(prefix, "delete_grant", client.client_id)
    assert_error(token_request(CC, auth=(client.client_id, secret)), "access_denied")


def test_grant_narrowed_elsewhere_applies_to_the_next_request(warm_client, token_request):
    prefix, client, secret = warm_client
    in_another_process(prefix, "narrow_grant", client.client_id)
    assert (
        assert_token(token_request(CC, auth=(client.client_id, secret)))["scope"] == "read:things"
    )


def test_api_scope_removed_elsewhere_applies_to_the_next_request(warm_client, token_request):
    prefix, client, secret = warm_client
    in_another_process(prefix, "remove_api_scope", client.client_id)
    assert (
        assert_token(token_request(CC, auth=(client.client_id, secret)))["scope"] == "read:things"
    )
