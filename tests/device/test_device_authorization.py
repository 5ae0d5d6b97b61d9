"""POST /oauth/device/code (RFC 8628 §3.1-3.2)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from oauth_token.authorize.device import USER_CODE_ALPHABET
from oauth_token.core import secrets
from oauth_token.models import DeviceCode, DeviceCodeStatus

from .conftest import DEVICE_GRANT, row_for

pytestmark = pytest.mark.django_db


def test_confidential_client_gets_codes_and_verification_uris(tv_client, device_code_request):
    client, secret = tv_client
    response = device_code_request(
        {"scope": "openid profile read:things", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    letter = f"[{USER_CODE_ALPHABET}]"
    assert re.fullmatch(f"{letter}{{4}}-{letter}{{4}}", body["user_code"])
    assert len(body["device_code"]) >= 43
    assert body["verification_uri"] == "https://auth.example.test/activate"
    complete = urlsplit(body["verification_uri_complete"])
    assert f"{complete.scheme}://{complete.netloc}{complete.path}" == body["verification_uri"]
    assert parse_qs(complete.query) == {"user_code": [body["user_code"]]}
    assert body["expires_in"] == 900
    assert body["interval"] == 5

    row = DeviceCode.objects.get()
    assert row.device_code_digest == secrets.digest(body["device_code"])
    assert body["device_code"] not in str(row.__dict__)
    assert row.user_code == body["user_code"].replace("-", "")
    assert row.client_id == client.pk
    assert row.scopes == ["openid", "profile", "read:things"]
    assert row.audience == "https://api.example.com"
    assert row.status == DeviceCodeStatus.PENDING
    assert row.interval == 5
    assert 899 <= (row.expires_at - timezone.now()).total_seconds() <= 900


def test_public_client_identifies_with_client_id(public_tv, device_code_request):
    response = device_code_request({"client_id": public_tv.client_id, "scope": "openid"})
    assert response.status_code == 200, response.content
    assert DeviceCode.objects.get().client_id == public_tv.pk


def test_lifetime_and_interval_follow_settings(tv_client, device_code_request, settings):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "DEVICE_CODE_LIFETIME": 600,
        "DEVICE_CODE_INTERVAL": 8,
    }
    client, secret = tv_client
    body = device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()
    assert (body["expires_in"], body["interval"]) == (600, 8)
    assert DeviceCode.objects.get().interval == 8


def test_each_request_gets_fresh_codes(tv_client, device_code_request):
    client, secret = tv_client
    first = device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()
    second = device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()
    assert first["device_code"] != second["device_code"]
    assert first["user_code"] != second["user_code"]
    assert DeviceCode.objects.count() == 2


def test_unknown_scopes_are_ignored_and_offline_access_needs_an_offline_api(
    make_client, offline_api, device_code_request
):
    client, secret = make_client(name="TV", grant_types=[DEVICE_GRANT, "refresh_token"])
    response = device_code_request(
        {"scope": "openid offline_access watch admin:all", "audience": offline_api.identifier},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert DeviceCode.objects.get().scopes == ["openid", "offline_access", "watch"]


def test_offline_access_dropped_when_api_disallows_it(tv_client, device_code_request):
    client, secret = tv_client
    device_code_request(
        {"scope": "openid offline_access", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    )
    assert DeviceCode.objects.get().scopes == ["openid"]


def test_client_without_device_grant_is_unauthorized(m2m_client, device_code_request):
    client, secret = m2m_client
    response = device_code_request({"scope": "openid"}, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert not DeviceCode.objects.exists()


def test_wrong_secret_is_invalid_client(tv_client, device_code_request):
    client, _ = tv_client
    response = device_code_request({"scope": "openid"}, auth=(client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not DeviceCode.objects.exists()


def test_confidential_client_without_credentials_is_invalid_client(tv_client, device_code_request):
    client, _ = tv_client
    response = device_code_request({"client_id": client.client_id, "scope": "openid"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_missing_client_is_invalid_client(db, device_code_request):
    response = device_code_request({"scope": "openid"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_audience_is_invalid_target(tv_client, device_code_request):
    client, secret = tv_client
    response = device_code_request(
        {"scope": "openid", "audience": "https://nope.example.com"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not DeviceCode.objects.exists()


def test_no_usable_scope_and_no_audience_is_invalid_scope(tv_client, device_code_request):
    client, secret = tv_client
    response = device_code_request({"scope": "admin"}, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not DeviceCode.objects.exists()


def test_get_is_method_not_allowed_json(api_client, db):
    response = api_client.get("/oauth/device/code")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_duplicate_parameter_is_invalid_request(tv_client, api_client):
    from tests.conftest import basic

    client, secret = tv_client
    response = api_client.generic(
        "POST",
        "/oauth/device/code",
        "scope=openid&scope=profile",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_discovery_lists_device_authorization_endpoint(api_client, signing_keys):
    body = api_client.get("/.well-known/openid-configuration").json()
    assert body["device_authorization_endpoint"] == "https://auth.example.test/oauth/device/code"
    assert DEVICE_GRANT in body["grant_types_supported"]


def test_resource_names_the_api_like_audience(tv_client, device_code_request):
    """RFC 8707 §2: ``resource`` is accepted wherever ``audience`` is."""
    client, secret = tv_client
    response = device_code_request(
        {"scope": "read:things", "resource": "https://api.example.com"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert row_for(response.json()["device_code"]).audience == "https://api.example.com"


@pytest.mark.parametrize(
    "params",
    [
        {"resource": "https://unknown.example.com"},
        {"resource": "https://api.example.com", "audience": "https://tv.example.com"},
        {"resource": ["https://api.example.com", "https://tv.example.com"]},
    ],
    ids=["unknown", "conflicting", "several"],
)
def test_bad_resource_is_invalid_target(tv_client, offline_api, device_code_request, params):
    client, secret = tv_client
    response = device_code_request({"scope": "openid", **params}, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not DeviceCode.objects.exists()
