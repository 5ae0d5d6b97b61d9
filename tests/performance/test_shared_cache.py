"""Several processes serve one deployment: a change made by another process — another worker,
the admin, a management command — reaches this process although it had everything cached and
memoised:

- with Django's default local-memory cache, on the very next request (the change generation
  is read from the database, one primary-key SELECT per request);
- with a shared Redis, within ``CHANGE_CHECK_INTERVAL`` seconds, the documented bound on how
  long another process's change may be ignored (README "Production checklist").
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import override_settings

from tests import services
from tests.queries import assert_no_query_but_change_generation
from tests.responses import assert_error, assert_invalid_client, assert_token

pytestmark = pytest.mark.django_db(transaction=True)

CC = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
# Short, so the tests wait little; the bound is the same code path whatever its value.
INTERVAL = 0.3


@dataclass(frozen=True)
class Deployment:
    cache_url: str
    prefix: str
    bound: float  # seconds a change made elsewhere may go unseen here

    def wait_for_bound(self) -> None:
        time.sleep(self.bound)


@pytest.fixture(params=["local_memory", pytest.param("redis", marks=pytest.mark.redis)])
def deployment(request, settings) -> Iterator[Deployment]:
    """This process and the one that changes a row share the database and, with Redis, the
    cache (under a key prefix of their own); with local memory each has its own cache."""
    prefix = f"oauth_token_test_{secrets.token_hex(4)}"
    options = {**settings.OAUTH_TOKEN, "CACHE_KEY_PREFIX": prefix}
    if request.param == "local_memory":
        with override_settings(OAUTH_TOKEN=options):
            yield Deployment("locmem://", prefix, 0.0)
        return
    url = services.require_shared_redis()
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    with override_settings(
        CACHES=caches, OAUTH_TOKEN={**options, "CHANGE_CHECK_INTERVAL": INTERVAL}
    ):
        yield Deployment(url, prefix, INTERVAL)
    import redis

    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def in_another_process(deployment: Deployment, action: str, client_id: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.performance.change_row", action, client_id],
        cwd=services.ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.live_settings",
            "LIVE_DATABASE_URL": services.database_url(),
            "LIVE_CACHE_URL": deployment.cache_url,
            "KEY_PREFIX": deployment.prefix,
            "PYTHONPATH": str(services.ROOT),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def warm_client(deployment, signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    assert_token(token_request(CC, auth=(client.client_id, secret)))
    with assert_no_query_but_change_generation() as captured:
        assert_token(token_request(CC, auth=(client.client_id, secret)))
    if deployment.bound:
        assert not captured.captured_queries  # Redis: not even the generation
    return deployment, client, secret


def test_secret_rotated_elsewhere_applies_within_the_bound(warm_client, token_request):
    deployment, client, old = warm_client
    new = in_another_process(deployment, "rotate_secret", client.client_id)["secret"]
    deployment.wait_for_bound()
    assert_invalid_client(token_request(CC, auth=(client.client_id, old)))
    assert_token(token_request(CC, auth=(client.client_id, new)))


def test_client_deleted_elsewhere_applies_within_the_bound(warm_client, token_request):
    deployment, client, secret = warm_client
    in_another_process(deployment, "delete_client", client.client_id)
    deployment.wait_for_bound()
    assert_invalid_client(token_request(CC, auth=(client.client_id, secret)))


def test_client_created_elsewhere_is_known_at_once(deployment, signing_keys, api, token_request):
    """``quickstart --no-serve`` beside a running server: the credentials it prints work.
    An unknown client id asked for before is not remembered as unknown."""
    assert_invalid_client(token_request(CC, auth=("not-yet", "x")))
    created = in_another_process(deployment, "create_client", "-")
    deployment.wait_for_bound()
    assert_token(token_request(CC, auth=(created["client_id"], created["secret"])))


def test_grant_deleted_elsewhere_applies_within_the_bound(warm_client, token_request):
    deployment, client, secret = warm_client
    in_another_process(deployment, "delete_grant", client.client_id)
    deployment.wait_for_bound()
    assert_error(token_request(CC, auth=(client.client_id, secret)), "access_denied")


def test_grant_narrowed_elsewhere_applies_within_the_bound(warm_client, token_request):
    deployment, client, secret = warm_client
    in_another_process(deployment, "narrow_grant", client.client_id)
    deployment.wait_for_bound()
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert body["scope"] == "read:things"


def test_api_scope_removed_elsewhere_applies_within_the_bound(warm_client, token_request):
    deployment, client, secret = warm_client
    in_another_process(deployment, "remove_api_scope", client.client_id)
    deployment.wait_for_bound()
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert body["scope"] == "read:things"


def test_key_rotated_elsewhere_signs_within_the_bound(warm_client, token_request):
    import jwt

    deployment, client, secret = warm_client
    kid = in_another_process(deployment, "rotate_key", client.client_id)["kid"]
    deployment.wait_for_bound()
    token = assert_token(token_request(CC, auth=(client.client_id, secret)))["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == kid
