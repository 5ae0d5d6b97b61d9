"""AccessTokenAuthentication and the scope permissions (RFC 6750, RFC 9068 §4)."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from oauth_token.registry import keyring
from oauth_token.tokens import revocation
from tests.queries import assert_no_query_but_change_generation

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.resource_server.views")]


def get(api_client, path="/api/things", token=None, scheme="Bearer", method="get", **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"{scheme} {token}"
    return getattr(api_client, method)(path, **headers)


def assert_invalid_token(response, description: str, scheme: str = "Bearer") -> None:
    assert response.status_code == 401, response.content
    assert response.json() == {"error": "invalid_token", "error_description": description}
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith(f'{scheme} realm="oauth", error="invalid_token"')
    assert f'error_description="{description}"' in challenge


# --- accepted tokens -------------------------------------------------------------------------


def test_client_credentials_token_authenticates_a_client_principal(api_client, m2m_token):
    response = get(api_client, token=m2m_token)
    assert response.status_code == 200, response.content
    body = response.json()
    client_id = body["client_id"]
    assert body["sub"] == f"{client_id}@clients"
    assert body["scope"] == ["read:things", "write:things"]
    assert body["user"] == f"{client_id}@clients"
    assert body["user_pk"] is None
    assert body["is_authenticated"] is True
    assert body["scheme"] == "Bearer"


def test_user_token_authenticates_the_django_user(api_client, user, user_token):
    response = get(api_client, token=user_token(user))
    assert response.status_code == 200, response.content
    assert response.json()["user_pk"] == user.pk
    assert response.json()["sub"] == str(user.pk)
    assert response.json()["user"] == "alice"


def test_bearer_scheme_is_case_insensitive(api_client, m2m_token):
    assert get(api_client, token=m2m_token, scheme="bearer").status_code == 200


def test_audience_from_a_callable_view_attribute(api_client, m2m_token):
    assert get(api_client, "/api/callable", token=m2m_token).status_code == 200


def test_audience_from_settings(api_client, m2m_token, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "RESOURCE_SERVER_AUDIENCE": "https://x.test"}
    response = get(api_client, "/api/setting", token=m2m_token)
    assert_invalid_token(response, "The token audience is not accepted.")
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "RESOURCE_SERVER_AUDIENCE": ["https://x.test", "https://api.example.com"],
    }
    assert get(api_client, "/api/setting", token=m2m_token).status_code == 200


def test_no_audience_configured_is_an_operator_error(api_client, m2m_token):
    with pytest.raises(ImproperlyConfigured):
        get(api_client, "/api/setting", token=m2m_token)


def test_token_signed_by_a_previous_key_still_verifies(api_client, m2m_token):
    keyring.rotate("RS256")
    assert get(api_client, token=m2m_token).status_code == 200


def test_validation_makes_no_database_query(api_client, m2m_token):
    """Besides the change-generation read a process-local cache needs (none with Redis)."""
    get(api_client, token=m2m_token)  # warms the key-set cache
    with assert_no_query_but_change_generation():
        assert get(api_client, token=m2m_token).status_code == 200


# --- refused tokens ----------------------------------------------------------------------------


def test_no_credentials_is_401_with_both_challenges_and_no_error(api_client, signing_keys):
    response = get(api_client)
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="oauth", DPoP realm="oauth", algs="')
    assert "error=" not in challenge


def test_other_schemes_are_left_to_other_authenticators(api_client, signing_keys):
    response = get(api_client, token="dXNlcjpwdw==", scheme="Basic")
    assert response.status_code == 401
    assert "error=" not in response["WWW-Authenticate"]


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", "Bearer ab\u00e9c"])
def test_malformed_authorization_header(api_client, signing_keys, value):
    response = api_client.get("/api/things", HTTP_AUTHORIZATION=value)
    assert_invalid_token(response, "The Authorization header is malformed.")


def test_not_a_jwt(api_client, signing_keys):
    assert_invalid_token(get(api_client, token="abc.def"), "The access token is not a JWT.")


def test_id_token_typ_is_refused(api_client, forge):
    response = get(api_client, token=forge(typ="JWT"))
    assert_invalid_token(response, "The token is not an access token (typ must be at+jwt).")


def test_application_at_jwt_typ_is_accepted(api_client, forge):
    assert get(api_client, token=forge(typ="application/at+jwt")).status_code == 200


def test_unknown_kid_is_refused(api_client, forge):
    token = forge()
    header = jwt.get_unverified_header(token)
    _, key = keyring.signing_key("RS256")
    other = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        key,
        "RS256",
        headers={"kid": "nope", "typ": "at+jwt"},
    )
    assert header["kid"] != "nope"
    assert_invalid_token(get(api_client, token=other), "The token was not signed by a known key.")


def test_revoked_signing_key_is_refused(api_client, m2m_token):
    old = keyring.rotate("RS256").previous[0]
    keyring.revoke(old.kid)
    assert_invalid_token(
        get(api_client, token=m2m_token), "The token was not signed by a known key."
    )


def test_header_alg_different_from_the_keys_alg_is_refused(api_client, forge, signing_keys):
    claims = jwt.decode(forge(), options={"verify_signature": False})
    token = jwt.encode(
        claims, "x" * 32, "HS256", headers={"kid": signing_keys.current.kid, "typ": "at+jwt"}
    )
    assert_invalid_token(
        get(api_client, token=token), "The token algorithm does not match its key."
    )


def test_tampered_payload_is_refused(api_client, forge):
    head, _, sig = forge().split(".")
    other_payload = forge(scope="read:things write:things delete:things").split(".")[1]
    token = f"{head}.{other_payload}.{sig}"
    assert_invalid_token(get(api_client, token=token), "The token signature is invalid.")


def test_wrong_audience(api_client, forge):
    response = get(api_client, token=forge(aud="https://other.example.com"))
    assert_invalid_token(response, "The token audience is not accepted.")


def test_wrong_issuer(api_client, forge):
    response = get(api_client, token=forge(iss="https://evil.example.test/"))
    assert_invalid_token(response, "The token issuer is not accepted.")


def test_expired_beyond_leeway(api_client, forge):
    now = int(time.time())
    response = get(api_client, token=forge(iat=now - 700, exp=now - 31))
    assert_invalid_token(response, "The token has expired.")


def test_expired_within_leeway_is_accepted(api_client, forge):
    now = int(time.time())
    assert get(api_client, token=forge(iat=now - 700, exp=now - 5)).status_code == 200


def test_not_yet_valid(api_client, forge):
    response = get(api_client, token=forge(nbf=int(time.time()) + 120))
    assert_invalid_token(response, "The token is not yet valid.")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "client_id", "jti", "aud", "iss"])
def test_required_claim_missing(api_client, forge, claim):
    response = get(api_client, token=forge(drop=(claim,)))
    assert_invalid_token(response, f"The token lacks the {claim!r} claim.")


def test_client_subject_must_match_client_id(api_client, forge):
    response = get(api_client, token=forge(sub="otherclient@clients"))
    assert_invalid_token(response, "The token's subject does not match its client.")


def test_unknown_user_is_refused(api_client, forge):
    assert_invalid_token(
        get(api_client, token=forge(sub="999999")), "The token's user is unknown or inactive."
    )
    assert_invalid_token(
        get(api_client, token=forge(sub="not-a-pk")), "The token's user is unknown or inactive."
    )


def test_inactive_user_is_refused(api_client, user, user_token):
    token = user_token(user)
    user.is_active = False
    user.save()
    assert_invalid_token(get(api_client, token=token), "The token's user is unknown or inactive.")


def test_dpop_bound_token_presented_as_bearer_is_refused(api_client, user, user_token):
    token = user_token(user, jkt="0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
    response = get(api_client, token=token)
    assert_invalid_token(response, "This token is DPoP-bound; use the DPoP scheme with a proof.")


def test_revoked_token_refused_only_when_checking_revocation(api_client, m2m_token, settings):
    claims = jwt.decode(m2m_token, options={"verify_signature": False})
    revocation.revoke_access_tokens([(claims["jti"], timezone.now() + timedelta(hours=1))])
    assert get(api_client, token=m2m_token).status_code == 200
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "RESOURCE_SERVER_CHECK_REVOCATION": True}
    assert_invalid_token(get(api_client, token=m2m_token), "The access token has been revoked.")


def test_unrevoked_token_passes_revocation_check(api_client, m2m_token, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "RESOURCE_SERVER_CHECK_REVOCATION": True}
    assert get(api_client, token=m2m_token).status_code == 200


# --- scopes ----------------------------------------------------------------------------------


def test_missing_scope_is_403_insufficient_scope(api_client, user, user_token):
    token = user_token(user, scopes=("write:things",))
    response = get(api_client, token=token)
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks the scope(s): read:things.",
    }
    assert response["WWW-Authenticate"] == (
        'Bearer realm="oauth", error="insufficient_scope", '
        'error_description="The access token lacks the scope(s): read:things.", '
        'scope="read:things"'
    )


def test_required_scopes_per_method(api_client, m2m_token, user, user_token):
    assert get(api_client, "/api/per-method", token=m2m_token).status_code == 200
    assert get(api_client, "/api/per-method", token=m2m_token, method="post").status_code == 200
    read_only = user_token(user, scopes=("read:things",))
    assert get(api_client, "/api/per-method", token=read_only).status_code == 200
    response = get(api_client, "/api/per-method", token=read_only, method="post")
    assert response.status_code == 403
    assert 'scope="write:things"' in response["WWW-Authenticate"]


def test_has_scope_factory_requires_every_scope(api_client, m2m_token, user, user_token):
    response = get(api_client, "/api/factory", token=m2m_token)
    assert response.status_code == 403
    assert response.json()["error_description"] == (
        "The access token lacks the scope(s): delete:things."
    )
    assert 'scope="read:things delete:things"' in response["WWW-Authenticate"]
    both = user_token(user, scopes=("read:things", "delete:things"))
    assert get(api_client, "/api/factory", token=both).status_code == 200


def test_has_scope_needs_a_scope():
    from oauth_token.permissions import HasScope

    with pytest.raises(ValueError):
        HasScope()


def test_out_of_range_subject_is_an_unknown_user(api_client, forge):
    response = get(api_client, token=forge(sub="9" * 30))
    assert_invalid_token(response, "The token's user is unknown or inactive.")
