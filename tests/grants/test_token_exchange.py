"""Token exchange (RFC 8693) and its per-client policy."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from oauth_token.registry import keyring, provisioning

from .trusted_idp import Idp

pytestmark = pytest.mark.django_db

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
IDT = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
API = "https://api.example.com"
ORDERS = "https://orders.example.com"
PASSWORD = "pw-alice-123"


@pytest.fixture
def orders_api(db: None) -> Any:
    return provisioning.create_api(
        identifier=ORDERS, name="Orders", scopes=["read:things", "write:things", "read:orders"]
    )


@pytest.fixture
def alice(db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def idp() -> Idp:
    return Idp()


@pytest.fixture
def app(make_client: Any) -> tuple[str, str]:
    """A first-party app users sign in to; the gateway may exchange its tokens."""
    client, secret = make_client(name="App", grant_types=["password"])
    return client.client_id, secret


@pytest.fixture
def gateway(
    make_client: Any, orders_api: Any, api: Any, idp: Idp, app: tuple[str, str]
) -> tuple[str, str]:
    """A client allowed to exchange the app's tokens (and its own) for the example API and
    for the Orders API (and to get read:orders there)."""
    client, secret = make_client(
        name="Gateway",
        grant_types=[GRANT, "client_credentials"],
        exchange_audiences=[
            {"audience": API, "sources": [app[0]]},
            {"audience": ORDERS, "extra_scopes": ["read:orders"], "sources": [app[0]]},
        ],
        trusted_issuers=[idp.entry()],
    )
    provisioning.grant(client, api, ["read:things"])
    return client.client_id, secret


@pytest.fixture
def user_token(
    token_request: Any, app: tuple[str, str], alice: Any, api: Any, signing_keys: Any
) -> str:
    """alice's access token for the example API, obtained by the first-party app."""
    response = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "audience": API,
            "scope": "read:things write:things",
        },
        auth=app,
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


@pytest.fixture
def exchange(token_request: Any, gateway: tuple[str, str], signing_keys: Any) -> Any:
    def post(subject_token: str, subject_token_type: str = AT, **extra: str) -> Any:
        data = {
            "grant_type": GRANT,
            "subject_token": subject_token,
            "subject_token_type": subject_token_type,
            "audience": ORDERS,
            **extra,
        }
        return token_request({k: v for k, v in data.items() if v is not None}, auth=gateway)

    return post


def decode(token: str, audience: str = ORDERS) -> dict[str, Any]:
    alg, key = keyring.verification_key(jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=[alg], audience=audience)


def assert_error(response: Any, code: str, fragment: str = "") -> None:
    assert response.status_code == 400, response.content
    assert response.json()["error"] == code
    assert fragment in response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


# --- success ----------------------------------------------------------------------------


def test_access_token_is_exchanged_for_another_audience(exchange, user_token, alice, gateway):
    response = exchange(user_token, scope="read:orders")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["issued_token_type"] == AT
    assert body["token_type"] == "Bearer"
    # Another API: no scope carries over by name, only what the policy adds.
    assert body["scope"] == "read:orders"
    claims = decode(body["access_token"])
    assert claims["sub"] == str(alice.pk)
    assert claims["aud"] == ORDERS
    assert claims["client_id"] == gateway[0]
    assert "act" not in claims


def test_scopes_carry_over_within_the_same_api(exchange, user_token):
    response = exchange(user_token, audience=API)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:things write:things"
    assert decode(response.json()["access_token"], API)["aud"] == API


def test_resource_is_accepted_as_the_target(exchange, user_token):
    response = exchange(user_token, audience=None, resource=ORDERS, scope="read:orders")
    assert response.status_code == 200, response.content
    assert decode(response.json()["access_token"])["aud"] == ORDERS


def test_scope_can_narrow(exchange, user_token):
    narrowed = exchange(user_token, audience=API, scope="read:things")
    assert narrowed.json()["scope"] == "read:things"


def test_scope_never_wider_than_the_subject_tokens(exchange, user_token, api):
    assert_error(exchange(user_token, audience=API, scope="delete:things"), "invalid_scope")


