"""Zero-downtime key rotation seen from a resource server (RFC 7517, DESIGN "Keys and JWKS"):
it verifies tokens only through the published JWKS, the way PyJWT's PyJWKClient does."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from oauth_token.models import SigningKey
from oauth_token.registry import keyring, provisioning
from tests.responses import assert_token

pytestmark = pytest.mark.django_db

AUDIENCE = "https://api.example.com"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture
def fetch_jwks(client):
    def fetch() -> jwt.PyJWKSet:
        response = client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        return jwt.PyJWKSet.from_dict(response.json())

    return fetch


@pytest.fixture
def new_token(m2m_client, token_request):
    client, secret = m2m_client

    def issue(audience: str = AUDIENCE) -> str:
        body = assert_token(
            token_request(
                {"grant_type": "client_credentials", "audience": audience},
                auth=(client.client_id, secret),
            )
        )
        return body["access_token"]

    return issue


def verify_with(jwks: jwt.PyJWKSet, token: str, audience: str = AUDIENCE) -> dict:
    """What a resource server does: pick the key by kid, verify with the key's own alg."""
    kid = jwt.get_unverified_header(token)["kid"]
    try:
        signing_key = jwks[kid]
    except KeyError as exc:
        raise jwt.InvalidKeyError(f"kid {kid} is not published") from exc
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=[signing_key.algorithm_name],
        audience=audience,
        issuer="https://auth.example.test/",
    )


def kids(jwks: jwt.PyJWKSet) -> set[str]:
    return {k.key_id for k in jwks.keys}


def test_token_from_before_a_rotation_still_verifies_after_it(signing_keys, new_token, fetch_jwks):
    before = new_token()
    keyring.rotate("RS256")
    jwks = fetch_jwks()
    assert verify_with(jwks, before)["aud"] == AUDIENCE
    after = new_token()
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert verify_with(jwks, after)["aud"] == AUDIENCE


def test_next_key_is_published_before_it_signs(signing_keys, new_token, fetch_jwks):
    """A resource server that cached the JWKS before a rotation can verify tokens after it."""
    cached_by_resource_server = fetch_jwks()
    keyring.rotate("RS256")
    token = new_token()
    assert jwt.get_unverified_header(token)["kid"] == signing_keys.next.kid
    assert verify_with(cached_by_resource_server, token)["aud"] == AUDIENCE


def test_jwks_publishes_next_current_and_previous(signing_keys, fetch_jwks):
    second = keyring.rotate("RS256")
    assert kids(fetch_jwks()) == {
        signing_keys.current.kid,  # now previous
        second.current.kid,
        second.next.kid,
    }
    assert second.previous[0].kid == signing_keys.current.kid


def test_revoked_key_leaves_the_jwks_and_its_tokens_stop_verifying(
    signing_keys, new_token, fetch_jwks
):
    token = new_token()
    keyring.rotate("RS256")
    assert verify_with(fetch_jwks(), token)  # also warms every cache on the way
    keyring.revoke(signing_keys.current.kid)
    jwks = fetch_jwks()
    assert signing_keys.current.kid not in kids(jwks)
    with pytest.raises(jwt.InvalidKeyError):
        verify_with(jwks, token)
    assert keyring.verification_key(signing_keys.current.kid) is None
    assert SigningKey.objects.get(kid=signing_keys.current.kid).state == "revoked"


def test_revoking_the_next_key_unpublishes_it(signing_keys, fetch_jwks):
    keyring.revoke(signing_keys.next.kid)
    assert kids(fetch_jwks()) == {signing_keys.current.kid}


def test_current_key_cannot_be_revoked(signing_keys, fetch_jwks):
    with pytest.raises(ValueError, match="current"):
        keyring.revoke(signing_keys.current.kid)
    assert signing_keys.current.kid in kids(fetch_jwks())


def test_revoking_an_unknown_kid_is_a_lookup_error(db):
    with pytest.raises(LookupError):
        keyring.revoke("no-such-kid")


@pytest.mark.fresh_keys
def test_tokens_are_verifiable_through_pyjwkclient_against_a_live_server(
    transactional_db, live_server, settings
):
    """Done means (issue 3): a token verifies with PyJWT's PyJWKClient against the JWKS URL."""
    from django.test import Client as HttpClient

    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "ISSUER": live_server.url + "/"}
    first = keyring.rotate("RS256")
    api = provisioning.create_api(identifier=AUDIENCE, name="API", scopes=["read"])
    created = provisioning.create_client(name="M", grant_types=["client_credentials"])
    provisioning.grant(created.client, api)
    http = HttpClient()

    def token() -> str:
        response = http.post(
            "/oauth/token",
            f"grant_type=client_credentials&audience={AUDIENCE}",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=_basic(created.client.client_id, created.secret),
        )
        return assert_token(response)["access_token"]

    old = token()
    keyring.rotate("RS256")
    new = token()
    jwks_client = jwt.PyJWKClient(
        live_server.url + "/.well-known/jwks.json", cache_keys=False, cache_jwk_set=False
    )
    for each in (old, new):
        key = jwks_client.get_signing_key_from_jwt(each)
        claims = jwt.decode(each, key.key, algorithms=["RS256"], audience=AUDIENCE)
        assert claims["iss"] == live_server.url + "/"
    keyring.revoke(first.current.kid)
    with pytest.raises(jwt.PyJWKClientError):
        jwks_client.get_signing_key_from_jwt(old)


