"""Attacks on JWT client authentication (``private_key_jwt``, ``client_secret_jwt``).

RFC 7523 §3 (assertion processing rules), RFC 8725 §2.1-§2.8 and §3.1-§3.10 (JWT best current
practices: algorithm confusion, ``none``, header-supplied keys), RFC 9700 §2.5, RFC 6819
§5.2.3.7. Every refused assertion is 401 ``invalid_client`` (or 400 ``invalid_request`` for a
malformed request) and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization

from oauth_token.registry import provisioning
from tests import kit
from tests.stub_server import LocalSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim(signing_keys, api):
    return kit.pkjwt_client(api, name="Victim")


@pytest.fixture
def hmac_client(signing_keys, api):
    return kit.secret_jwt_client(api)


@pytest.fixture
def attacker_site() -> Iterator[tuple[str, LocalSite, kit.KeyPair]]:
    """An attacker-controlled HTTP server on 127.0.0.1 publishing the attacker's JWKS and
    recording every request it receives: yields (base URL, the site, the attacker's key)."""
    attacker = kit.rsa_keypair("attacker-key")
    with LocalSite({"keys": [attacker.jwk]}) as site:
        yield site.base, site, attacker


def _refused(
    token_request, assertion: str, status: int = 401, error: str = "invalid_client", **extra: str
):
    response = token_request(kit.assertion_form(assertion, **extra))
    return kit.assert_oauth_error(response, status, error)


def _pem(key: kit.KeyPair) -> bytes:
    return key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- algorithms --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(victim, token_request, unchanged, alg):
    client, key = victim
    unchanged()
    forged = kit.unsigned_jwt({"alg": alg, "kid": key.kid}, kit.assertion_claims(client.client_id))
    _refused(token_request, forged)


def test_hs256_signed_with_the_clients_public_key_pem_is_refused(victim, token_request, unchanged):
    """RFC 8725 §2.1: the classic key-confusion attack, verifying HMAC with a public key."""
    client, key = victim
    unchanged()
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    forged = kit.hmac_signed_jwt(header, kit.assertion_claims(client.client_id), _pem(key))
    _refused(token_request, forged)


def test_hs256_signed_with_the_clients_public_jwk_json_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    forged = kit.hmac_signed_jwt(
        {"alg": "HS256", "kid": key.kid},
        kit.assertion_claims(client.client_id),
        json.dumps(key.jwk).encode(),
    )
    _refused(token_request, forged)


def test_hs256_signed_with_a_servers_public_signing_key_is_refused(
    victim, signing_keys, token_request, unchanged
):
    client, _ = victim
    unchanged()
    jwk = signing_keys.current.public_jwk
    forged = kit.hmac_signed_jwt(
        {"alg": "HS256", "kid": jwk["kid"]},
        kit.assertion_claims(client.client_id),
        json.dumps(jwk).encode(),
    )
    _refused(token_request, forged)


def test_rs256_assertion_for_a_client_secret_jwt_client_is_refused(
    hmac_client, token_request, unchanged
):
    client, _ = hmac_client
    attacker = kit.rsa_keypair()
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, attacker))


def test_algorithm_not_matching_the_registered_key_is_refused(
    signing_keys, api, token_request, unchanged
):
    """An EC key is registered; an RS256 assertion naming its kid cannot verify against it."""
    client, _ec_key = kit.pkjwt_client(api, key=kit.ec_keypair("ec-key"))
    attacker = kit.rsa_keypair("ec-key")
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, attacker))


def test_disallowed_algorithm_is_refused(victim, token_request, settings, unchanged):
    client, key = victim
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ASSERTION_ALGORITHMS": ["ES256"]}
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key))


# --- keys named by the attacker -----------------------------------------------------------


def test_kid_pointing_to_another_clients_key_is_refused(victim, api, token_request, unchanged):
    """The attacker registers its own client and key, then names that kid while claiming to
    be the victim: keys are looked up only among the victim's registered keys."""
    client, _ = victim
    _, attacker_key = kit.pkjwt_client(api, name="Attacker")
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, attacker_key))


def test_kid_naming_the_servers_signing_key_is_refused(
    victim, signing_keys, token_request, unchanged
):
    client, _ = victim
    attacker = kit.rsa_keypair(signing_keys.current.kid)
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, attacker))


def test_unknown_kid_is_refused(victim, token_request, unchanged):
    client, _ = victim
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, kit.rsa_keypair("nope")))


def test_victims_kid_with_attackers_signature_is_refused(victim, token_request, unchanged):
    client, key = victim
    attacker = kit.rsa_keypair(key.kid)
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, attacker))


def test_jku_header_is_ignored_and_never_fetched(victim, attacker_site, token_request, unchanged):
    """RFC 8725 §3.10 / RFC 9700 §4.x: keys come from registration, never from the token."""
    client, _ = victim
    site, handler, attacker = attacker_site
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id, attacker, headers={"jku": f"{site}/jwks.json"}
    )
    _refused(token_request, forged)
    assert handler.paths == []


