"""Attacks through URLs a client or trusted issuer registers (issue 12 item 3): SSRF,
redirects into the internal network, a port oracle in error texts, request amplification,
and worker exhaustion by a trickling server. Everything goes through ``core/outbound.py``;
these tests use real servers on 127.0.0.1 (allowed by the test settings) and turn
``OUTBOUND_ALLOW_PRIVATE_ADDRESSES`` off to show the default refuses them."""

from __future__ import annotations

import socket
import time
from typing import Any

import jwt
import pytest

from oauth_token.core import jwks, outbound
from oauth_token.registry import provisioning
from tests import kit
from tests.stub_server import endless, redirect, respond, stub_server, trickle

pytestmark = pytest.mark.django_db

GENERIC = jwks.UNAVAILABLE


def _override(settings: Any, **values: Any) -> None:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **values}


@pytest.fixture
def private_addresses_refused(settings: Any) -> None:
    _override(settings, OUTBOUND_ALLOW_PRIVATE_ADDRESSES=False)


def _uri_client(api: Any, jwks_uri: str) -> tuple[Any, kit.KeyPair]:
    key = kit.ec_keypair("k1")
    created = provisioning.create_client(
        name="Key client",
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks_uri=jwks_uri,
    )
    provisioning.grant(created.client, api, ["read:things"])
    return created.client, key


def _authenticate(token_request: Any, client: Any, key: kit.KeyPair, **claims: Any) -> Any:
    return token_request(
        kit.assertion_form(kit.private_key_assertion(client.client_id, key, **claims))
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- cheap checks come before any fetch --------------------------------------------------


@pytest.mark.parametrize(
    "forge",
    [
        "alg-none",
        "hs256",
        "expired",
        "foreign-aud",
        "too-long-lived",
        "sub-mismatch",
        "no-jti",
        "garbage",
    ],
)
def test_forged_assertion_for_a_jwks_uri_client_makes_the_server_fetch_nothing(
    signing_keys, api, token_request, forge
):
    now = int(time.time())
    with stub_server() as site:
        client, key = _uri_client(api, site.url("/jwks"))
        site.routes["/jwks"] = respond(200, {"keys": [key.jwk]})
        claims = kit.assertion_claims(client.client_id)
        cases = {
            "alg-none": lambda: kit.unsigned_jwt({"alg": "none", "kid": "k1"}, claims),
            "hs256": lambda: kit.hmac_signed_jwt({"alg": "HS256"}, claims, b"x" * 32),
            "expired": lambda: kit.private_key_assertion(
                client.client_id, key, iat=now - 600, exp=now - 300
            ),
            "foreign-aud": lambda: kit.private_key_assertion(
                client.client_id, key, aud="https://elsewhere.example/"
            ),
            "too-long-lived": lambda: kit.private_key_assertion(
                client.client_id, key, exp=now + 86400
            ),
            "sub-mismatch": lambda: kit.private_key_assertion(client.client_id, key, sub="x"),
            "no-jti": lambda: kit.private_key_assertion(client.client_id, key, jti=None),
            "garbage": lambda: "a.b.c",
        }
        response = token_request(kit.assertion_form(cases[forge]()))
        kit.assert_oauth_error(response, 401, "invalid_client")
        assert site.hits == []


# --- no redirects, no internal addresses -------------------------------------------------


def test_redirect_from_a_jwks_uri_to_a_loopback_port_is_not_followed(
    signing_keys, api, token_request
):
    with stub_server() as site:
        client, key = _uri_client(api, site.url("/jwks"))
        site.routes["/jwks"] = redirect(site.url("/internal"))
        site.routes["/internal"] = respond(200, {"keys": [key.jwk]})
        body = kit.assert_oauth_error(
            _authenticate(token_request, client, key), 401, "invalid_client"
        )
        assert body["error_description"] == GENERIC
        assert site.paths() == ["/jwks"]


def test_loopback_jwks_uri_is_refused_unless_private_addresses_are_allowed(
    signing_keys, api, token_request, private_addresses_refused
):
    with stub_server() as site:
        client, key = _uri_client(api, site.url("/jwks"))
        site.routes["/jwks"] = respond(200, {"keys": [key.jwk]})
        body = kit.assert_oauth_error(
            _authenticate(token_request, client, key), 401, "invalid_client"
        )
        assert body["error_description"] == GENERIC
        assert site.hits == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]"]
)
def test_loopback_in_any_spelling_is_never_contacted_by_default(private_addresses_refused, host):
    with stub_server({"/doc": respond(200, {"ok": True})}) as site:
        with pytest.raises(outbound.OutboundError) as raised:
            outbound.get_json(site.url("/doc", host=host))
        assert str(raised.value) == outbound.GENERIC_MESSAGE
        assert site.hits == []


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud instance metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_addresses_are_not_public(address):
    assert not outbound.is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert outbound.is_public_address(address)


