"""Fifty simultaneous redemptions of one single-use artefact, spread over two worker processes
that share PostgreSQL and Redis: exactly one succeeds, the others get ``invalid_grant``, and the
database holds exactly one successor (DESIGN "Storage and scale"; RFC 6749 §4.1.2, §10.4;
RFC 8628 §3.5; RFC 9700 §4.14.2).

The feature suites race 20-24 threads in one process against the service layer; these are the
cross-cutting versions: real HTTP, two processes, each request on its own connection.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from oauth_token.authorize import device as device_flow
from oauth_token.core import secrets
from oauth_token.models import (
    AuthorizationCode,
    DeviceCode,
    RefreshToken,
    RefreshTokenFamily,
    RevokedAccessToken,
)
from oauth_token.registry import snapshots
from tests import kit
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK
from tests.live_workers import parallel, post_to
from tests.services import post_form

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs DATABASE_URL pointing at PostgreSQL: SQLite serialises every writer, so "
        "it cannot show that two connections never both win",
    ),
]

PARALLEL = 50
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _spread(workers, path, data, **headers):
    return [post_to(workers[i % 2], path, data, **headers) for i in range(PARALLEL)]


def _outcomes(results):
    assert not [r for r in results if isinstance(r, Exception)], results
    ok = [json.loads(raw) for status, _, raw in results if status == 200]
    refused = [(status, json.loads(raw)) for status, _, raw in results if status != 200]
    return ok, refused


@pytest.fixture
def web_client(signing_keys, offline_api, make_client):
    client, secret = make_client(name="Web app", grant_types=None)
    return client, secret


def test_fifty_parallel_refreshes_of_one_token_rotate_exactly_once(
    two_workers, web_client, start_family
):
    client, secret = web_client
    issued = start_family(client)
    family = RefreshTokenFamily.objects.get(client=client)
    data = {"grant_type": "refresh_token", "refresh_token": issued.refresh_token}

    ok, refused = _outcomes(
        parallel(
            _spread(
                two_workers, "/oauth/token", data, Authorization=kit.basic(client.client_id, secret)
            )
        )
    )

    assert len(ok) == 1, refused[:3]
    assert ok[0]["refresh_token"] != issued.refresh_token
    assert {(status, body["error"]) for status, body in refused} == {(400, "invalid_grant")}
    assert len(refused) == PARALLEL - 1
    tokens = RefreshToken.objects.filter(family=family)
    assert tokens.count() == 2, "exactly one successor"
    assert tokens.filter(parent__isnull=False).count() == 1
    # The 49 late uses of a rotated token are reuse (RFC 9700 §4.14.2): the family is revoked.
    family.refresh_from_db()
    assert family.revoked_at is not None
    status, _, raw = post_form(
        f"{two_workers[0].url}/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": ok[0]["refresh_token"]},
        headers={"Authorization": kit.basic(client.client_id, secret)},
    )
    assert status == 400 and json.loads(raw)["error"] == "invalid_grant"


def test_reuse_after_rotation_on_another_worker_revokes_the_whole_family(
    two_workers, web_client, start_family
):
    """The refresh reuse race: a stolen token used after the legitimate client rotated it,
    through another worker and connection."""
    first, second = two_workers
    client, secret = web_client
    issued = start_family(client)
    auth = {"Authorization": kit.basic(client.client_id, secret)}

    status, _, raw = post_form(
        f"{first.url}/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
        headers=auth,
    )
    assert status == 200, raw
    rotated = json.loads(raw)

    status, _, raw = post_form(
        f"{second.url}/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
        headers=auth,
    )
    assert status == 400 and json.loads(raw)["error"] == "invalid_grant"

    family = RefreshTokenFamily.objects.get(client=client)
    assert family.revoked_at is not None
    for worker in two_workers:
        status, _, raw = post_form(
            f"{worker.url}/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
            headers=auth,
        )
        assert status == 400 and json.loads(raw)["error"] == "invalid_grant"
    import jwt

    jtis = {
        jwt.decode(t, options={"verify_signature": False})["jti"]
        for t in (issued.access_token.token, rotated["access_token"])
    }
    assert jtis <= set(RevokedAccessToken.objects.values_list("jti", flat=True))


def test_fifty_parallel_uses_of_distinct_families_all_succeed(
    two_workers, web_client, start_family
):
    """The control: row locks serialise one family, not the whole table."""
    client, secret = web_client
    tokens = [start_family(client).refresh_token for _ in range(PARALLEL)]
    auth = kit.basic(client.client_id, secret)
    calls = [
        post_to(
            two_workers[i % 2],
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": token},
            Authorization=auth,
        )
        for i, token in enumerate(tokens)
    ]
    ok, refused = _outcomes(parallel(calls))
    assert refused == []
    assert len({body["refresh_token"] for body in ok}) == PARALLEL
    assert RefreshTokenFamily.objects.filter(client=client, revoked_at__isnull=True).count() == (
        PARALLEL
    )


def test_fifty_parallel_redemptions_of_one_device_code_succeed_once(
    two_workers, signing_keys, api, make_client, django_user_model
):
    client, secret = make_client(name="TV", grant_types=[DEVICE_GRANT])
    info = snapshots.get_client(client.client_id)
    started = device_flow.start(info, ("read:things",), snapshots.get_api(kit.AUDIENCE))
    person = django_user_model.objects.create_user("tv-owner", password="pw")
    row = DeviceCode.objects.get(device_code_digest=secrets.digest(started.device_code))
    assert device_flow.approve(row, person, row.created_at)

    ok, refused = _outcomes(
        parallel(
            _spread(
                two_workers,
                "/oauth/token",
                {"grant_type": DEVICE_GRANT, "device_code": started.device_code},
                Authorization=kit.basic(client.client_id, secret),
            )
        )
    )

    assert len(ok) == 1, refused[:3]
    assert ok[0]["scope"] == "read:things"
    assert {(status, body["error"]) for status, body in refused} == {(400, "invalid_grant")}
    row.refresh_from_db()
    assert row.status == "consumed"


def test_fifty_parallel_redemptions_of_one_authorization_code_succeed_once(
    two_workers, signing_keys, first_party_app, offline_api, obtain_code
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)

    ok, refused = _outcomes(
        parallel(
            _spread(
                two_workers,
                "/oauth/token",
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": CALLBACK,
                    "code_verifier": verifier,
                },
                Authorization=kit.basic(client.client_id, secret),
            )
        )
    )

    assert len(ok) == 1, refused[:3]
    assert {"access_token", "id_token", "refresh_token"} <= set(ok[0])
    assert {(status, body["error"]) for status, body in refused} == {(400, "invalid_grant")}
    row = AuthorizationCode.objects.get(client=client)
    assert row.used_at is not None
    # Exactly one successor: one refresh family; the 49 replays revoked it and its token.
    family = RefreshTokenFamily.objects.get(client=client)
    assert family.revoked_at is not None
    import jwt

    jti = jwt.decode(ok[0]["access_token"], options={"verify_signature": False})["jti"]
    assert RevokedAccessToken.objects.filter(jti=jti).exists()


def _get_without_following(url: str, cookie: str):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", f"{parts.path}?{parts.query}", headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_fifty_browsers_presenting_one_pushed_request_uri_get_one_code(
    two_workers, signing_keys, first_party_app, offline_api, django_user_model
):
    """RFC 9126 §4: a request_uri is single use. Fifty signed-in browsers (separate sessions)
    present the same one to /authorize at once, through two workers: one is redirected with a
    code, the others see an error page and are never redirected."""
    from urllib.parse import parse_qs, urlsplit

    from django.test import Client as BrowserClient

    from oauth_token.models import PushedAuthorizationRequest
    from tests.authorize.helpers import pkce_pair

    client, secret = first_party_app
    _, challenge = pkce_pair()
    pushed = BrowserClient().generic(
        "POST",
        "/oauth/par",
        "&".join(
            f"{k}={v}"
            for k, v in {
                "response_type": "code",
                "redirect_uri": CALLBACK,
                "scope": "read:things",
                "audience": API,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }.items()
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=kit.basic(client.client_id, secret),
    )
    assert pushed.status_code == 201, pushed.content
    request_uri = pushed.json()["request_uri"]
    person = django_user_model.objects.create_user("par-racer", password="pw")
    cookies = []
    for _ in range(PARALLEL):
        browser = BrowserClient()
        browser.force_login(person)
        cookies.append(f"sessionid={browser.cookies['sessionid'].value}")
    from urllib.parse import urlencode

    query = urlencode({"client_id": client.client_id, "request_uri": request_uri})
    calls = [
        (
            lambda w=two_workers[i % 2], c=cookies[i]: _get_without_following(
                f"{w.url}/authorize?{query}", c
            )
        )
        for i in range(PARALLEL)
    ]
    results = parallel(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    redirected = [h for status, h, _ in results if status == 302]
    refused = [(status, body) for status, _, body in results if status != 302]
    assert len(redirected) == 1, [s for s, _, _ in results][:10]
    location = urlsplit(redirected[0]["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert "code" in parse_qs(location.query)
    assert len(refused) == PARALLEL - 1
    assert {status for status, _ in refused} == {400}
    assert all(b"invalid_request_uri" in body for _, body in refused)
    assert PushedAuthorizationRequest.objects.get().consumed_at is not None
    assert AuthorizationCode.objects.filter(client=client).count() == 1
