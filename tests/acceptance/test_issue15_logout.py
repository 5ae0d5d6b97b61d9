"""Acceptance (issue 15, item 1) against the running example project: sign-out as an
independent relying party sees it. The RP registers itself (RFC 7591, plain HTTP) with a
post-logout redirect URI and a back-channel logout endpoint on 127.0.0.1, signs a person in
with Authlib's ``OAuth2Session`` (code + PKCE, OpenID Connect, offline access), and then:

- sends the person to the discovered ``end_session_endpoint`` with ``id_token_hint``: they land
  on the registered URI with ``state``, and the server's session is over (``/authorize`` asks
  for a login again);
- receives a logout token that Authlib's JOSE verifies against the JWKS (OIDC Back-Channel
  Logout 1.0 §2.4, §2.6: ``typ`` ``logout+jwt``, ``iss``, ``aud``, ``iat``, ``exp``, ``jti``,
  the session's ``sid``, the event, no ``nonce``);
- keeps its refresh token unless it asked for refresh tokens to end with the session
  (``oauth_client create --revoke-refresh-tokens-on-logout``), in which case the refresh is
  refused with ``invalid_grant``;
- and an unregistered ``post_logout_redirect_uri`` is never followed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JWTClaims
from authlib.jose import jwt as authlib_jwt
from authlib.oidc.core import CodeIDToken

from tests.example.conftest import manage, quickstart_server
from tests.example.test_authorization_code_flow import (
    API,
    PASSWORD,
    USERNAME,
    Person,
    callback_site,
)
from tests.logout.rp import LogoutReceiver
from tests.stub_server import LocalSite

EVENT = "http://schemas.openid.net/event/backchannel-logout"
SCOPE = "openid profile offline_access read:things"


@dataclass
class Deployment:
    base: str
    tmp: Any
    metadata: dict[str, Any]
    callback: LocalSite
    receiver: LogoutReceiver

    @property
    def issuer(self) -> str:
        return self.base + "/"

    @property
    def logged_out(self) -> str:
        return self.callback.url.replace("/callback", "/logged-out")

    def jwks(self) -> Any:
        return JsonWebKey.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=10).json())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("acceptance-logout")
    callback = callback_site()
    receiver = LogoutReceiver()
    try:
        with quickstart_server(tmp, OAUTH_REGISTRATION="open") as (base, _log):
            metadata = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
            yield Deployment(base, tmp, metadata, callback, receiver)
    finally:
        receiver.close()
        callback.stop()


def relying_party(deployment: Deployment, client: dict[str, Any]) -> OAuth2Session:
    """Authlib's client for a registered (or created) client, with PKCE."""
    return OAuth2Session(
        client["client_id"],
        client["client_secret"],
        scope=SCOPE,
        redirect_uri=deployment.callback.url,
        code_challenge_method="S256",
    )


