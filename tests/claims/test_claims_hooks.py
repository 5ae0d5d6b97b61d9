"""ACCESS_TOKEN_CLAIMS / ID_TOKEN_CLAIMS (DESIGN.md, "Extension points"): a project adds
claims like Auth0 Actions' setCustomClaim; registered claims cannot be overridden (logged,
ignored); a failing hook is a logged server_error and consumes nothing; a hook path that does
not import is a system-check error."""

from __future__ import annotations

import logging
from typing import Any

import jwt
import pytest
from django.core import checks
from django.test import override_settings

from oauth_token.models import RefreshToken
from tests.claims import hooks
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
BASE = {
    "ISSUER": "https://auth.example.test/",
    "KEY_ENCRYPTION_KEY": "test-key-encryption-key-0123456789abcdef",
}


def with_hooks(**hooks_: str) -> Any:
    return override_settings(OAUTH_TOKEN={**BASE, **hooks_})


def cc(token_request: Any, m2m_client: Any) -> Any:
    client, secret = m2m_client
    return token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=(client.client_id, secret)
    )


@pytest.fixture
def password_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("dora", password="pw-dora")


@pytest.fixture
def password_grant(token_request, make_client, api, signing_keys, password_user):
    api.allow_offline_access = True
    api.save()
    client, secret = make_client(name="Legacy", grant_types=["password", "refresh_token"])

    def post(**extra: Any) -> Any:
        data = {
            "grant_type": "password",
            "username": "dora",
            "password": "pw-dora",
            "audience": API,
            "scope": "openid read:things offline_access",
            **extra,
        }
        return token_request(data, auth=(client.client_id, secret))

    def refresh(value: str) -> Any:
        return token_request(
            {"grant_type": "refresh_token", "refresh_token": value},
            auth=(client.client_id, secret),
        )

    post.refresh = refresh  # type: ignore[attr-defined]
    return post


def test_access_token_hook_adds_claims_with_a_read_only_context(
    token_request, m2m_client, signing_keys
):
    hooks.SEEN.clear()
    with with_hooks(ACCESS_TOKEN_CLAIMS="tests.claims.hooks.add_tenant"):
        response = cc(token_request, m2m_client)
    assert response.status_code == 200, response.json()
    claims = access_claims(response.json()["access_token"])
    assert claims["https://example.com/tenant"] == "acme"
    assert claims["https://example.com/grant"] == "client_credentials"
    assert claims["https://example.com/user"] is None
    seen_claims, context = hooks.SEEN[-1]
    assert seen_claims["sub"] == f"{m2m_client[0].client_id}@clients"
    assert context.client.client_id == m2m_client[0].client_id
    assert context.api.identifier == API
    assert context.scopes == ("read:things", "write:things")
    assert context.organization is None
    with pytest.raises(AttributeError):
        context.grant_type = "password"


def test_id_token_hook_adds_claims_to_the_id_token_only(password_grant):
    with with_hooks(ID_TOKEN_CLAIMS="tests.claims.hooks.add_tenant"):
        body = password_grant().json()
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["https://example.com/tenant"] == "acme"
    assert id_token["https://example.com/user"] == "dora"
    assert id_token["https://example.com/grant"] == "password"
    assert "https://example.com/tenant" not in access_claims(body["access_token"])


def test_registered_claims_cannot_be_overridden(token_request, m2m_client, signing_keys, caplog):
    with (
        caplog.at_level(logging.WARNING, "oauth_token.claims"),
        with_hooks(ACCESS_TOKEN_CLAIMS="tests.claims.hooks.override_registered"),
    ):
        response = cc(token_request, m2m_client)
    claims = access_claims(response.json()["access_token"])
    assert claims["sub"].endswith("@clients")
    assert claims["scope"] == "read:things write:things"
    assert "permissions" not in claims
    assert claims["ok"] is True
    ignored = [r for r in caplog.records if "registered claim" in r.getMessage()]
    assert {r.claim for r in ignored} == {"sub", "scope", "permissions"}


@pytest.mark.parametrize("hook", ["boom", "mutate", "not_json"])
def test_a_failing_hook_is_a_logged_server_error(
    token_request, m2m_client, signing_keys, caplog, hook
):
    with with_hooks(ACCESS_TOKEN_CLAIMS=f"tests.claims.hooks.{hook}"):
        response = cc(token_request, m2m_client)
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "database of tenants" not in response.content.decode()
    assert any(r.name == "oauth_token.claims" for r in caplog.records)


def test_a_failing_hook_consumes_no_refresh_token(password_grant):
    first = password_grant().json()
    with with_hooks(ACCESS_TOKEN_CLAIMS="tests.claims.hooks.boom"):
        failed = password_grant.refresh(first["refresh_token"])
    assert failed.status_code == 500 and failed.json()["error"] == "server_error"
    assert not RefreshToken.objects.filter(used_at__isnull=False).exists()
    again = password_grant.refresh(first["refresh_token"])
    assert again.status_code == 200, again.json()


def test_a_hook_returning_nothing_adds_nothing(token_request, m2m_client, signing_keys):
    with with_hooks(ACCESS_TOKEN_CLAIMS="tests.claims.hooks.empty"):
        response = cc(token_request, m2m_client)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["tests.claims.hooks.missing", "no.such.module.hook", "tests.claims.hooks.NOT_CALLABLE"]
)
@pytest.mark.parametrize("setting", ["ACCESS_TOKEN_CLAIMS", "ID_TOKEN_CLAIMS"])
def test_a_hook_path_that_does_not_import_is_a_check_error(setting, path):
    with with_hooks(**{setting: path}):
        errors = checks.run_checks(tags=["oauth_token"])
    found = [e for e in errors if e.id == "oauth_token.E031"]
    assert len(found) == 1 and setting in found[0].msg
