"""The password grant as an independent client library speaks it: requests-oauthlib's
``LegacyApplicationClient`` (RFC 6749 §4.3) against a live server over real HTTP."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error
from requests_oauthlib import OAuth2Session

from oauth_token.registry import keyring, provisioning

pytestmark = pytest.mark.django_db(transaction=True)

API = "https://offline.example.com"
PASSWORD = "legacy-pass-123"


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses http:// unless told; the live server listens on 127.0.0.1 only."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def legacy_app(signing_keys: Any) -> tuple[str, str]:
    provisioning.create_api(
        identifier=API, name="Offline", scopes=["read:things"], allow_offline_access=True
    )
    get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    created = provisioning.create_client(
        name="Legacy app", grant_types=["password", "refresh_token"]
    )
    assert created.secret is not None
    return created.client.client_id, created.secret


def session(client_id: str) -> OAuth2Session:
    return OAuth2Session(client=LegacyApplicationClient(client_id=client_id))


def test_legacy_application_client_gets_and_refreshes_tokens(live_server, legacy_app):
    client_id, secret = legacy_app
    token_url = f"{live_server.url}/oauth/token"
    oauth = session(client_id)
    token = oauth.fetch_token(
        token_url=token_url,
        username="alice",
        password=PASSWORD,
        client_id=client_id,
        client_secret=secret,
        scope=["read:things", "offline_access"],
        audience=API,
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["read:things", "offline_access"]
    assert token["refresh_token"]
    alg, key = keyring.verification_key(jwt.get_unverified_header(token["access_token"])["kid"])
    claims = jwt.decode(token["access_token"], key, algorithms=[alg], audience=API)
    assert claims["sub"] == str(get_user_model().objects.get(username="alice").pk)
    assert claims["client_id"] == client_id

    refreshed = oauth.refresh_token(token_url, auth=(client_id, secret))
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]


def test_legacy_application_client_sees_the_rfc_errors(live_server, legacy_app, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 2}
    client_id, secret = legacy_app
    token_url = f"{live_server.url}/oauth/token"

    statuses: list[int] = []

    def record(response: Any) -> Any:
        statuses.append(response.status_code)
        return response

    def attempt(password: str) -> Any:
        oauth = session(client_id)
        oauth.register_compliance_hook("access_token_response", record)
        return oauth.fetch_token(
            token_url=token_url,
            username="alice",
            password=password,
            client_id=client_id,
            client_secret=secret,
            audience=API,
        )

    for _ in range(2):
        with pytest.raises(InvalidGrantError) as wrong:
            attempt("wrong")
        assert wrong.value.description == "Wrong email or password."
    with pytest.raises(CustomOAuth2Error) as locked:
        attempt(PASSWORD)
    assert locked.value.error == "too_many_attempts"
    assert statuses == [400, 400, 429]