def sign_in(deployment: Deployment, session: OAuth2Session, person: Person) -> dict[str, Any]:
    """Authlib's authorization_code + PKCE; the person's part done by a cookie-keeping HTTP
    client (the login page on the first visit, consent when not yet given)."""
    verifier, nonce = generate_token(48), generate_token(16)
    url, _state = session.create_authorization_url(
        deployment.metadata["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        audience=API,
    )
    page_url, html = person.get(url)
    if urllib.parse.urlsplit(page_url).path == "/accounts/login/":
        page_url, html = person.submit(page_url, html, {"username": USERNAME, "password": PASSWORD})
    if not page_url.startswith(deployment.callback.url):
        page_url, html = person.submit(page_url, html, {"decision": "allow"})
    assert page_url.startswith(deployment.callback.url + "?"), page_url
    token = session.fetch_token(
        deployment.metadata["token_endpoint"],
        authorization_response=page_url,
        code_verifier=verifier,
    )
    claims = authlib_jwt.decode(
        token["id_token"],
        deployment.jwks(),
        claims_cls=CodeIDToken,
        claims_options={"iss": {"values": [deployment.issuer]}},
        claims_params={
            "nonce": nonce,
            "client_id": session.client_id,
            "access_token": token["access_token"],
        },
    )
    claims.validate()
    assert claims["sid"], "an ID token from a browser session names it (sid)"
    return {**token, "sid": claims["sid"], "sub": claims["sub"]}


def verified_logout_token(deployment: Deployment, count: int, client_id: str) -> JWTClaims:
    """What an RP must check of a logout token (Back-Channel Logout 1.0 §2.6), with Authlib."""
    received = deployment.receiver.wait_for(count)[count - 1]
    assert received["content_type"] == "application/x-www-form-urlencoded"
    token = received["form"]["logout_token"][0]
    claims = authlib_jwt.decode(
        token,
        deployment.jwks(),
        claims_options={
            "iss": {"essential": True, "value": deployment.issuer},
            "aud": {"essential": True, "value": client_id},
            "iat": {"essential": True},
            "exp": {"essential": True},
            "jti": {"essential": True},
        },
    )
    claims.validate(leeway=5)
    assert claims.header["typ"] == "logout+jwt"
    assert claims.header["alg"] in deployment.metadata["id_token_signing_alg_values_supported"]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    return claims


def end_session(deployment: Deployment, person: Person, **params: str) -> tuple[str, str]:
    url = deployment.metadata["end_session_endpoint"] + "?" + urllib.parse.urlencode(params)
    return person.get(url)


def asked_to_sign_in(deployment: Deployment, session: OAuth2Session, person: Person) -> bool:
    url, _ = session.create_authorization_url(
        deployment.metadata["authorization_endpoint"],
        code_verifier=generate_token(48),
        nonce=generate_token(16),
        audience=API,
    )
    page_url, _html = person.get(url)
    return urllib.parse.urlsplit(page_url).path == "/accounts/login/"


def test_a_self_registered_rp_signs_out_and_is_told_over_the_back_channel(deployment):
    discovery = deployment.metadata
    assert discovery["end_session_endpoint"] == f"{deployment.base}/oidc/logout"
    assert discovery["backchannel_logout_supported"] is True
    assert discovery["backchannel_logout_session_supported"] is True

    registered = requests.post(
        discovery["registration_endpoint"],
        json={
            "client_name": "Independent RP",
            "redirect_uris": [deployment.callback.url],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "post_logout_redirect_uris": [deployment.logged_out],
            "backchannel_logout_uri": deployment.receiver.url,
            "backchannel_logout_session_required": True,
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    client = registered.json()
    assert client["backchannel_logout_uri"] == deployment.receiver.url
    assert client["post_logout_redirect_uris"] == [deployment.logged_out]

    session = relying_party(deployment, client)
    person = Person()
    tokens = sign_in(deployment, session, person)

    # An unregistered post_logout_redirect_uri is an error page; the session survives it.
    with pytest.raises(urllib.error.HTTPError) as refused:
        end_session(
            deployment,
            person,
            id_token_hint=tokens["id_token"],
            post_logout_redirect_uri="https://attacker.example/",
            state="s",
        )
    assert refused.value.code == 400
    assert "text/html" in refused.value.headers["Content-Type"]
    assert not asked_to_sign_in(deployment, session, person)
    assert deployment.receiver.received == []

    # RP-initiated logout with id_token_hint: straight back to the registered URI with state.
    landed, _html = end_session(
        deployment,
        person,
        id_token_hint=tokens["id_token"],
        post_logout_redirect_uri=deployment.logged_out,
        state="after-logout",
    )
    assert landed == f"{deployment.logged_out}?state=after-logout"
    assert asked_to_sign_in(deployment, session, person)

    logout = verified_logout_token(deployment, 1, client["client_id"])
    assert logout["sid"] == tokens["sid"]
    assert logout["sub"] == tokens["sub"]

    # Refresh tokens outlive the browser session unless the client asked otherwise.
    refreshed = session.refresh_token(discovery["token_endpoint"])
    assert refreshed["access_token"] != tokens["access_token"]


def test_an_rp_that_asked_for_it_loses_its_refresh_tokens_at_sign_out(deployment):
    created = manage(
        deployment.tmp,
        "oauth_client",
        "create",
        "--name",
        "Offline RP",
        "--redirect-uri",
        deployment.callback.url,
        "--post-logout-redirect-uri",
        deployment.logged_out,
        "--backchannel-logout-uri",
        deployment.receiver.url,
        "--revoke-refresh-tokens-on-logout",
        "--json",
        OAUTH_ISSUER=deployment.issuer,
    )
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    already = len(deployment.receiver.received)

    session = relying_party(deployment, client)
    person = Person()
    tokens = sign_in(deployment, session, person)
    assert tokens["refresh_token"]

    landed, _html = end_session(
        deployment,
        person,
        id_token_hint=tokens["id_token"],
        post_logout_redirect_uri=deployment.logged_out,
    )
    assert landed == deployment.logged_out
    logout = verified_logout_token(deployment, already + 1, client["client_id"])
    assert logout["sid"] == tokens["sid"]

    with pytest.raises(OAuthError) as refused:
        session.refresh_token(deployment.metadata["token_endpoint"])
    assert refused.value.error == "invalid_grant"
