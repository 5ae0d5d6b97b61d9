"""The JWT bearer grant (RFC 7523 §2.1, §3)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from oauth_token.registry import keyring, provisioning
from tests.kit import hmac_signed_jwt, rsa_keypair, unsigned_jwt

from .trusted_idp import IDP, Idp, serve_jwks

pytestmark = pytest.mark.django_db

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API = "https://api.example.com"


@pytest.fixture
def idp() -> Idp:
    return Idp()


@pytest.fixture
def alice(db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def bearer_client(make_client: Any, api: Any, idp: Idp) -> tuple[str, str]:
    client, secret = make_client(
        name="Integration", grant_types=[GRANT], trusted_issuers=[idp.entry()]
    )
    provisioning.grant(client, api, ["read:things", "write:things"])
    return client.client_id, secret


@pytest.fixture
def exchange(token_request: Any, bearer_client: tuple[str, str], signing_keys: Any) -> Any:
    def post(assertion: str, auth: tuple[str, str] | None = None, **extra: str) -> Any:
        data = {"grant_type": GRANT, "assertion": assertion, "audience": API, **extra}
        return token_request(data, auth=auth or bearer_client)

    return post


def decode(token: str, audience: str = API) -> dict[str, Any]:
    alg, key = keyring.verification_key(jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=[alg], audience=audience)


def assert_invalid_grant(response: Any, fragment: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"
    assert fragment in response.json()["error_description"]


def test_assertion_for_a_user_gets_an_access_token_with_the_granted_scopes(
    exchange, idp, alice, bearer_client
):
    response = exchange(idp.sign())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read:things write:things"
    assert "refresh_token" not in body
    claims = decode(body["access_token"])
    assert claims["sub"] == str(alice.pk)
    assert claims["client_id"] == bearer_client[0]
    assert claims["scope"] == "read:things write:things"


def test_scope_narrows_within_the_grant(exchange, idp, alice):
    assert exchange(idp.sign(), scope="read:things").json()["scope"] == "read:things"
    response = exchange(idp.sign(), scope="delete:things")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_an_assertion_refused_for_its_scope_is_not_burnt(exchange, idp, alice):
    assertion = idp.sign()
    assert exchange(assertion, scope="delete:things").json()["error"] == "invalid_scope"
    assert exchange(assertion, scope="read:things").status_code == 200


@pytest.mark.parametrize(
    "aud",
    [
        "https://auth.example.test/",
        "https://auth.example.test",
        [API, "https://auth.example.test/oauth/token"],
    ],
)
def test_audience_may_name_the_issuer_or_the_token_endpoint(exchange, idp, alice, aud):
    assert exchange(idp.sign(aud=aud)).status_code == 200


def test_replayed_assertion_is_refused(exchange, idp, alice):
    assertion = idp.sign()
    assert exchange(assertion).status_code == 200
    assert_invalid_grant(exchange(assertion), "already been used")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"aud": "https://someone-else.example/"}, "audience"),
        ({"exp": -60}, "expired"),
        ({"exp": 7200}, "too far in the future"),
        ({"iat": 600}, "not yet valid"),
        ({"nbf": 600}, "not yet valid"),
        ({"jti": None}, "'jti'"),
        ({"sub": None}, "'sub'"),
        ({"aud": None}, "'aud'"),
        ({"iss": "https://stranger.example/"}, "not trusted"),
    ],
)
def test_assertion_claims_are_checked(exchange, idp, alice, overrides, fragment):
    import time

    now = int(time.time())
    relative = {"exp", "iat", "nbf"}
    claims = idp.claims(**{k: (now + v if k in relative else v) for k, v in overrides.items()})
    assert_invalid_grant(exchange(idp.sign(claims)), fragment)


def test_signature_must_be_the_trusted_issuers(exchange, idp, alice):
    impostor = Idp(key=rsa_keypair(kid=idp.key.kid))
    assert_invalid_grant(exchange(impostor.sign()), "signature")


def test_none_and_hmac_algorithms_are_refused(exchange, idp, alice):
    claims = idp.claims()
    assert_invalid_grant(exchange(unsigned_jwt({"alg": "none", "typ": "JWT"}, claims)), "algorithm")
    hs = hmac_signed_jwt({"alg": "HS256", "kid": idp.key.kid}, claims, b"guess")
    assert_invalid_grant(exchange(hs), "algorithm")


def test_issuer_trusted_by_another_client_only_is_refused(
    exchange, make_client, api, alice, signing_keys
):
    other_idp = Idp(issuer="https://other-idp.example/")
    make_client(name="Other", grant_types=[GRANT], trusted_issuers=[other_idp.entry()])
    assert_invalid_grant(exchange(other_idp.sign()), "not trusted")


def test_unknown_or_inactive_subject_is_invalid_grant(exchange, idp, alice):
    assert_invalid_grant(exchange(idp.sign(sub="nobody")), "not a known, active user")
    alice.is_active = False
    alice.save()
    assert_invalid_grant(exchange(idp.sign()), "not a known, active user")


def test_subject_mapping_is_a_setting(exchange, idp, alice, settings):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "EXTERNAL_USER_LOOKUP": "tests.grants.test_jwt_bearer.user_by_email",
    }
    response = exchange(idp.sign(sub="external-42", email="alice@example.com"))
    assert response.status_code == 200, response.content
    assert decode(response.json()["access_token"])["sub"] == str(alice.pk)


def user_by_email(issuer: str, sub: str, claims: dict[str, Any]) -> Any:
    assert issuer == IDP
    return get_user_model().objects.filter(email=claims.get("email")).first()


def test_missing_assertion_is_invalid_request(token_request, bearer_client, signing_keys):
    response = token_request({"grant_type": GRANT, "audience": API}, auth=bearer_client)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: assertion.",
    }


def test_garbage_assertion_is_invalid_grant(exchange, alice):
    assert_invalid_grant(exchange("not-a-jwt"), "The assertion is invalid")


def test_client_needs_the_grant_type(token_request, make_client, idp, alice, signing_keys, api):
    client, secret = make_client(name="M2M", trusted_issuers=[idp.entry()])
    response = token_request(
        {"grant_type": GRANT, "assertion": idp.sign(), "audience": API},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_client_needs_a_grant_for_the_api(exchange, idp, alice):
    provisioning.create_api(identifier="https://other.example.com", name="Other", scopes=["x"])
    response = exchange(idp.sign(), audience="https://other.example.com")
    assert response.status_code == 400
    assert response.json()["error"] == "access_denied"


def test_unknown_audience_is_invalid_target(exchange, idp, alice):
    response = exchange(idp.sign(), audience="https://nope.example.com")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_keys_can_come_from_the_issuers_jwks_uri(
    token_request, make_client, api, idp, alice, signing_keys
):
    with serve_jwks(idp.jwks) as (uri, hits):
        client, secret = make_client(
            name="Remote keys",
            grant_types=[GRANT],
            trusted_issuers=[
                {"issuer": idp.issuer, "jwks_uri": uri, "subject_mapping": "username"}
            ],
        )
        provisioning.grant(client, api, ["read:things"])
        for _ in range(2):
            response = token_request(
                {"grant_type": GRANT, "assertion": idp.sign(), "audience": API},
                auth=(client.client_id, secret),
            )
            assert response.status_code == 200, response.content
        assert hits == ["/jwks.json"]  # fetched once, then cached


def test_discovery_lists_the_grant(api_client, signing_keys):
    metadata = api_client.get("/.well-known/openid-configuration").json()
    assert GRANT in metadata["grant_types_supported"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("https://idp.example/", "must be a list"),
        ([{"jwks_uri": "https://idp.example/jwks"}], "'issuer'"),
        ([{"issuer": "https://idp.example/"}], "exactly one of"),
        ([{"issuer": "https://idp.example/", "jwks_uri": "ftp://x"}], "http(s) URL"),
        ([{"issuer": "https://i/", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}], "public"),
        (
            [{"issuer": "https://i/", "jwks_uri": "https://i/j", "algorithms": ["HS256"]}],
            "not allowed",
        ),
        ([{"issuer": "https://i/", "jwks_uri": "https://i/j", "color": "red"}], "unknown member"),
    ],
)
def test_malformed_trusted_issuers_are_refused_when_saving(make_client, entries, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_client(name="Bad", grant_types=[GRANT], trusted_issuers=entries)