def test_policy_may_allow_extra_scopes(exchange, user_token):
    response = exchange(user_token, scope="read:orders")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:orders"
    assert_error(exchange(user_token, scope="read:things read:orders"), "invalid_scope")


def test_actor_token_is_recorded_in_act(exchange, user_token, token_request, gateway):
    actor = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=gateway
    ).json()["access_token"]
    response = exchange(user_token, actor_token=actor, actor_token_type=AT)
    assert response.status_code == 200, response.content
    claims = decode(response.json()["access_token"])
    assert claims["act"] == {"sub": f"{gateway[0]}@clients"}


def test_delegation_chains_nest_prior_actors(exchange, user_token, token_request, gateway, api):
    actor = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=gateway
    ).json()["access_token"]
    first = exchange(user_token, audience=API, actor_token=actor, actor_token_type=AT).json()
    second = exchange(first["access_token"], actor_token=actor, actor_token_type=AT)
    assert second.status_code == 200, second.content
    act = decode(second.json()["access_token"])["act"]
    assert act == {"sub": f"{gateway[0]}@clients", "act": {"sub": f"{gateway[0]}@clients"}}


def test_exchanged_token_is_active_at_introspection_with_its_actor(
    exchange, user_token, token_request, gateway, make_client, api_client
):
    from tests.conftest import basic

    actor = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=gateway
    ).json()["access_token"]
    issued = exchange(user_token, actor_token=actor, actor_token_type=AT).json()["access_token"]
    rs, secret = make_client(name="Orders RS", can_introspect=True)
    body = api_client.post(
        "/oauth/introspect",
        urlencode({"token": issued}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(rs.client_id, secret),
    ).json()
    assert body["active"] is True
    assert body["act"] == {"sub": f"{gateway[0]}@clients"}
    assert body["aud"] == ORDERS


def test_id_token_of_the_client_is_accepted(exchange, alice, gateway, signing_keys):
    now = int(time.time())
    id_token = keyring.sign(
        {
            "iss": "https://auth.example.test/",
            "sub": str(alice.pk),
            "aud": gateway[0],
            "iat": now,
            "exp": now + 300,
        },
        typ="JWT",
    )
    response = exchange(id_token, IDT, scope="read:orders")
    assert response.status_code == 200, response.content
    # An ID token carries no API scopes: only what the policy adds can be granted.
    assert response.json()["scope"] == "read:orders"
    assert decode(response.json()["access_token"])["sub"] == str(alice.pk)
    assert_error(exchange(id_token, IDT, scope="read:things"), "invalid_scope")


def test_id_token_of_another_client_is_refused(exchange, alice, signing_keys):
    now = int(time.time())
    id_token = keyring.sign(
        {
            "iss": "https://auth.example.test/",
            "sub": str(alice.pk),
            "aud": "someone-else",
            "iat": now,
            "exp": now + 300,
        },
        typ="JWT",
    )
    assert_error(exchange(id_token, IDT), "invalid_request", "another client")


def test_jwt_from_a_trusted_issuer_is_accepted(exchange, idp, alice):
    """Its scopes name no API of ours unless its ``aud`` names the target API too."""
    response = exchange(idp.sign(scope="read:things openid"), JWT, scope="read:orders")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:orders"
    aud = ["https://auth.example.test/oauth/token", ORDERS]
    carried = exchange(idp.sign(scope="read:things openid", aud=aud), JWT)
    assert carried.status_code == 200, carried.content
    assert carried.json()["scope"] == "read:things"
    assert decode(response.json()["access_token"])["sub"] == str(alice.pk)


def test_may_act_restricts_the_actor(exchange, idp, alice, token_request, gateway):
    actor = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=gateway
    ).json()["access_token"]
    allowed = idp.sign(scope="read:things", may_act={"sub": f"{gateway[0]}@clients"})
    assert exchange(allowed, JWT, actor_token=actor, actor_token_type=AT).status_code == 200
    refused = idp.sign(scope="read:things", may_act={"sub": "someone-else@clients"})
    assert_error(
        exchange(refused, JWT, actor_token=actor, actor_token_type=AT), "invalid_request", "may_act"
    )


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["subject_token", "subject_token_type"])
def test_missing_subject_parameters_are_invalid_request(exchange, user_token, missing):
    args: dict[str, Any] = {"subject_token": user_token, "subject_token_type": AT}
    args[missing] = None
    assert_error(exchange(**args), "invalid_request", missing)


