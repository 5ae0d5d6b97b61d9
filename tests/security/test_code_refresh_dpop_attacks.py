"""Attacks on authorization codes, redirect URIs, refresh tokens and DPoP proofs.

RFC 9700 §2.1 (PKCE, code injection), §4.1 (redirect URI validation: exact match), §4.5
(authorization code injection), §4.14 (refresh token protection); RFC 6749 §4.1.2, §4.1.3,
§6, §10.5, §10.6; RFC 6819 §4.4.1.1, §5.2.4.4; RFC 7636 §4.6; RFC 9449 §4.3, §11.1, §11.4.
Each case asserts status, error code and (where a refusal must change nothing) the database.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oauth_token.models import AuthorizationCode, RefreshTokenFamily, RevokedAccessToken
from oauth_token.registry import provisioning
from tests import kit
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK, pkce_pair

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def _post(api_client, path, data, client=None, secret=None, **headers):
    if client is not None:
        headers["HTTP_AUTHORIZATION"] = kit.basic(client.client_id, secret)
    return api_client.generic("POST", path, urlencode(data), content_type=FORM, **headers)


def _redeem(api_client, client, secret, code, verifier, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    return _post(api_client, "/oauth/token", data, client, secret)


@pytest.fixture
def app(signing_keys, first_party_app, offline_api):
    return first_party_app


@pytest.fixture
def code(app, obtain_code):
    client, _ = app
    return obtain_code(client, scope="openid offline_access read:things", audience=API)


@pytest.fixture
def other_app(db):
    created = provisioning.create_client(
        name="Other app",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
        first_party=True,
    )
    return created.client, created.secret


# --- authorization codes -----------------------------------------------------------------


def test_code_replay_is_refused_and_revokes_what_the_code_produced(api_client, app, code):
    client, secret = app
    value, verifier = code
    first = _redeem(api_client, client, secret, value, verifier)
    assert first.status_code == 200
    replay = _redeem(api_client, client, secret, value, verifier)
    kit.assert_oauth_error(replay, 400, "invalid_grant")
    import jwt

    jti = jwt.decode(first.json()["access_token"], options={"verify_signature": False})["jti"]
    assert RevokedAccessToken.objects.filter(jti=jti).exists()
    assert RefreshTokenFamily.objects.get(client=client).revoked_at is not None


def test_code_issued_to_one_client_is_refused_to_another(
    api_client, app, other_app, code, unchanged
):
    client, _secret = app
    other, other_secret = other_app
    value, verifier = code
    unchanged()
    kit.assert_oauth_error(
        _redeem(api_client, other, other_secret, value, verifier), 400, "invalid_grant"
    )
    assert AuthorizationCode.objects.get(client=client).used_at is None


def test_pkce_downgrade_verifier_missing_is_refused(api_client, app, code, unchanged):
    client, secret = app
    value, _ = code
    unchanged()
    response = _redeem(api_client, client, secret, value, None)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


def test_pkce_wrong_verifier_is_refused(api_client, app, code, unchanged):
    client, secret = app
    value, _ = code
    other_verifier, _ = pkce_pair()
    unchanged()
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, value, other_verifier), 400, "invalid_grant"
    )


def test_verifier_for_a_code_issued_without_challenge_is_refused(
    api_client, app, obtain_code, unchanged
):
    """RFC 9700 §2.1.1: a verifier where no challenge was sent signals code injection."""
    client, secret = app
    value, _ = obtain_code(client, pkce=False, scope="read:things", audience=API)
    verifier, _ = pkce_pair()
    unchanged()
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, value, verifier), 400, "invalid_grant"
    )


def test_redirect_uri_differing_from_the_authorization_request_is_refused(
    api_client, app, code, unchanged
):
    client, secret = app
    value, verifier = code
    unchanged()
    response = _redeem(
        api_client, client, secret, value, verifier, redirect_uri="https://app.example.com/other"
    )
    kit.assert_oauth_error(response, 400, "invalid_grant")


def test_expired_code_is_refused(api_client, app, code):
    client, secret = app
    value, verifier = code
    from datetime import timedelta

    from django.utils import timezone

    AuthorizationCode.objects.filter(client=client).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, value, verifier), 400, "invalid_grant"
    )
    assert AuthorizationCode.objects.get(client=client).used_at is None


def test_unknown_code_is_refused(api_client, app, unchanged):
    client, secret = app
    unchanged()
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, "made-up-code", "v" * 43), 400, "invalid_grant"
    )


# --- redirect URIs (checked at the PAR endpoint, which answers in JSON) ---------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example.com/callback.evil.example",
        "https://app.example.com/callbackx",
        "https://app.example.com/callback/../evil",
        "https://app.example.com/callback?next=https://evil.example",
        "https://app.example.com/callback#fragment",
        "https://evil.example@app.example.com/callback",
        "https://app.example.com.evil.example/callback",
        "http://app.example.com/callback",
        "https://APP.example.com/callback",
        "https://app.example.com/callback%00",
        "https://app.example.com/Callback",
        "https://app.example.com:443/callback",
    ],
    ids=[
        "suffix-domain",
        "path-suffix",
        "dot-segments",
        "extra-query",
        "fragment",
        "userinfo",
        "host-suffix",
        "scheme-downgrade",
        "host-case",
        "encoded-nul",
        "path-case",
        "explicit-port",
    ],
)
def test_redirect_uri_must_match_exactly(api_client, app, unchanged, redirect_uri):
    """RFC 9700 §4.1.3: exact string comparison, no pattern or prefix matching."""
    client, secret = app
    _, good_challenge = pkce_pair()
    control = _post(
        api_client,
        "/oauth/par",
        {
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "read:things",
            "audience": API,
            "code_challenge": good_challenge,
            "code_challenge_method": "S256",
        },
        client,
        secret,
    )
    assert control.status_code == 201, control.content
    _, challenge = pkce_pair()
    unchanged()
    response = _post(
        api_client,
        "/oauth/par",
        {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "read:things",
            "audience": API,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        client,
        secret,
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_plain_pkce_method_is_refused(api_client, app, unchanged):
    client, secret = app
    unchanged()
    response = _post(
        api_client,
        "/oauth/par",
        {
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "code_challenge": "a" * 43,
            "code_challenge_method": "plain",
            "scope": "read:things",
            "audience": API,
        },
        client,
        secret,
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_implicit_response_type_is_refused(api_client, app, unchanged):
    """RFC 9700 §2.1.2: the implicit grant is not offered."""
    client, secret = app
    unchanged()
    response = _post(
        api_client,
        "/oauth/par",
        {"response_type": "token", "redirect_uri": CALLBACK},
        client,
        secret,
    )
    kit.assert_oauth_error(response, 400, "unsupported_response_type")


# --- refresh tokens ----------------------------------------------------------------------


@pytest.fixture
def refresh_token(api_client, app, code):
    client, secret = app
    value, verifier = code
    return _redeem(api_client, client, secret, value, verifier).json()["refresh_token"]


def _refresh(api_client, client, secret, token, **extra):
    return _post(
        api_client,
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": token, **extra},
        client,
        secret,
    )


def test_refresh_token_of_one_client_is_refused_to_another(
    api_client, app, other_app, refresh_token
):
    _client, _secret = app
    other, other_secret = other_app
    kit.assert_oauth_error(
        _refresh(api_client, other, other_secret, refresh_token), 400, "invalid_grant"
    )
    assert RefreshTokenFamily.objects.filter(client=other).count() == 0


def test_refresh_scope_escalation_is_invalid_scope(api_client, app, refresh_token):
    client, secret = app
    response = _refresh(api_client, client, secret, refresh_token, scope="read:things write:things")
    kit.assert_oauth_error(response, 400, "invalid_scope")
    assert _refresh(api_client, client, secret, refresh_token).status_code == 200


def test_revoked_refresh_token_is_refused(api_client, app, refresh_token):
    client, secret = app
    revoke = _post(api_client, "/oauth/revoke", {"token": refresh_token}, client, secret)
    assert revoke.status_code == 200
    kit.assert_oauth_error(
        _refresh(api_client, client, secret, refresh_token), 400, "invalid_grant"
    )


def test_unknown_refresh_token_is_refused(api_client, app, unchanged):
    client, secret = app
    unchanged()
    kit.assert_oauth_error(_refresh(api_client, client, secret, "x" * 43), 400, "invalid_grant")


# --- DPoP proofs at the token endpoint ---------------------------------------------------


@pytest.fixture
def m2m(signing_keys, api):
    return kit.secret_client(api)


def _with_proof(api_client, m2m, proof):
    client, secret = m2m
    return _post(
        api_client,
        "/oauth/token",
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        client,
        secret,
        HTTP_DPOP=proof,
    )


def test_valid_dpop_proof_for_reference(api_client, m2m):
    proof, _ = kit.dpop_proof()
    response = _with_proof(api_client, m2m, proof)
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"


def test_dpop_proof_carrying_private_key_parts_is_refused(api_client, m2m, unchanged):
    key = ec.generate_private_key(ec.SECP256R1())
    from jwt.algorithms import ECAlgorithm

    private_jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    assert "d" in private_jwk
    proof, _ = kit.dpop_proof(key, header_overrides={"jwk": private_jwk})
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_with_alg_none_is_refused(api_client, m2m, unchanged):
    key = ec.generate_private_key(ec.SECP256R1())
    from jwt.algorithms import ECAlgorithm

    proof = kit.unsigned_jwt(
        {
            "typ": "dpop+jwt",
            "alg": "none",
            "jwk": ECAlgorithm.to_jwk(key.public_key(), as_dict=True),
        },
        {"jti": "n1", "htm": "POST", "htu": kit.TOKEN_ENDPOINT, "iat": int(time.time())},
    )
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_with_hmac_is_refused(api_client, m2m, unchanged):
    proof = kit.hmac_signed_jwt(
        {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}},
        {"jti": "h1", "htm": "POST", "htu": kit.TOKEN_ENDPOINT, "iat": int(time.time())},
        b"secret",
    )
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_for_another_method_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(htm="GET")
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_for_another_uri_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(htu="https://evil.example/oauth/token")
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_stale_dpop_proof_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(iat=int(time.time()) - 3600)
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_from_the_future_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(iat=int(time.time()) + 3600)
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_reused_dpop_proof_is_refused(api_client, m2m):
    proof, _ = kit.dpop_proof()
    assert _with_proof(api_client, m2m, proof).status_code == 200
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_with_wrong_typ_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(header_overrides={"typ": "JWT"})
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_signed_by_another_key_than_its_jwk_is_refused(api_client, m2m, unchanged):
    from jwt.algorithms import ECAlgorithm

    other = ec.generate_private_key(ec.SECP256R1())
    proof, _ = kit.dpop_proof(
        header_overrides={"jwk": ECAlgorithm.to_jwk(other.public_key(), as_dict=True)}
    )
    unchanged()
    kit.assert_oauth_error(_with_proof(api_client, m2m, proof), 400, "invalid_dpop_proof")


def test_dpop_proof_without_jti_is_refused(api_client, m2m, unchanged):
    proof, _ = kit.dpop_proof(jti=None)
    unchanged()
    response = _with_proof(api_client, m2m, proof)
    kit.assert_oauth_error(response, 400, "invalid_dpop_proof")