def _basic(client_id: str, secret: str | None) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- algorithms ----------------------------------------------------------------------------


@pytest.mark.fresh_keys
@pytest.mark.parametrize(
    ("alg", "kty", "crv"),
    [
        ("RS256", "RSA", None),
        ("PS256", "RSA", None),
        ("ES256", "EC", "P-256"),
        ("EdDSA", "OKP", "Ed25519"),
    ],
)
def test_api_signing_alg_picks_the_key_and_the_jwks_verifies_it(
    signing_keys, make_client, token_request, fetch_jwks, alg, kty, crv
):
    ring = keyring.rotate(alg) if alg != "RS256" else signing_keys
    api = provisioning.create_api(
        identifier=f"https://{alg.lower()}.example.com", name=alg, scopes=["x"], signing_alg=alg
    )
    client, secret = make_client(name="M")
    provisioning.grant(client, api)
    body = assert_token(
        token_request(
            {"grant_type": "client_credentials", "audience": api.identifier},
            auth=(client.client_id, secret),
        )
    )
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": alg, "kid": ring.current.kid, "typ": "at+jwt"}
    jwks = fetch_jwks()
    published = jwks[ring.current.kid]
    assert published.key_type == kty and published.algorithm_name == alg
    if crv:
        assert published._jwk_data["crv"] == crv
    assert verify_with(jwks, body["access_token"], audience=api.identifier)["scope"] == "x"


def test_api_without_a_key_for_its_alg_gets_a_json_server_error(
    signing_keys, make_client, token_request
):
    """No current ES256 key: an operator's mistake (check E010), never a wrongly signed token."""
    api = provisioning.create_api(
        identifier="https://es.example.com", name="ES", scopes=["x"], signing_alg="ES256"
    )
    client, secret = make_client(name="M")
    provisioning.grant(client, api)
    response = token_request(
        {"grant_type": "client_credentials", "audience": api.identifier},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


# --- the JWKS document ------------------------------------------------------------------------


def test_jwks_holds_only_public_members(signing_keys, client):
    for alg in ("PS256", "ES256", "EdDSA"):
        keyring.rotate(alg)
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 8
    for jwk in keys:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert jwk["use"] == "sig"
        assert jwk["alg"] in {"RS256", "PS256", "ES256", "EdDSA"}
        assert isinstance(jwk["kid"], str) and jwk["kid"]
    assert len({k["kid"] for k in keys}) == 8


def test_jwks_has_cache_headers_and_its_media_type(signing_keys, client):
    response = client.get("/.well-known/jwks.json")
    assert response["Content-Type"] == "application/jwk-set+json"
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "public" in directives
    assert "max-age=300" in directives
    assert response["Access-Control-Allow-Origin"] == "*"


def test_jwks_max_age_follows_the_setting(signing_keys, client, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "JWKS_CACHE_SECONDS": 60}
    assert "max-age=60" in client.get("/.well-known/jwks.json")["Cache-Control"]


def test_jwks_without_keys_is_an_empty_set(db, client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/openid-configuration"])
def test_discovery_documents_refuse_post_in_json(signing_keys, client, path):
    response = client.post(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert response["Allow"] == "GET, HEAD"


def test_jwks_answers_head(signing_keys, client):
    response = client.head("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"


# --- prune ---------------------------------------------------------------------------------------


def _age(kid: str, **fields: timedelta) -> None:
    now = timezone.now()
    for key in SigningKey.objects.filter(kid=kid):
        for name, delta in fields.items():
            setattr(key, name, now - delta)
        key.save()


def test_prune_keeps_a_previous_key_while_its_tokens_may_live(signing_keys):
    keyring.rotate("RS256")
    _age(signing_keys.current.kid, retired_at=timedelta(hours=23))
    assert keyring.prune() == []
    assert SigningKey.objects.filter(kid=signing_keys.current.kid, state="previous").exists()


def test_prune_deletes_a_previous_key_older_than_every_token_it_signed(signing_keys, fetch_jwks):
    ring = keyring.rotate("RS256")
    _age(signing_keys.current.kid, retired_at=timedelta(days=1, minutes=1))
    pruned = keyring.prune()
    assert [k.kid for k in pruned] == [signing_keys.current.kid]
    assert kids(fetch_jwks()) == {ring.current.kid, ring.next.kid}


def test_prune_waits_for_the_longest_api_lifetime(signing_keys):
    provisioning.create_api(
        identifier="https://long.example.com", name="L", token_lifetime=7 * 86400
    )
    keyring.rotate("RS256")
    _age(signing_keys.current.kid, retired_at=timedelta(days=3))
    assert keyring.prune() == []
    _age(signing_keys.current.kid, retired_at=timedelta(days=7, minutes=1))
    assert [k.kid for k in keyring.prune()] == [signing_keys.current.kid]


def test_prune_never_touches_current_or_next_keys(signing_keys):
    _age(signing_keys.current.kid, activated_at=timedelta(days=400))
    SigningKey.objects.update(created_at=timezone.now() - timedelta(days=400))
    assert keyring.prune() == []
    assert SigningKey.objects.count() == 2


def test_prune_deletes_revoked_keys_after_the_same_period(signing_keys):
    keyring.rotate("RS256")
    keyring.revoke(signing_keys.current.kid)
    assert keyring.prune() == []
    _age(signing_keys.current.kid, revoked_at=timedelta(days=2))
    assert [k.kid for k in keyring.prune()] == [signing_keys.current.kid]