def test_x5u_header_is_ignored_and_never_fetched(victim, attacker_site, token_request, unchanged):
    client, _ = victim
    site, handler, attacker = attacker_site
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id, attacker, headers={"x5u": f"{site}/cert.pem"}
    )
    _refused(token_request, forged)
    assert handler.paths == []


def test_embedded_jwk_header_is_ignored(victim, token_request, unchanged):
    client, _ = victim
    attacker = kit.rsa_keypair()
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id, attacker, headers={"jwk": attacker.jwk, "kid": attacker.kid}
    )
    _refused(token_request, forged)


def test_embedded_x5c_header_is_ignored(victim, token_request, unchanged):
    client, _ = victim
    attacker = kit.rsa_keypair()
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id, attacker, headers={"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]}
    )
    _refused(token_request, forged)


def test_registered_jwks_uri_client_does_not_follow_jku(
    signing_keys, api, attacker_site, token_request, unchanged
):
    """Even a client whose keys live at a jwks_uri is verified against that URI only."""
    site, handler, attacker = attacker_site
    legit = kit.rsa_keypair("legit")
    handler.jwks = {"keys": [legit.jwk]}
    created = provisioning.create_client(
        name="Remote keys",
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks_uri=f"{site}/registered.json",
    )
    provisioning.grant(created.client, api, ["read:things"])
    unchanged()
    forged = kit.private_key_assertion(
        created.client.client_id, attacker, headers={"jku": f"{site}/evil.json"}
    )
    _refused(token_request, forged)
    assert "/evil.json" not in handler.paths


# --- claims ------------------------------------------------------------------------------


def test_expired_assertion_is_refused(victim, token_request, unchanged):
    client, key = victim
    now = int(time.time())
    unchanged()
    _refused(
        token_request,
        kit.private_key_assertion(client.client_id, key, iat=now - 600, exp=now - 300),
    )


def test_not_yet_valid_assertion_is_refused(victim, token_request, unchanged):
    client, key = victim
    now = int(time.time())
    unchanged()
    _refused(
        token_request,
        kit.private_key_assertion(client.client_id, key, nbf=now + 600, exp=now + 900),
    )


def test_assertion_issued_in_the_future_is_refused(victim, token_request, unchanged):
    client, key = victim
    now = int(time.time())
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, iat=now + 600))


def test_assertion_for_another_server_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    _refused(
        token_request,
        kit.private_key_assertion(
            client.client_id, key, aud="https://other-idp.example/oauth/token"
        ),
    )


def test_assertion_addressed_to_the_resource_server_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, aud=kit.AUDIENCE))


def test_assertion_aud_following_a_forged_host_header_is_refused(victim, token_request, unchanged):
    """The audience is compared with the configured issuer, not the request's Host."""
    client, key = victim
    unchanged()
    forged = kit.private_key_assertion(client.client_id, key, aud="http://evil.example/oauth/token")
    response = token_request(kit.assertion_form(forged), HTTP_HOST="evil.example")
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_iss_different_from_sub_is_refused(victim, api, token_request, unchanged):
    client, key = victim
    other, _ = kit.pkjwt_client(api, name="Other")
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, sub=other.client_id))


def test_sub_naming_another_client_is_refused(victim, api, token_request, unchanged):
    client, key = victim
    other, _ = kit.pkjwt_client(api, name="Other")
    unchanged()
    forged = kit.private_key_assertion(other.client_id, key, sub=client.client_id)
    _refused(token_request, forged)


@pytest.mark.parametrize("claim", ["exp", "jti", "aud", "sub", "iss"])
def test_assertion_missing_a_required_claim_is_refused(victim, token_request, unchanged, claim):
    client, key = victim
    unchanged()
    kwargs = {claim: None}
    response = token_request(
        kit.assertion_form(
            kit.private_key_assertion(client.client_id, key, **kwargs),
            **({"client_id": client.client_id} if claim == "iss" else {}),
        )
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_assertion_lifetime_too_long_is_refused(victim, token_request, unchanged):
    """RFC 7523 §3 item 4 allows limiting lifetime; a long-lived assertion is a long replay
    window."""
    client, key = victim
    now = int(time.time())
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, exp=now + 3600))


def test_exp_as_string_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    _refused(
        token_request,
        kit.private_key_assertion(client.client_id, key, exp=str(int(time.time()) + 60)),
    )


def test_overlong_jti_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, jti="j" * 1000))


