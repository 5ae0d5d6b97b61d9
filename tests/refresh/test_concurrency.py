"""Concurrent uses of one refresh token, on PostgreSQL with real parallel connections.

Each thread is a separate Django connection (Django keeps one per thread), released together by
a barrier, so the requests really race for the family's row lock.

Decision (documented in README/issue): with REFRESH_TOKEN_REUSE_LEEWAY = 0, every request that
loses the race presented a token that had just been rotated, which is exactly the signal RFC
9700 §4.14.2 treats as a breach: the family is revoked, including the winner's new refresh and
access tokens. A client that may race itself should be given a leeway; then the losers receive
the winner's successor and nothing is revoked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.test import Client as HttpClient

from oauth_token.grants.refresh_token import RefreshTokenGrant
from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.token_endpoint.issuance import issue
from oauth_token.tokens import refresh_tokens
from oauth_token.tokens.revocation import is_revoked
from tests.conftest import basic
from tests.refresh.fixtures import access_claims, token_context

POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
N = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES,
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): the race is between row locks "
        "of separate server connections; SQLite serialises the whole database instead",
    ),
    pytest.mark.django_db(transaction=True),
]


def race(n: int, request: Callable[[HttpClient], Any]) -> list[Any]:
    """Run ``request`` from ``n`` threads at once, each on its own database connection."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            http = HttpClient()
            barrier.wait(timeout=30)
            results[i] = request(http)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results


def post_refresh(token: str, client_id: str, secret: str) -> Callable[[HttpClient], Any]:
    def request(http: HttpClient) -> tuple[int, dict[str, Any]]:
        response = http.generic(
            "POST",
            "/oauth/token",
            urlencode({"grant_type": "refresh_token", "refresh_token": token}),
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic(client_id, secret),
        )
        return response.status_code, response.json()

    return request


@pytest.fixture
def family(offline_api, rt_client, start_family):
    client, secret = rt_client
    issued = start_family(client)
    return client, secret, issued


def test_twenty_concurrent_uses_rotate_exactly_once_and_revoke_the_family(family):
    client, secret, issued = family

    results = race(N, post_refresh(issued.refresh_token, client.client_id, secret))

    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1
    assert len(losers) == N - 1
    assert {(b["error"]) for b in losers} == {"invalid_grant"}
    assert RefreshToken.objects.count() == 2  # the original and exactly one successor
    fam = RefreshTokenFamily.objects.get()
    assert fam.revoked_at is not None and fam.revoked_reason == "reuse"
    winner = winners[0]
    assert is_revoked(access_claims(winner["access_token"])["jti"])
    assert is_revoked(issued.access_token.jti)
    status, body = post_refresh(winner["refresh_token"], client.client_id, secret)(HttpClient())
    assert (status, body["error"]) == (400, "invalid_grant")


def test_twenty_concurrent_uses_within_leeway_all_get_the_same_successor(settings, family):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "REFRESH_TOKEN_REUSE_LEEWAY": 60}
    client, secret, issued = family

    results = race(N, post_refresh(issued.refresh_token, client.client_id, secret))

    assert [status for status, _ in results] == [200] * N
    successors = {body["refresh_token"] for _, body in results}
    assert len(successors) == 1
    assert len({body["access_token"] for _, body in results}) == N
    assert RefreshToken.objects.count() == 2
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert len(refresh_tokens.issued_access_tokens(RefreshTokenFamily.objects.get())) == N + 1
    (successor,) = successors
    status, body = post_refresh(successor, client.client_id, secret)(HttpClient())
    assert status == 200, body


def _waiting_for_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT NOT granted FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone() is not None


def _own_pid(into: dict[str, int]) -> None:
    """Record this thread's PostgreSQL backend, for :func:`_until_waiting`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        into["pid"] = cursor.fetchone()[0]


def _until_waiting(pid: dict[str, int], what: str) -> None:
    """Wait (at most 30 s) until the backend recorded in ``pid`` waits for a lock."""
    deadline = time.monotonic() + 30
    while not (pid and _waiting_for_lock(pid["pid"])):
        assert time.monotonic() < deadline, f"{what} never waited for the family lock"
        time.sleep(0.01)


def test_revocation_waits_for_a_rotation_in_flight_and_lists_its_access_token(family):
    """revoke_family locks the family row: a rotation that holds it commits first, and the
    access token it issued is denylisted too (none escapes the revocation)."""
    client, _, issued = family
    locked, release = threading.Event(), threading.Event()
    rotated: dict[str, Any] = {}
    revoker_pid: dict[str, int] = {}

    def rotate() -> None:
        try:
            context = token_context(
                client,
                grant_type="refresh_token",
                params={"refresh_token": issued.refresh_token},
            )
            with transaction.atomic():
                result = RefreshTokenGrant().validate(context)
                rotated["jti"] = issue(result, context).access_token.jti
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def revoke() -> None:
        try:
            _own_pid(revoker_pid)
            fam = RefreshTokenFamily.objects.get()
            refresh_tokens.revoke_family(fam, "admin")
        finally:
            connections.close_all()

    rotator = threading.Thread(target=rotate)
    rotator.start()
    assert locked.wait(timeout=30)
    revoker = threading.Thread(target=revoke)
    revoker.start()
    _until_waiting(revoker_pid, "revoke_family")
    release.set()
    rotator.join(timeout=30)
    revoker.join(timeout=30)

    assert RefreshTokenFamily.objects.get().revoked_reason == "admin"
    assert is_revoked(rotated["jti"])
    assert is_revoked(issued.access_token.jti)


def test_rotation_claiming_during_a_revocation_in_flight_waits_and_issues_nothing(family):
    """The other order: a revocation holds the family row when a rotation, which read the
    family as live and signed, claims its token. The claim's guard waits for the family lock,
    re-checks the family once the revocation commits, and changes nothing; the request is then
    refused, with no successor stored."""
    client, secret, issued = family
    holding, release = threading.Event(), threading.Event()
    rotator_pid: dict[str, int] = {}
    outcome: dict[str, Any] = {}

    def revoke_and_hold() -> None:
        try:
            with transaction.atomic():
                refresh_tokens.revoke_family(RefreshTokenFamily.objects.get(), "admin")
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def rotate() -> None:
        try:
            _own_pid(rotator_pid)
            outcome["response"] = post_refresh(issued.refresh_token, client.client_id, secret)(
                HttpClient()
            )
        finally:
            connections.close_all()

    revoker = threading.Thread(target=revoke_and_hold)
    revoker.start()
    assert holding.wait(timeout=30)
    rotator = threading.Thread(target=rotate)
    rotator.start()
    _until_waiting(rotator_pid, "the rotation")
    release.set()
    revoker.join(timeout=30)
    rotator.join(timeout=30)

    status, body = outcome["response"]
    assert (status, body["error"]) == (400, "invalid_grant")
    assert RefreshToken.objects.count() == 1
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_reason == "admin"
