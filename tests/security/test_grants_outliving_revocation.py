"""Grants that outlived what should have ended them (issue 12 items 9 and 10, and the
suspected revocation-cache race): a revoked consent whose refresh token still rotated, a refresh
family that kept issuing a scope its API had dropped, and a "not revoked" answer a concurrent
reader could leave in the cache while the revocation was still being committed."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from oauth_token.authorize import consent
from oauth_token.registry import keyring, provisioning
from oauth_token.registry.snapshots import client_snapshot, get_api
from oauth_token.tokens import revocation
from tests import kit

API = "https://api.example.com"
PASSWORD = "pw-alice-123"


@pytest.fixture
def offline(db: None, signing_keys: Any, make_client: Any) -> dict[str, Any]:
    api = provisioning.create_api(
        identifier=API,
        name="Example",
        scopes=["read:things", "write:things"],
        allow_offline_access=True,
    )
    alice = get_user_model().objects.create_user("alice", password=PASSWORD)
    app, secret = make_client(name="App", grant_types=["password", "refresh_token"])
    rs, rs_secret = make_client(name="RS", can_introspect=True)
    return {
        "api": api,
        "alice": alice,
        "app": app,
        "auth": (app.client_id, secret),
        "rs": (rs.client_id, rs_secret),
    }


def _login(token_request: Any, offline: dict[str, Any]) -> dict[str, Any]:
    response = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "audience": API,
            "scope": "read:things write:things offline_access",
        },
        auth=offline["auth"],
    )
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(token_request: Any, offline: dict[str, Any], refresh_token: str) -> Any:
    return token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=offline["auth"]
    )


def _active(api_client: Any, offline: dict[str, Any], token: str) -> bool:
    response = api_client.post(
        "/oauth/introspect",
        urlencode({"token": token}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=kit.basic(*offline["rs"]),
    )
    return bool(response.json()["active"])


@pytest.mark.django_db
def test_revoking_a_consent_in_the_admin_ends_the_grant_it_gave(
    offline, token_request, api_client, admin_client
):
    tokens = _login(token_request, offline)
    row = consent.remember(
        offline["alice"],
        consent.ConsentPrompt(
            client=client_snapshot(offline["app"]),
            api=get_api(API),
            scopes=("read:things", "write:things", "offline_access"),
        ),
    )
    response = admin_client.post(
        reverse("admin:oauth_token_consent_changelist"),
        {"action": "revoke_consents", helpers.ACTION_CHECKBOX_NAME: [row.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    refused = _refresh(token_request, offline, tokens["refresh_token"])
    kit.assert_oauth_error(refused, 400, "invalid_grant")
    assert not _active(api_client, offline, tokens["access_token"])


@pytest.mark.django_db
def test_refresh_drops_a_scope_the_api_no_longer_defines(offline, token_request, capsys):
    tokens = _login(token_request, offline)
    call_command("oauth_api", "update", API, "--scope", "read:things", "--json")
    capsys.readouterr()
    response = _refresh(token_request, offline, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    assert response.json()["scope"].split() == ["read:things", "offline_access"]
    access = response.json()["access_token"]
    alg, key = keyring.verification_key(jwt.get_unverified_header(access)["kid"])
    claims = jwt.decode(access, key, algorithms=[alg], audience=API)
    assert "write:things" not in claims["scope"].split()
    narrowing = _refresh(token_request, offline, response.json()["refresh_token"])
    assert "write:things" not in narrowing.json()["scope"].split()


@pytest.mark.django_db(transaction=True)
def test_a_reader_during_the_revoking_transaction_cannot_cache_not_revoked(offline):
    """A resource server asks while the revocation is not yet committed: it sees "not
    revoked" (true at that instant), but that answer must not outlive the commit."""
    from datetime import timedelta

    from django.utils import timezone

    jti = "racing-jti"
    answers: list[bool] = []
    with transaction.atomic():
        revocation.revoke_access_tokens([(jti, timezone.now() + timedelta(hours=1))])
        reader = threading.Thread(target=lambda: answers.append(revocation.is_revoked(jti)))
        reader.start()
        reader.join(timeout=30)
    from django.db import connections

    connections.close_all()
    assert answers == [False]  # the concurrent reader saw the committed state of its time
    assert revocation.is_revoked(jti) is True  # ...and did not pin it in the cache