def test_non_string_jti_is_refused(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    _refused(token_request, kit.private_key_assertion(client.client_id, key, jti=12345))


def test_nul_byte_in_iss_is_refused_not_500(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id, key, iss=client.client_id + "\x00", sub=client.client_id + "\x00"
    )
    _refused(token_request, forged)


# --- replay ------------------------------------------------------------------------------


def test_replayed_private_key_jwt_assertion_is_refused(victim, token_request):
    client, key = victim
    assertion = kit.private_key_assertion(client.client_id, key)
    assert token_request(kit.assertion_form(assertion)).status_code == 200
    body = _refused(token_request, assertion)
    assert "already been used" in body["error_description"]


def test_replayed_client_secret_jwt_assertion_is_refused(hmac_client, token_request):
    client, secret = hmac_client
    assertion = kit.secret_assertion(client.client_id, secret)
    assert token_request(kit.assertion_form(assertion)).status_code == 200
    _refused(token_request, assertion)


def test_same_jti_in_a_fresh_assertion_is_refused(victim, token_request):
    """Replay detection keys on the jti, not on the assertion's bytes."""
    client, key = victim
    first = kit.private_key_assertion(client.client_id, key, jti="fixed-jti")
    assert token_request(kit.assertion_form(first)).status_code == 200
    second = kit.private_key_assertion(
        client.client_id, key, jti="fixed-jti", exp=int(time.time()) + 90
    )
    _refused(token_request, second)


def test_assertion_refused_for_a_bad_signature_does_not_burn_its_jti(victim, token_request):
    """An attacker who saw a jti cannot block the legitimate client by sending a forgery with
    that jti first: only verified assertions record their jti."""
    client, key = victim
    forged = kit.private_key_assertion(client.client_id, kit.rsa_keypair(key.kid), jti="j-1")
    _refused(token_request, forged)
    genuine = kit.private_key_assertion(client.client_id, key, jti="j-1")
    assert token_request(kit.assertion_form(genuine)).status_code == 200


# --- shape -------------------------------------------------------------------------------


def test_tampered_payload_is_refused(victim, token_request, unchanged):
    client, key = victim
    header, _, signature = kit.private_key_assertion(client.client_id, key).split(".")
    other = kit.unsigned_jwt({}, kit.assertion_claims(client.client_id, exp=int(time.time()) + 120))
    unchanged()
    _refused(token_request, f"{header}.{other.split('.')[1]}.{signature}")


def test_stripped_signature_is_refused(victim, token_request, unchanged):
    client, key = victim
    header, payload, _ = kit.private_key_assertion(client.client_id, key).split(".")
    unchanged()
    _refused(token_request, f"{header}.{payload}.")


def test_garbage_assertion_is_refused(victim, token_request, unchanged):
    client, _ = victim
    unchanged()
    _refused(token_request, "not.a.jwt", client_id=client.client_id)


def test_jwe_shaped_assertion_is_refused(victim, token_request, unchanged):
    client, _ = victim
    unchanged()
    response = token_request(
        kit.assertion_form("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", client_id=client.client_id)
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_unknown_critical_header_is_refused(victim, token_request, unchanged):
    """RFC 7515 §4.1.11: a ``crit`` extension the server does not understand invalidates the
    JWS."""
    client, key = victim
    unchanged()
    forged = kit.private_key_assertion(
        client.client_id,
        key,
        headers={"crit": ["urn:example:must-understand"], "urn:example:must-understand": True},
    )
    _refused(token_request, forged)


def test_wrong_client_assertion_type_is_invalid_request(victim, token_request, unchanged):
    client, key = victim
    unchanged()
    response = token_request(
        kit.assertion_form(
            kit.private_key_assertion(client.client_id, key),
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        )
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_client_id_contradicting_the_assertion_is_invalid_request(
    victim, api, token_request, unchanged
):
    client, key = victim
    other, _ = kit.pkjwt_client(api, name="Other")
    unchanged()
    response = token_request(
        kit.assertion_form(
            kit.private_key_assertion(client.client_id, key), client_id=other.client_id
        )
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_hs256_with_a_wrong_secret_is_refused(hmac_client, token_request, unchanged):
    client, secret = hmac_client
    unchanged()
    _refused(token_request, kit.secret_assertion(client.client_id, secret + "x"))


def test_client_secret_jwt_with_expired_assertion_is_refused(hmac_client, token_request, unchanged):
    client, secret = hmac_client
    now = int(time.time())
    unchanged()
    _refused(
        token_request, kit.secret_assertion(client.client_id, secret, iat=now - 900, exp=now - 600)
    )


def test_assertion_for_a_secret_basic_client_is_refused(
    signing_keys, api, token_request, unchanged
):
    """A client registered for client_secret_basic cannot switch to an HMAC assertion keyed
    with its secret (the server holds only a digest of it anyway)."""
    client, secret = kit.secret_client(api)
    unchanged()
    _refused(token_request, kit.secret_assertion(client.client_id, secret))


def test_error_description_does_not_echo_the_assertion(victim, token_request):
    client, key = victim
    assertion = kit.private_key_assertion(client.client_id, kit.rsa_keypair(key.kid))
    response = token_request(kit.assertion_form(assertion))
    assert response.status_code == 401
    assert assertion.split(".")[2].encode() not in response.content
    assert assertion.split(".")[1].encode() not in response.content
