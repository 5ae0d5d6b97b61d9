"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from oauth_token import signals
from oauth_token.core import secrets
from oauth_token.models import Client, ClientRegistration, InitialAccessToken
from tests.conftest import database_state

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.test/"
NATIVE = {
    "client_name": "Agent",
    "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "openid offline_access",
    "client_uri": "https://agent.example.com",
}
WEB = {
    "client_name": "Web",
    "redirect_uris": ["https://web.example.com/cb"],
}


def initial_access_token(*args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("oauth_client", "initial-access-token", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


# --- modes ------------------------------------------------------------------------------------


def test_registration_is_closed_by_default(register):
    before = database_state()
    response = register(NATIVE)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert database_state() == before


def test_discovery_advertises_registration_only_when_it_is_possible(api_client, registration_mode):
    assert "registration_endpoint" not in api_client.get("/.well-known/openid-configuration").json()
    registration_mode("open")
    metadata = api_client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["registration_endpoint"] == "https://auth.example.test/oauth/register"


def test_open_registration_creates_a_public_client(
    register, registration_mode, django_capture_on_commit_callbacks
):
    registration_mode("open")
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.client_registered.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = register(NATIVE)
    finally:
        signals.client_registered.disconnect(receiver)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Cache-Control"] == "no-store"
    client = Client.objects.get(client_id=body["client_id"])
    assert client.is_public and client.token_endpoint_auth_method == "none"
    assert client.redirect_uris == NATIVE["redirect_uris"]
    assert client.first_party is False and client.can_introspect is False
    assert "client_secret" not in body
    assert body["client_name"] == "Agent"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["client_uri"] == "https://agent.example.com"
    assert body["registration_client_uri"] == f"{ISSUER}oauth/register/{client.client_id}"
    token = body["registration_access_token"]
    row = ClientRegistration.objects.get(client=client)
    assert row.access_token_digest == secrets.digest(token) and token not in str(row.metadata)
    assert [r["client_id"] for r in received] == [client.client_id]
    assert received[0]["registration"] == "dynamic"


def test_confidential_registration_returns_its_secret_once(register, registration_mode):
    registration_mode("open")
    body = register(WEB).json()
    client = Client.objects.get(client_id=body["client_id"])
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert client.secret_digest == secrets.digest(body["client_secret"])
    assert body["client_secret_expires_at"] == 0


def test_token_mode_needs_a_one_time_initial_access_token(register, registration_mode):
    registration_mode("token")
    missing = register(NATIVE)
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_token"
    assert missing["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    issued = initial_access_token("--expires-in", "600")
    assert set(issued) == {"token", "expires_at"}
    assert InitialAccessToken.objects.get().token_digest == secrets.digest(issued["token"])
    assert register(NATIVE, token=issued["token"]).status_code == 201
    again = register(NATIVE, token=issued["token"])
    assert again.status_code == 401
    assert Client.objects.count() == 1


def test_refused_metadata_does_not_use_up_the_initial_access_token(register, registration_mode):
    registration_mode("token")
    token = initial_access_token()["token"]
    bad = register({"redirect_uris": ["https://x.example/#frag"]}, token=token)
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_redirect_uri"
    assert register(NATIVE, token=token).status_code == 201


# --- bad metadata -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"redirect_uris": "https://a.example/cb"}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://a.example/cb#x"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [42]}, "invalid_redirect_uri"),
        ({}, "invalid_redirect_uri"),
        ({**WEB, "grant_types": ["password"]}, "invalid_client_metadata"),
        (
            {**WEB, "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]},
            "invalid_client_metadata",
        ),
        ({**WEB, "response_types": ["token"]}, "invalid_client_metadata"),
        ({**WEB, "token_endpoint_auth_method": "magic"}, "invalid_client_metadata"),
        ({**WEB, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({**WEB, "jwks": "keys"}, "invalid_client_metadata"),
        ({**WEB, "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "invalid_client_metadata"),
        ({**WEB, "client_name": ["x"]}, "invalid_client_metadata"),
        ({**WEB, "logo_uri": "javascript:x"}, "invalid_client_metadata"),
        ({**WEB, "contacts": "a@example.com"}, "invalid_client_metadata"),
        ({**WEB, "backchannel_logout_uri": "ftp://web.example.com/bc"}, "invalid_client_metadata"),
        ({**WEB, "backchannel_logout_uri": "http://web.example.com/bc"}, "invalid_client_metadata"),
        (
            {**WEB, "backchannel_logout_uri": "https://web.example.com/bc#x"},
            "invalid_client_metadata",
        ),
        ({**WEB, "backchannel_logout_uri": "http://[::1/bc"}, "invalid_client_metadata"),
        (
            {**WEB, "backchannel_logout_uri": ["https://web.example.com/bc"]},
            "invalid_client_metadata",
        ),
        ({**WEB, "backchannel_logout_session_required": "true"}, "invalid_client_metadata"),
        ({**WEB, "backchannel_logout_session_required": 1}, "invalid_client_metadata"),
        (
            {**WEB, "post_logout_redirect_uris": "https://web.example.com/bye"},
            "invalid_client_metadata",
        ),
        ({**WEB, "post_logout_redirect_uris": ["javascript:alert(1)"]}, "invalid_client_metadata"),
        (
            {**WEB, "post_logout_redirect_uris": ["http://evil.example/bye"]},
            "invalid_client_metadata",
        ),
        ({**WEB, "post_logout_redirect_uris": ["http://[::1/bye"]}, "invalid_client_metadata"),
        (["not", "an", "object"], "invalid_client_metadata"),
    ],
)
def test_bad_metadata_is_an_rfc7591_error_and_changes_nothing(
    register, registration_mode, body, error
):
    registration_mode("open")
    before = database_state()
    response = register(body)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == error
    assert database_state() == before


def test_a_body_that_is_not_json_is_invalid_request(api_client, registration_mode):
    registration_mode("open")
    for body, content_type in (
        (b"{", "application/json"),
        (b"a=b", "application/x-www-form-urlencoded"),
    ):
        response = api_client.generic("POST", "/oauth/register", body, content_type=content_type)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


# --- RFC 7592 management ----------------------------------------------------------------------


@pytest.fixture
def registered(register, registration_mode):
    registration_mode("open")
    body = register(NATIVE).json()
    return body


def manage(api_client, method, body, token, data=None):
    path = f"/oauth/register/{body['client_id']}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if data is None:
        return getattr(api_client, method)(path, **headers)
    return getattr(api_client, method)(path, data, format="json", **headers)


def test_read_returns_the_registration_without_secrets(api_client, registered):
    response = manage(api_client, "get", registered, registered["registration_access_token"])
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == registered["client_id"]
    assert body["redirect_uris"] == NATIVE["redirect_uris"]
    assert "registration_access_token" not in body


def test_wrong_token_or_unknown_client_is_401(api_client, registered):
    wrong = manage(api_client, "get", registered, "x" * 43)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
    unknown = manage(
        api_client, "get", {"client_id": "nope"}, registered["registration_access_token"]
    )
    assert unknown.status_code == 401
    none = api_client.get(f"/oauth/register/{registered['client_id']}")
    assert none.status_code == 401


@pytest.mark.parametrize("client_id", ["%00", "a%00b", "%01", "x" * 300])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_nul_byte_or_oversized_client_id_in_registration_uri_is_401_not_500(
    api_client, registered, client_id, method
):
    """PostgreSQL refuses NUL in text with an error, not an empty result: a client_id no row
    can hold must be an unknown client before any query (found by the registration fuzzer)."""
    token = registered["registration_access_token"]
    response = manage(api_client, method, {"client_id": client_id}, token, data=None)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_update_replaces_metadata_and_rotates_the_registration_token(api_client, registered):
    old = registered["registration_access_token"]
    update = {
        **NATIVE,
        "client_id": registered["client_id"],
        "client_name": "Agent 2",
        "redirect_uris": ["http://localhost:9/cb"],
    }
    response = manage(api_client, "put", registered, old, update)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["client_name"] == "Agent 2"
    client = Client.objects.get(client_id=registered["client_id"])
    assert client.name == "Agent 2" and client.redirect_uris == ["http://localhost:9/cb"]
    new = body["registration_access_token"]
    assert new != old
    assert manage(api_client, "get", registered, old).status_code == 401
    assert manage(api_client, "get", registered, new).status_code == 200


def test_update_must_name_the_client_and_send_no_server_members(api_client, registered):
    token = registered["registration_access_token"]
    before = database_state()
    for update in (
        {**NATIVE},
        {**NATIVE, "client_id": "other"},
        {**NATIVE, "client_id": registered["client_id"], "registration_access_token": token},
        {**NATIVE, "client_id": registered["client_id"], "client_secret": "guess"},
        {**NATIVE, "client_id": registered["client_id"], "redirect_uris": ["ftp://x#y"]},
    ):
        response = manage(api_client, "put", registered, token, update)
        assert response.status_code == 400, update
        assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert database_state() == before


LOGOUT = {
    "post_logout_redirect_uris": ["https://web.example.com/bye"],
    "backchannel_logout_uri": "https://web.example.com/backchannel",
    "backchannel_logout_session_required": True,
}


def test_registration_cannot_ask_for_refresh_tokens_revoked_on_logout(register, registration_mode):
    """An operator's decision (``oauth_client --revoke-refresh-tokens-on-logout``, the admin),
    not a client's: the member is not RFC 7591 metadata and is not taken."""
    registration_mode("open")
    response = register({**WEB, "revoke_refresh_tokens_on_logout": True})
    assert response.status_code == 201, response.content
    assert "revoke_refresh_tokens_on_logout" not in response.json()
    client = Client.objects.get(client_id=response.json()["client_id"])
    assert client.revoke_refresh_tokens_on_logout is False


def test_logout_metadata_round_trips(api_client, register, registration_mode):
    """OIDC Back-Channel Logout 1.0 §2.2 and RP-Initiated Logout 1.0 §3.1 members: stored on
    the client, returned as registered, read back and replaced by RFC 7592."""
    registration_mode("open")
    response = register({**WEB, **LOGOUT})
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in LOGOUT} == LOGOUT
    client = Client.objects.get(client_id=body["client_id"])
    assert client.post_logout_redirect_uris == LOGOUT["post_logout_redirect_uris"]
    assert client.backchannel_logout_uri == LOGOUT["backchannel_logout_uri"]
    assert client.backchannel_logout_session_required is True
    token = body["registration_access_token"]
    read = manage(api_client, "get", body, token).json()
    assert {k: read[k] for k in LOGOUT} == LOGOUT
    update = {
        **WEB,
        "client_id": body["client_id"],
        "backchannel_logout_uri": LOGOUT["backchannel_logout_uri"],
    }
    updated = manage(api_client, "put", body, token, update)
    assert updated.status_code == 200, updated.content
    assert updated.json()["backchannel_logout_session_required"] is False
    assert "post_logout_redirect_uris" not in updated.json()
    client.refresh_from_db()
    assert client.backchannel_logout_session_required is False
    assert client.post_logout_redirect_uris == []


def test_a_loopback_backchannel_logout_uri_is_allowed_for_development(register, registration_mode):
    registration_mode("open")
    response = register({**NATIVE, "backchannel_logout_uri": "http://127.0.0.1:9000/bc"})
    assert response.status_code == 201, response.content
    assert response.json()["backchannel_logout_session_required"] is False


def test_delete_removes_the_client(api_client, registered):
    token = registered["registration_access_token"]
    assert manage(api_client, "delete", registered, token).status_code == 204
    assert not Client.objects.filter(client_id=registered["client_id"]).exists()
    assert manage(api_client, "get", registered, token).status_code == 401


# --- throttle -------------------------------------------------------------------------------


def test_a_registration_flood_hits_the_per_ip_throttle(register, registration_mode):
    registration_mode("open", REGISTRATION_MAX_PER_IP=3)
    statuses = [register(NATIVE).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    flooded = register(NATIVE)
    assert flooded.status_code == 429
    assert flooded.json()["error"] == "too_many_attempts"
    assert flooded["Retry-After"]
    # Refused registrations count too, and another address is not affected.
    assert register(NATIVE, REMOTE_ADDR="10.0.0.9").status_code == 201
    assert Client.objects.count() == 4


def test_unknown_registration_mode_is_a_check_error(settings):
    from oauth_token.checks import check_configuration
    from tests.authorize.helpers import oauth_settings_with

    settings.OAUTH_TOKEN = oauth_settings_with(REGISTRATION="opne")
    assert "oauth_token.E150" in [e.id for e in check_configuration()]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"redirect_uris": ["https://a.example/cb"], "contacts": ["\\ud800"]}',
        b'{"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": [], "x": "\\u0000"}}',
        b'{"redirect_uris": ["https://a.example/cb"], "client_name": "a\\u0000b"}',
    ],
    ids=["lone-surrogate", "nul-in-jwks", "nul-in-name"],
)
def test_json_escapes_no_database_can_store_are_invalid_request(api_client, registration_mode, raw):
    registration_mode("open")
    before = database_state()
    response = api_client.generic("POST", "/oauth/register", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert database_state() == before