def test_trusted_issuer_jwks_uri_on_loopback_is_refused_by_default(
    signing_keys, api, make_client, token_request, private_addresses_refused
):
    """jwt-bearer assertions reach their issuer's keys through the same module."""
    idp_key = kit.rsa_keypair("idp-key")
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    with stub_server({"/jwks": respond(200, {"keys": [idp_key.jwk]})}) as site:
        client, secret = make_client(
            grant_types=[grant],
            trusted_issuers=[{"issuer": "https://idp.example.org/", "jwks_uri": site.url("/jwks")}],
        )
        provisioning.grant(client, api, ["read:things"])
        claims = kit.assertion_claims("x", iss="https://idp.example.org/", sub="alice")
        assertion = jwt.encode(claims, idp_key.private, "RS256", headers={"kid": "idp-key"})
        response = token_request(
            {"grant_type": grant, "assertion": assertion, "audience": kit.AUDIENCE},
            auth=(client.client_id, secret),
        )
        body = kit.assert_oauth_error(response, 400, "invalid_grant")
        assert GENERIC in body["error_description"]
        assert site.hits == []


# --- one error text: no port oracle -------------------------------------------------------


def test_every_fetch_failure_reads_the_same(signing_keys, api, token_request, settings):
    """Closed port, 404, 500, redirect, HTML, JSON that is no JWK Set, an oversized and an
    endless body: an attacker learns nothing about what listens where."""
    _override(settings, OUTBOUND_MAX_BYTES=2048)
    descriptions = set()
    with stub_server() as site:
        site.routes.update(
            {
                "/404": respond(404, {"error": "nope"}),
                "/500": respond(500, b"oops"),
                "/redirect": redirect("https://example.com/"),
                "/html": respond(200, b"<html></html>", {"Content-Type": "text/html"}),
                "/not-jwks": respond(200, {"hello": "world"}),
                "/big": respond(200, {"keys": [], "pad": "x" * 5000}),
                "/endless": endless(),
            }
        )
        uris = [f"http://127.0.0.1:{_closed_port()}/jwks"] + [site.url(p) for p in site.routes]
        for uri in uris:
            client, key = _uri_client(api, uri)
            response = _authenticate(token_request, client, key)
            descriptions.add(
                kit.assert_oauth_error(response, 401, "invalid_client")["error_description"]
            )
    assert descriptions == {GENERIC}


# --- amplification and worker exhaustion -----------------------------------------------


def test_a_failing_jwks_uri_is_fetched_once_for_a_burst_of_requests(
    signing_keys, api, token_request
):
    with stub_server({"/jwks": respond(500, b"down")}) as site:
        client, key = _uri_client(api, site.url("/jwks"))
        for _ in range(5):
            kit.assert_oauth_error(_authenticate(token_request, client, key), 401, "invalid_client")
        assert len(site.hits) == 1


def test_trickling_jwks_uri_is_cut_off_at_the_total_deadline(
    signing_keys, api, token_request, settings
):
    """Every byte arrives well within OUTBOUND_TIMEOUT, so a per-read timeout would wait for
    the whole (valid) document; the total deadline gives up, and the request is refused."""
    _override(settings, OUTBOUND_TIMEOUT=0.5)
    with stub_server() as site:
        client, key = _uri_client(api, site.url("/jwks"))
        site.routes["/jwks"] = trickle({"keys": [key.jwk]}, every=0.05)
        body = kit.assert_oauth_error(
            _authenticate(token_request, client, key), 401, "invalid_client"
        )
        assert body["error_description"] == GENERIC


def test_endless_body_is_cut_at_the_size_limit(settings):
    with stub_server({"/doc": endless()}) as site, pytest.raises(outbound.OutboundError):
        outbound.get_json(site.url("/doc"))


# --- the POST side (back-channel logout) --------------------------------------------------


def test_back_channel_post_does_not_follow_redirects():
    with stub_server() as site:
        site.routes["/logout"] = redirect(site.url("/internal"), status=307)
        status = outbound.post_form(site.url("/logout"), {"logout_token": "x"})
        assert status == 307
        assert site.paths() == ["/logout"]
        assert site.hits[0].body == b"logout_token=x"


def test_back_channel_post_to_loopback_is_refused_by_default(private_addresses_refused):
    with stub_server({"/logout": respond(200, b"")}) as site:
        with pytest.raises(outbound.OutboundError):
            outbound.post_form(site.url("/logout"), {"logout_token": "x"})
        assert site.hits == []


def test_back_channel_post_to_a_trickling_server_ends_at_the_deadline(settings):
    _override(settings, OUTBOUND_TIMEOUT=0.5)
    with (
        stub_server({"/logout": trickle({"ok": True}, every=0.05)}) as site,
        pytest.raises(outbound.OutboundError),
    ):
        outbound.post_form(site.url("/logout"), {"logout_token": "x"})