def test_unsupported_token_types_are_invalid_request(exchange, user_token):
    assert_error(exchange(user_token, "urn:ietf:params:oauth:token-type:saml2"), "invalid_request")
    assert_error(
        exchange(user_token, requested_token_type="urn:ietf:params:oauth:token-type:refresh_token"),
        "invalid_request",
        "requested_token_type",
    )


def test_token_of_the_wrong_declared_type_is_invalid_request(exchange, user_token, idp):
    assert_error(exchange(user_token, IDT), "invalid_request", "not an ID token")
    assert_error(exchange(idp.sign(), AT), "invalid_request", "not an access token issued here")


def test_revoked_subject_token_is_invalid_request(exchange, user_token, make_client):
    from datetime import UTC, datetime

    from oauth_token.tokens.revocation import revoke_access_tokens

    claims = jwt.decode(user_token, options={"verify_signature": False})
    revoke_access_tokens([(claims["jti"], datetime.fromtimestamp(claims["exp"], tz=UTC))])
    assert_error(exchange(user_token), "invalid_request", "revoked")


def test_expired_or_garbage_subject_token_is_invalid_request(exchange, alice, signing_keys):
    now = int(time.time())
    expired = keyring.sign(
        {
            "iss": "https://auth.example.test/",
            "sub": str(alice.pk),
            "aud": API,
            "iat": now - 900,
            "exp": now - 60,
            "jti": "old",
            "client_id": "x",
            "scope": "read:things",
        },
        typ="at+jwt",
    )
    assert_error(exchange(expired), "invalid_request", "expired")
    assert_error(exchange("garbage"), "invalid_request")


def test_untrusted_jwt_is_invalid_request(exchange, alice):
    assert_error(
        exchange(Idp(issuer="https://stranger.example/").sign(), JWT),
        "invalid_request",
        "not trusted",
    )


def test_jwt_subject_without_a_local_user_is_invalid_grant(exchange, idp, alice):
    assert_error(exchange(idp.sign(sub="nobody"), JWT), "invalid_grant")


def test_inactive_user_cannot_be_exchanged(exchange, user_token, alice):
    alice.is_active = False
    alice.save()
    assert_error(exchange(user_token), "invalid_request", "no longer valid")


def test_another_clients_own_token_is_not_a_subject(exchange, token_request, make_client, api):
    other, secret = make_client(name="Other M2M")
    provisioning.grant(other, api, ["read:things"])
    m2m = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=(other.client_id, secret)
    ).json()["access_token"]
    assert_error(exchange(m2m), "invalid_request", "issued to a client")


def test_actor_parameters_come_together(exchange, user_token):
    assert_error(
        exchange(user_token, actor_token=user_token), "invalid_request", "actor_token_type"
    )
    assert_error(
        exchange(user_token, actor_token_type=AT), "invalid_request", "without an actor_token"
    )


def test_invalid_actor_token_is_invalid_request(exchange, user_token):
    assert_error(
        exchange(user_token, actor_token="garbage", actor_token_type=AT),
        "invalid_request",
        "actor_token",
    )


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"audience": "https://elsewhere.example.com"}, "may not exchange"),
        ({"audience": API, "resource": ORDERS}, "different targets"),
        ({"audience": None}, "Name the target"),
    ],
)
def test_targets_outside_the_policy_are_invalid_target(exchange, user_token, extra, fragment):
    assert_error(exchange(user_token, **extra), "invalid_target", fragment)


def test_policy_audience_that_is_not_an_api_is_invalid_target(exchange, user_token, gateway):
    from oauth_token.models import Client

    client = Client.objects.get(client_id=gateway[0])
    client.exchange_audiences = ["https://ghost.example.com"]
    client.save()
    assert_error(
        exchange(user_token, audience="https://ghost.example.com"),
        "invalid_target",
        "not a known API",
    )


