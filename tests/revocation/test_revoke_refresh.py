"""POST /oauth/revoke (RFC 7009 §2.1) for refresh tokens: the whole family goes."""

from __future__ import annotations

import jwt
import pytest

from oauth_token.models import RefreshTokenFamily
from oauth_token.tokens.revocation import is_revoked

pytestmark = pytest.mark.django_db


def jti_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def refresh(token_request, auth, refresh_token):
    return token_request({"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=auth)


def test_revoked_refresh_token_fails_at_the_token_endpoint(
    post_form, offline_login, app, token_request
):
    tokens = offline_login(app)
    response = post_form(
        "/oauth/revoke",
        {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=app,
    )
    assert response.status_code == 200
    assert response.content == b""
    family = RefreshTokenFamily.objects.get()
    assert family.revoked_at is not None
    refused = refresh(token_request, app, tokens["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_denylists_the_familys_access_tokens(
    post_form, offline_login, app, token_request
):
    tokens = offline_login(app)
    rotated = refresh(token_request, app, tokens["refresh_token"]).json()
    assert (
        post_form("/oauth/revoke", {"token": rotated["refresh_token"]}, auth=app).status_code == 200
    )
    assert is_revoked(jti_of(tokens["access_token"]))
    assert is_revoked(jti_of(rotated["access_token"]))


def test_wrong_hint_still_finds_the_refresh_token(post_form, offline_login, app):
    tokens = offline_login(app)
    response = post_form(
        "/oauth/revoke",
        {"token": tokens["refresh_token"], "token_type_hint": "access_token"},
        auth=app,
    )
    assert response.status_code == 200
    assert RefreshTokenFamily.objects.get().revoked_at is not None


def test_revoking_an_access_token_leaves_the_refresh_token_usable(
    post_form, offline_login, app, token_request
):
    tokens = offline_login(app)
    assert (
        post_form("/oauth/revoke", {"token": tokens["access_token"]}, auth=app).status_code == 200
    )
    assert is_revoked(jti_of(tokens["access_token"]))
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert refresh(token_request, app, tokens["refresh_token"]).status_code == 200


def test_refresh_token_of_another_client_is_refused_and_keeps_working(
    post_form, offline_login, app, other_app, token_request
):
    tokens = offline_login(other_app)
    response = post_form("/oauth/revoke", {"token": tokens["refresh_token"]}, auth=app)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert refresh(token_request, other_app, tokens["refresh_token"]).status_code == 200


def test_used_refresh_token_revokes_its_family_too(post_form, offline_login, app, token_request):
    tokens = offline_login(app)
    rotated = refresh(token_request, app, tokens["refresh_token"]).json()
    # The consumed parent still belongs to the family: revoking it ends the successor too.
    assert (
        post_form("/oauth/revoke", {"token": tokens["refresh_token"]}, auth=app).status_code == 200
    )
    assert refresh(token_request, app, rotated["refresh_token"]).json()["error"] == "invalid_grant"
