"""The shared cache (Redis) going away and coming back, with a real redis-server of our own.

Policy (README "Security"): lookups degrade to the database; replay checks (client assertion
``jti``, DPoP ``jti``) fail closed with 503 ``temporarily_unavailable`` + ``Retry-After``;
one log line per refused request, one line when an outage starts and one when it ends; and
everything recovers without restarting the server once Redis answers again.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from oauth_token.core import cache as oauth_cache
from oauth_token.registry import provisioning
from tests import kit
from tests.services import RedisProcess, TcpProxy

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture(autouse=True)
def _fresh_outage_state() -> Iterator[None]:
    oauth_cache._outage.clear()
    oauth_cache._pending.clear()
    yield
    oauth_cache._outage.clear()
    oauth_cache._pending.clear()


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def _redis_cache(location: str) -> dict[str, object]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def on_redis(settings, redis_process: RedisProcess) -> Iterator[RedisProcess]:
    settings.CACHES = _redis_cache(redis_process.url())
    yield redis_process
    if not redis_process.running:
        redis_process.start()  # so the autouse cache-clearing fixture can flush it


@pytest.fixture
def key_client(signing_keys, api):
    return kit.pkjwt_client(api)


def _pkjwt(token_request, client, key):
    return token_request(kit.assertion_form(kit.private_key_assertion(client.client_id, key)))


def _records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


def test_replay_cache_down_refuses_assertion_with_503_retry_after(
    on_redis, key_client, token_request, caplog
):
    client, key = key_client
    assert _pkjwt(token_request, client, key).status_code == 200
    on_redis.stop()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = _pkjwt(token_request, client, key)
    body = kit.assert_oauth_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "2"
    assert "replay" in body["error_description"]
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].name == "oauth_token"
    assert "replay cache unavailable (ConnectionError)" in errors[0].getMessage()


def test_each_refused_request_logs_exactly_one_error_line(
    on_redis, key_client, token_request, caplog
):
    client, key = key_client
    on_redis.stop()
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert _pkjwt(token_request, client, key).status_code == 503
    assert len(_records(caplog, logging.ERROR)) == 3
    outage_notes = [
        r
        for r in caplog.records
        if "cache unavailable (" in r.getMessage() and r.levelno == logging.WARNING
    ]
    assert len(outage_notes) == 1, "the start of an outage is logged once, not per operation"


def test_recovers_without_restart_once_redis_is_back(on_redis, key_client, token_request, caplog):
    client, key = key_client
    on_redis.stop()
    assert _pkjwt(token_request, client, key).status_code == 503
    on_redis.start()
    with caplog.at_level(logging.INFO):
        response = _pkjwt(token_request, client, key)
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"
    assert any("cache available again" in r.getMessage() for r in caplog.records)


def test_replay_protection_works_again_after_recovery(on_redis, key_client, token_request):
    client, key = key_client
    on_redis.stop()
    on_redis.start()
    assertion = kit.private_key_assertion(client.client_id, key)
    assert token_request(kit.assertion_form(assertion)).status_code == 200
    replay = token_request(kit.assertion_form(assertion))
    kit.assert_oauth_error(replay, 401, "invalid_client")


def test_assertion_refused_during_outage_is_not_burned(on_redis, key_client, token_request):
    """Fail closed must not fail open later: the refused assertion's jti was never recorded,
    so it may be retried once (it is still unused) and then never again."""
    client, key = key_client
    assertion = kit.private_key_assertion(client.client_id, key)
    on_redis.stop()
    assert token_request(kit.assertion_form(assertion)).status_code == 503
    on_redis.start()
    assert token_request(kit.assertion_form(assertion)).status_code == 200
    assert token_request(kit.assertion_form(assertion)).status_code == 401


def test_client_secret_lookups_degrade_to_the_database(
    on_redis, m2m_client, signing_keys, token_request, caplog
):
    client, secret = m2m_client
    on_redis.stop()
    data = {"grant_type": "client_credentials", "audience": kit.AUDIENCE}
    with caplog.at_level(logging.INFO):
        responses = [token_request(data, auth=(client.client_id, secret)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["scope"] == "read:things write:things" for r in responses)
    assert _records(caplog, logging.ERROR) == []
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1 and "cache unavailable" in warnings[0].getMessage()


def test_wrong_secret_is_still_refused_while_cache_is_down(
    on_redis, m2m_client, signing_keys, token_request
):
    client, _ = m2m_client
    on_redis.stop()
    response = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=(client.client_id, "not-the-secret"),
    )
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_secret_rotated_during_outage_is_effective_at_once(
    on_redis, m2m_client, signing_keys, token_request
):
    """During the outage every lookup reads the database, so a rotation applies to the next
    request; after recovery invalidation through the cache works again."""
    client, old = m2m_client
    data = {"grant_type": "client_credentials", "audience": kit.AUDIENCE}
    assert token_request(data, auth=(client.client_id, old)).status_code == 200
    on_redis.stop()
    new = provisioning.rotate_secret(client)
    assert token_request(data, auth=(client.client_id, old)).status_code == 401
    assert token_request(data, auth=(client.client_id, new)).status_code == 200
    on_redis.start()
    newer = provisioning.rotate_secret(client)
    assert token_request(data, auth=(client.client_id, new)).status_code == 401
    assert token_request(data, auth=(client.client_id, newer)).status_code == 200


def test_hung_redis_times_out_into_503_not_a_hang_or_500(
    settings, key_client, token_request, caplog
):
    """A Redis that accepts connections but never answers (a stuck process, a half-open
    network path): the socket timeout turns it into 503 within the timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # accepts into the backlog, never reads or answers
        port = listener.getsockname()[1]
        settings.CACHES = _redis_cache(f"redis://127.0.0.1:{port}/0")
        client, key = key_client
        with caplog.at_level(logging.INFO):
            response = _pkjwt(token_request, client, key)
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    kit.assert_oauth_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "2"
    assert "(TimeoutError)" in _records(caplog, logging.ERROR)[0].getMessage()


def test_cache_never_configured_reachable_refuses_then_serves(settings, key_client, token_request):
    """A cache URL that points at a closed port from the start (a typo, a Redis not yet up)."""
    from tests.services import free_port

    settings.CACHES = _redis_cache(f"redis://127.0.0.1:{free_port()}/0")
    client, key = key_client
    kit.assert_oauth_error(_pkjwt(token_request, client, key), 503, "temporarily_unavailable")


def test_change_made_during_partition_leaves_no_stale_copy(
    settings, redis_process, m2m_client, signing_keys, token_request
):
    """A network partition, not a restart: Redis keeps the client snapshot cached before the
    partition. A secret rotated while the cache was unreachable must not be undone by that
    stale copy once the partition heals: the failed invalidation is retried first."""
    proxy = TcpProxy("127.0.0.1", redis_process.port)
    proxy.restore()
    try:
        settings.CACHES = _redis_cache(f"redis://127.0.0.1:{proxy.port}/0")
        client, old = m2m_client
        data = {"grant_type": "client_credentials", "audience": kit.AUDIENCE}
        assert token_request(data, auth=(client.client_id, old)).status_code == 200
        proxy.cut()
        new = provisioning.rotate_secret(client)
        proxy.restore()
        kit.assert_oauth_error(
            token_request(data, auth=(client.client_id, old)), 401, "invalid_client"
        )
        assert token_request(data, auth=(client.client_id, new)).status_code == 200
    finally:
        proxy.cut()
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
