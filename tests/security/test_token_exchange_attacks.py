"""Attacks through token exchange (RFC 8693; issue 12 items 2 and 5): crossing clients and
APIs, outliving the subject's revocation or lifetime, and smuggling a trusted issuer's JWT past
the jwt-bearer grant's rules (replay, lifetime, ``may_act``)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.contrib.auth import get_user_model

from oauth_token.registry import keyring, provisioning
from tests import kit
from tests.grants.trusted_idp import Idp

pytestmark = pytest.mark.django_db

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AT = "urn:ietf:params:oauth:token-type:access_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
API_X = "https://x.example.com"
API_Y = "https://y.example.com"
PASSWORD = "pw-alice-123"


@pytest.fixture
def world(signing_keys, make_client) -> dict[str, Any]:
    """Client A (a user-facing app) holds alice's token for API X with scope ``admin``; client
    B may exchange for API Y only (which also happens to define ``admin``)."""
    get_user_model().objects.create_user("alice", password=PASSWORD)
    x = provisioning.create_api(
        identifier=API_X, name="X", scopes=["admin", "read"], allow_offline_access=True
    )
    provisioning.create_api(
        identifier=API_Y, name="Y", scopes=["admin", "read"], token_lifetime=7 * 86400
    )
    a, a_secret = make_client(name="A", grant_types=["password", "refresh_token"])
    idp = Idp()
    b, b_secret = make_client(
        name="B",
        grant_types=[GRANT, JWT_BEARER],
        exchange_audiences=[API_Y],
        trusted_issuers=[idp.entry()],
    )
    provisioning.grant(b, x, ["read"])
    rs, rs_secret = make_client(name="RS", can_introspect=True)
    return {
        "a": (a.client_id, a_secret),
        "b": (b.client_id, b_secret),
        "rs": (rs.client_id, rs_secret),
        "idp": idp,
    }


def _login(token_request: Any, world: dict[str, Any]) -> dict[str, Any]:
    response = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "audience": API_X,
            "scope": "admin read offline_access",
        },
        auth=world["a"],
    )
    assert response.status_code == 200, response.content
    return response.json()


def _exchange(token_request: Any, client: tuple[str, str], subject: str, **extra: str) -> Any:
    data = {
        "grant_type": GRANT,
        "subject_token": subject,
        "subject_token_type": extra.pop("subject_token_type", AT),
        "audience": extra.pop("audience", API_Y),
        **extra,
    }
    return token_request(data, auth=client)


def _claims(token: str, audience: str = API_Y) -> dict[str, Any]:
    alg, key = keyring.verification_key(jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=[alg], audience=audience)


def _active(api_client: Any, world: dict[str, Any], token: str) -> bool:
    response = api_client.post(
        "/oauth/introspect",
        urlencode({"token": token}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=kit.basic(*world["rs"]),
    )
    return bool(response.json()["active"])


def _allow_source(world: dict[str, Any], **rule: Any) -> None:
    from oauth_token.models import Client

    client = Client.objects.get(client_id=world["b"][0])
    client.exchange_audiences = [{"audience": API_Y, "sources": [world["a"][0]], **rule}]
    client.save()


# --- item 2 -------------------------------------------------------------------------------


def test_another_clients_access_token_cannot_be_exchanged_without_a_source_rule(
    world, token_request, unchanged
):
    subject = _login(token_request, world)["access_token"]
    unchanged()
    body = kit.assert_oauth_error(
        _exchange(token_request, world["b"], subject), 400, "invalid_request"
    )
    assert "issued to a client" in body["error_description"]


def test_scope_names_of_another_api_do_not_carry_over(world, token_request):
    subject = _login(token_request, world)["access_token"]
    _allow_source(world)
    response = _exchange(token_request, world["b"], subject)
    assert response.status_code == 200, response.content
    assert "admin" not in _claims(response.json()["access_token"])["scope"].split()
    refused = _exchange(token_request, world["b"], subject, scope="admin")
    kit.assert_oauth_error(refused, 400, "invalid_scope")


def test_exchanged_token_expires_no_later_than_its_subject(world, token_request):
    subject = _login(token_request, world)["access_token"]
    _allow_source(world, extra_scopes=["read"])
    exchanged = _exchange(token_request, world["b"], subject).json()["access_token"]
    assert _claims(exchanged)["exp"] <= _claims(subject, API_X)["exp"]


def test_revoking_the_subjects_refresh_family_revokes_what_was_exchanged_from_it(
    world, token_request, api_client
):
    tokens = _login(token_request, world)
    _allow_source(world, extra_scopes=["read"])
    first = _exchange(token_request, world["b"], tokens["access_token"]).json()["access_token"]
    # B is a source of its own tokens: an exchange of the exchange is lineage too.
    second = _exchange(token_request, world["b"], first).json()["access_token"]
    assert _active(api_client, world, first) and _active(api_client, world, second)
    response = api_client.post(
        "/oauth/revoke",
        urlencode({"token": tokens["refresh_token"]}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=kit.basic(*world["a"]),
    )
    assert response.status_code == 200
    assert not _active(api_client, world, tokens["access_token"])
    assert not _active(api_client, world, first)
    assert not _active(api_client, world, second)
    again = _exchange(token_request, world["b"], first)
    kit.assert_oauth_error(again, 400, "invalid_request")


# --- item 5 -------------------------------------------------------------------------------


def test_jwt_bearer_assertion_replayed_through_token_exchange_is_refused(world, token_request):
    idp = world["idp"]
    assertion = idp.sign()
    used = token_request(
        {"grant_type": JWT_BEARER, "assertion": assertion, "audience": API_X}, auth=world["b"]
    )
    assert used.status_code == 200, used.content
    for _ in range(3):
        response = _exchange(token_request, world["b"], assertion, subject_token_type=JWT)
        body = kit.assert_oauth_error(response, 400, "invalid_request")
        assert "already been used" in body["error_description"]


def test_trusted_jwt_is_single_use_as_a_subject_token(world, token_request):
    subject = world["idp"].sign()
    first = _exchange(token_request, world["b"], subject, subject_token_type=JWT)
    assert first.status_code == 200, first.content
    for _ in range(2):
        again = _exchange(token_request, world["b"], subject, subject_token_type=JWT)
        kit.assert_oauth_error(again, 400, "invalid_request")


def test_thirty_day_trusted_jwt_is_refused_as_a_subject_token(world, token_request, unchanged):
    unchanged()
    long_lived = world["idp"].sign(exp=int(time.time()) + 30 * 86400)
    response = _exchange(token_request, world["b"], long_lived, subject_token_type=JWT)
    body = kit.assert_oauth_error(response, 400, "invalid_request")
    assert "too far in the future" in body["error_description"]


def test_subject_token_with_may_act_and_no_actor_token_must_name_the_requesting_client(
    world, token_request
):
    idp, b_id = world["idp"], world["b"][0]
    someone_else = idp.sign(may_act={"sub": "another-service"})
    refused = _exchange(token_request, world["b"], someone_else, subject_token_type=JWT)
    body = kit.assert_oauth_error(refused, 400, "invalid_request")
    assert "may_act" in body["error_description"]
    for name in (b_id, f"{b_id}@clients"):
        allowed = idp.sign(may_act={"sub": name})
        response = _exchange(token_request, world["b"], allowed, subject_token_type=JWT)
        assert response.status_code == 200, response.content


def test_malformed_may_act_is_refused(world, token_request):
    for may_act in ("b", [], {}):
        subject = world["idp"].sign(may_act=may_act)
        response = _exchange(token_request, world["b"], subject, subject_token_type=JWT)
        kit.assert_oauth_error(response, 400, "invalid_request")
