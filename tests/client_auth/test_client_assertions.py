"""client_secret_jwt and private_key_jwt (RFC 7523 §3, OIDC Core §9): every check an
assertion must pass, each failing on its own."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from oauth_token.core import jose
from oauth_token.models import Client
from oauth_token.registry import provisioning
from tests import kit
from tests.conftest import database_state
from tests.responses import assert_error, assert_invalid_client, assert_token

pytestmark = pytest.mark.django_db

ALL_ALGS = ["RS256", "PS256", "ES256", "EdDSA", "HS256"]


@pytest.fixture
def rs_client(make_jwt_client):
    return make_jwt_client("RS256")


@pytest.fixture
def hs_client(make_jwt_client):
    return make_jwt_client("HS256")


# --- positive ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_valid_assertion_authenticates(signing_keys, make_jwt_client, token_request, alg):
    jc = make_jwt_client(alg)
    body = assert_token(token_request(jc.params()))
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == jc.client_id
    assert claims["sub"] == f"{jc.client_id}@clients"


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_generated_secrets_are_long_enough_for_every_hmac_alg(
    signing_keys, make_jwt_client, token_request, alg
):
    """client_secret_jwt secrets are 512-bit, so HS512 keys meet RFC 7518 §3.2."""
    jc = make_jwt_client(alg)
    assert len(jc.key) >= 64
    assert_token(token_request(jc.params()))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_hmac_alg_longer_than_the_secret_is_refused(
    signing_keys, make_jwt_client, token_request, alg
):
    """RFC 7518 §3.2: an HMAC key MUST be at least as long as the hash output; a 43-byte
    secret (as clients created with 256-bit secrets have) is enough for HS256 only."""
    jc = make_jwt_client("HS256")
    short = secrets.token_urlsafe(32)
    provisioning._store_secret(jc.client, short)
    jc.client.save()
    jc.key, jc.alg = short.encode(), alg
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        assertion = jc.assertion()
    body = assert_invalid_client(token_request(jc.params(assertion)))
    assert "algorithm" in body["error_description"]


@pytest.mark.parametrize(
    "aud",
    [
        kit.ISSUER,
        kit.ISSUER.rstrip("/"),
        kit.TOKEN_ENDPOINT,
        [kit.TOKEN_ENDPOINT],
    ],
)
def test_audience_may_name_the_issuer_or_the_token_endpoint(
    signing_keys, rs_client, token_request, aud
):
    assert_token(token_request(rs_client.params(rs_client.assertion(aud=aud))))


def test_matching_client_id_in_the_body_is_accepted(signing_keys, rs_client, token_request):
    assert_token(token_request(rs_client.params(client_id=rs_client.client_id)))


def test_assertion_without_kid_uses_the_only_registered_key(
    signing_keys, make_jwt_client, token_request
):
    jc = make_jwt_client("ES256", kid=None)
    assert_token(token_request(jc.params()))


def test_assertion_in_a_json_body_authenticates(signing_keys, rs_client, token_request):
    assert_token(token_request(rs_client.params(), json=True))


# --- negative: lifetime ------------------------------------------------------------------


@pytest.mark.parametrize("jc_fixture", ["rs_client", "hs_client"])
def test_expired_assertion_is_refused(signing_keys, request, token_request, jc_fixture):
    jc = request.getfixturevalue(jc_fixture)
    now = int(time.time())
    response = token_request(jc.params(jc.assertion(iat=now - 600, exp=now - 120)))
    body = assert_invalid_client(response)
    assert "expired" in body["error_description"]


def test_assertion_living_longer_than_the_limit_is_refused(signing_keys, rs_client, token_request):
    """DESIGN: ``exp`` short — at most CLIENT_ASSERTION_MAX_LIFETIME (300 s) ahead."""
    now = int(time.time())
    response = token_request(rs_client.params(rs_client.assertion(exp=now + 3600)))
    assert_invalid_client(response)


def test_assertion_at_the_lifetime_limit_is_accepted(signing_keys, rs_client, token_request):
    now = int(time.time())
    assert_token(token_request(rs_client.params(rs_client.assertion(exp=now + 300))))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_assertion_not_yet_valid_is_refused(signing_keys, rs_client, token_request, claim):
    now = int(time.time())
    assertion = rs_client.assertion(**{claim: now + 120}, exp=now + 240)
    body = assert_invalid_client(token_request(rs_client.params(assertion)))
    assert "not yet valid" in body["error_description"] or "future" in body["error_description"]


def test_small_clock_skew_is_tolerated(signing_keys, rs_client, token_request):
    now = int(time.time())
    assert_token(token_request(rs_client.params(rs_client.assertion(iat=now + 10, nbf=now + 10))))


@pytest.mark.parametrize("claim", ["exp", "jti", "aud", "sub", "iss"])
def test_assertion_missing_a_required_claim_is_refused(
    signing_keys, rs_client, token_request, claim
):
    response = token_request(rs_client.params(rs_client.assertion(**{claim: kit.DROP})))
    assert_invalid_client(response)


# --- negative: identity and audience -----------------------------------------------------


@pytest.mark.parametrize(
    "aud",
    ["https://other.example/", "https://auth.example.test/oauth/revoke", "", ["https://x.example"]],
)
def test_foreign_audience_is_refused(signing_keys, rs_client, token_request, aud):
    body = assert_invalid_client(token_request(rs_client.params(rs_client.assertion(aud=aud))))
    assert "aud" in body["error_description"]


def test_sub_different_from_iss_is_refused(signing_keys, rs_client, token_request):
    assertion = rs_client.assertion(sub="someone-else")
    assert_invalid_client(token_request(rs_client.params(assertion)))


def test_assertion_for_another_client_signed_with_my_key_is_refused(
    signing_keys, make_jwt_client, token_request
):
    me, victim = make_jwt_client("RS256"), make_jwt_client("RS256")
    forged = kit.sign_assertion(victim.client_id, me.key, "RS256", kid=me.kid)
    assert_invalid_client(token_request(me.params(forged)))


def test_body_client_id_differing_from_the_assertion_is_invalid_request(
    signing_keys, rs_client, token_request
):
    assert_error(token_request(rs_client.params(client_id="someone-else")), "invalid_request")


def test_unknown_issuer_gets_the_generic_failure(signing_keys, rs_client, token_request):
    stranger = kit.sign_assertion("ghost-client", rs_client.key, "RS256", kid="key-1")
    body = assert_invalid_client(token_request(rs_client.params(stranger)))
    assert body["error_description"] == "Client authentication failed."


# --- negative: replay ----------------------------------------------------------------------


@pytest.mark.parametrize("jc_fixture", ["rs_client", "hs_client"])
def test_replayed_assertion_is_refused(signing_keys, request, token_request, jc_fixture):
    jc = request.getfixturevalue(jc_fixture)
    assertion = jc.assertion()
    assert_token(token_request(jc.params(assertion)))
    body = assert_invalid_client(token_request(jc.params(assertion)))
    assert "already been used" in body["error_description"]


def test_reused_jti_in_a_new_assertion_is_refused(signing_keys, rs_client, token_request):
    assert_token(token_request(rs_client.params(rs_client.assertion(jti="once"))))
    assert_invalid_client(token_request(rs_client.params(rs_client.assertion(jti="once"))))


def test_same_jti_from_two_clients_is_not_a_replay(signing_keys, make_jwt_client, token_request):
    a, b = make_jwt_client("RS256"), make_jwt_client("ES256")
    assert_token(token_request(a.params(a.assertion(jti="shared"))))
    assert_token(token_request(b.params(b.assertion(jti="shared"))))


def test_refused_assertion_does_not_burn_its_jti(signing_keys, rs_client, token_request):
    """Only a verified assertion marks its jti used; a forged one cannot block the client."""
    other_key = kit.generate_key("RS256")
    forged = kit.sign_assertion(
        rs_client.client_id, other_key, "RS256", kid="key-1", jti="precious"
    )
    assert_invalid_client(token_request(rs_client.params(forged)))
    assert_token(token_request(rs_client.params(rs_client.assertion(jti="precious"))))


@pytest.mark.parametrize("jti", [123, "", "x" * 257])
def test_invalid_jti_is_refused(signing_keys, rs_client, token_request, jti):
    assert_invalid_client(token_request(rs_client.params(rs_client.assertion(jti=jti))))


# --- negative: algorithms and keys ----------------------------------------------------------


def test_alg_none_is_refused(signing_keys, rs_client, token_request):
    unsigned = kit.unsigned_assertion(rs_client.client_id)
    body = assert_invalid_client(token_request(rs_client.params(unsigned)))
    assert "algorithm" in body["error_description"]


def test_hs256_signed_with_the_clients_public_key_is_refused(
    signing_keys, rs_client, token_request
):
    """The classic key-confusion attack: the public key (known to everyone) as an HMAC secret."""
    claims = jwt.decode(rs_client.assertion(), options={"verify_signature": False})
    for public in (
        rs_client.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(kit.public_jwk(rs_client.key, "key-1", "RS256")).encode(),
    ):
        claims["jti"] = secrets.token_urlsafe(8)
        forged = _hmac_jwt(claims, public, kid="key-1")
        body = assert_invalid_client(token_request(rs_client.params(forged)))
        assert "algorithm" in body["error_description"]


def _hmac_jwt(claims: dict, secret: bytes, kid: str) -> str:
    """HS256 by hand: PyJWT refuses a PEM public key as an HMAC secret; an attacker does not."""
    header = jose.b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = jose.b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{jose.b64url(signature)}"


def test_asymmetric_assertion_for_a_client_secret_jwt_client_is_refused(
    signing_keys, hs_client, token_request
):
    key = kit.generate_key("RS256")
    assertion = kit.sign_assertion(hs_client.client_id, key, "RS256")
    assert_invalid_client(token_request(hs_client.params(assertion)))


def test_client_secret_jwt_with_a_wrong_secret_is_refused(signing_keys, hs_client, token_request):
    assertion = kit.sign_assertion(hs_client.client_id, b"x" * 43, "HS256")
    body = assert_invalid_client(token_request(hs_client.params(assertion)))
    assert "signature" in body["error_description"]


def test_signature_by_an_unregistered_key_is_refused(signing_keys, rs_client, token_request):
    stranger_key = kit.generate_key("RS256")
    forged = kit.sign_assertion(rs_client.client_id, stranger_key, "RS256", kid="key-1")
    assert_invalid_client(token_request(rs_client.params(forged)))


def test_replaced_registered_key_applies_to_the_next_assertion(
    signing_keys, rs_client, token_request
):
    """The loaded key is remembered per snapshot of the client: once the client's JWK Set
    changes, the old key verifies nothing and the new one does, at once."""
    assert_token(token_request(rs_client.params()))
    old_key, new_key = rs_client.key, kit.generate_key("RS256")
    rs_client.client.jwks = {"keys": [kit.public_jwk(new_key, "key-1", "RS256")]}
    rs_client.client.save()
    assert_invalid_client(token_request(rs_client.params()))
    rs_client.key = new_key
    assert_token(token_request(rs_client.params()))
    assert old_key is not new_key


def test_remembered_key_serves_only_the_snapshot_it_was_loaded_from(signing_keys, rs_client):
    """A snapshot holding another JWK Set under the same client_id (a fresher copy) never
    gets the key remembered for the first one."""
    from dataclasses import replace

    from oauth_token.core import cache
    from oauth_token.registry import snapshots
    from oauth_token.token_endpoint.client_auth import _registered_key

    other = kit.generate_key("RS256")
    with cache.request_scope():
        first = snapshots.get_client(rs_client.client_id)
        assert first is not None
        remembered = _registered_key(first, "RS256", "key-1")
        assert _registered_key(first, "RS256", "key-1") is remembered
        fresher = replace(first, jwks={"keys": [kit.public_jwk(other, "key-1", "RS256")]})
        key = _registered_key(fresher, "RS256", "key-1")
    assert key.public_numbers() == other.public_key().public_numbers()
    assert remembered.public_numbers() == rs_client.key.public_key().public_numbers()


def test_unknown_kid_is_refused(signing_keys, rs_client, token_request):
    body = assert_invalid_client(
        token_request(rs_client.params(rs_client.assertion(headers={"kid": "other"})))
    )
    assert "No registered key" in body["error_description"]


def test_alg_the_registered_key_cannot_do_is_refused(signing_keys, make_jwt_client, token_request):
    """An RSA key registered for RS256 never verifies a PS256 signature."""
    jc = make_jwt_client("RS256")
    jc.alg = "PS256"
    assert_invalid_client(token_request(jc.params()))


def test_alg_removed_from_settings_is_refused(signing_keys, rs_client, token_request, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ASSERTION_ALGORITHMS": ["ES256"]}
    assert_invalid_client(token_request(rs_client.params()))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30."])
def test_malformed_assertion_is_invalid_client(signing_keys, rs_client, token_request, garbage):
    assert_invalid_client(token_request(rs_client.params(garbage)))


def test_wrong_assertion_type_is_invalid_request(signing_keys, rs_client, token_request):
    params = rs_client.params(client_assertion_type="urn:example:other")
    assert_error(token_request(params), "invalid_request")


def test_assertion_type_without_assertion_is_invalid_request(
    signing_keys, rs_client, token_request
):
    params = rs_client.params()
    del params["client_assertion"]
    assert_error(token_request(params), "invalid_request")


def test_private_key_jwt_client_may_not_use_a_secret(signing_keys, rs_client, token_request):
    response = token_request(
        {
            "grant_type": "client_credentials",
            "client_id": rs_client.client_id,
            "client_secret": "anything",
        }
    )
    assert_invalid_client(response)


def test_secret_basic_client_may_not_use_an_assertion(
    signing_keys, m2m_client, make_jwt_client, token_request
):
    client, secret = m2m_client
    assertion = kit.sign_assertion(client.client_id, secret.encode(), "HS256")
    assert_invalid_client(
        token_request(
            kit.assertion_params(
                assertion, grant_type="client_credentials", audience="https://api.example.com"
            )
        )
    )


def test_refused_assertion_changes_nothing_in_the_database(signing_keys, rs_client, token_request):
    before = database_state()
    assert_invalid_client(token_request(rs_client.params(rs_client.assertion(sub="x"))))
    assert database_state() == before


def test_deleted_client_assertions_stop_working(signing_keys, rs_client, token_request):
    assert_token(token_request(rs_client.params()))
    Client.objects.filter(pk=rs_client.client.pk).get().delete()
    assert_invalid_client(token_request(rs_client.params()))


def test_refused_assertions_are_never_echoed_or_logged(
    signing_keys, rs_client, token_request, caplog
):
    caplog.set_level("DEBUG")
    assertions_sent = [
        rs_client.assertion(aud="https://other.example/"),
        rs_client.assertion(sub="someone-else"),
        kit.unsigned_assertion(rs_client.client_id),
    ]
    for sent in assertions_sent:
        response = token_request(rs_client.params(sent))
        assert response.status_code == 401
        assert sent.split(".")[1] not in response.content.decode()
    for record in caplog.records:
        assert all(sent.split(".")[1] not in record.getMessage() for sent in assertions_sent)