def test_client_without_a_policy_may_not_exchange(
    token_request, make_client, user_token, orders_api
):
    client, secret = make_client(name="No policy", grant_types=[GRANT])
    response = token_request(
        {
            "grant_type": GRANT,
            "subject_token": user_token,
            "subject_token_type": AT,
            "audience": ORDERS,
        },
        auth=(client.client_id, secret),
    )
    assert_error(response, "invalid_target", "may not exchange")


def test_client_needs_the_grant_type(token_request, make_client, user_token, orders_api):
    client, secret = make_client(name="M2M", exchange_audiences=[ORDERS])
    response = token_request(
        {
            "grant_type": GRANT,
            "subject_token": user_token,
            "subject_token_type": AT,
            "audience": ORDERS,
        },
        auth=(client.client_id, secret),
    )
    assert_error(response, "unauthorized_client")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("https://orders.example.com", "must be a list"),
        ([42], "audience string or an object"),
        ([{"extra_scopes": ["x"]}], "'audience'"),
        ([{"audience": ORDERS, "extra_scopes": "read"}], "list of scope names"),
        ([ORDERS, {"audience": ORDERS}], "listed twice"),
    ],
)
def test_malformed_policies_are_refused_when_saving(make_client, policy, message):
    with pytest.raises(ValidationError, match=message):
        make_client(name="Bad", grant_types=[GRANT], exchange_audiences=policy)


def test_discovery_lists_the_grant(api_client, signing_keys):
    metadata = api_client.get("/.well-known/openid-configuration").json()
    assert GRANT in metadata["grant_types_supported"]


def test_id_token_from_a_login_is_exchanged_by_the_client_it_was_issued_to(
    token_request, make_client, alice, orders_api, signing_keys
):
    client, secret = make_client(
        name="Backend for frontend",
        grant_types=["password", GRANT],
        exchange_audiences=[{"audience": ORDERS, "extra_scopes": ["read:orders"]}],
    )
    auth = (client.client_id, secret)
    login = token_request(
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "openid"},
        auth=auth,
    )
    assert login.status_code == 200, login.content
    response = token_request(
        {
            "grant_type": GRANT,
            "subject_token": login.json()["id_token"],
            "subject_token_type": IDT,
            "audience": ORDERS,
            "scope": "read:orders",
        },
        auth=auth,
    )
    assert response.status_code == 200, response.content
    assert response.json()["issued_token_type"] == AT
    claims = decode(response.json()["access_token"])
    assert (claims["sub"], claims["scope"]) == (str(alice.pk), "read:orders")


@pytest.mark.urls("tests.resource_server.views")
def test_exchanged_token_is_accepted_by_a_resource_server(exchange, user_token, alice, api_client):
    response = exchange(user_token, audience=API, scope="read:things")
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    served = api_client.get("/api/things", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert served.status_code == 200, served.content
    assert served.json()["sub"] == str(alice.pk)
    assert served.json()["user_pk"] == alice.pk


def test_dpop_bound_subject_token_needs_a_proof_of_its_key(
    token_request, gateway, alice, signing_keys, orders_api
):
    from tests.dpop_helpers import ProofKey

    key = ProofKey()
    now = int(time.time())
    bound = keyring.sign(
        {
            "iss": "https://auth.example.test/",
            "sub": str(alice.pk),
            "aud": API,
            "iat": now,
            "exp": now + 300,
            "jti": "bound-subject",
            "client_id": gateway[0],
            "scope": "read:things",
            "cnf": {"jkt": key.jkt},
        },
        typ="at+jwt",
    )
    data = {
        "grant_type": GRANT,
        "subject_token": bound,
        "subject_token_type": AT,
        "audience": ORDERS,
    }
    assert_error(token_request(data, auth=gateway), "invalid_request", "DPoP-bound")
    assert_error(
        token_request(data, auth=gateway, HTTP_DPOP=ProofKey().proof()),
        "invalid_request",
        "DPoP-bound",
    )
    response = token_request(data, auth=gateway, HTTP_DPOP=key.proof())
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"
    assert decode(response.json()["access_token"])["cnf"] == {"jkt": key.jkt}
