"""The authorization_code grant (RFC 6749 §4.1.3, §4.1.2; RFC 7636 §4.6; RFC 9700 §2.1.1)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from oauth_token.models import AuthorizationCode, RefreshTokenFamily, RevokedAccessToken
from oauth_token.registry import keyring
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK, ISSUER, OTHER_CALLBACK

pytestmark = pytest.mark.django_db


def exchange(token_request, client, secret, code, verifier, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    if secret is None:
        return token_request({**data, "client_id": client.client_id})
    return token_request(data, auth=(client.client_id, secret))


def decode(token: str, audience: str | list[str] | None = None) -> dict:
    header = jwt.get_unverified_header(token)
    alg, key = keyring.verification_key(header["kid"])
    options = {} if audience else {"verify_aud": False}
    return jwt.decode(token, key, algorithms=[alg], audience=audience, options=options)


def assert_invalid_grant(response, text: str | None = None) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant"
    if text:
        assert text in body["error_description"]
    assert response["Cache-Control"] == "no-store"


def state_of_codes() -> list[tuple]:
    return list(AuthorizationCode.objects.values_list("pk", "used_at", "access_token_jti"))


# --- success --------------------------------------------------------------------------------


def test_exchanges_a_code_for_tokens(
    signing_keys, first_party_app, offline_api, obtain_code, token_request, user
):
    client, secret = first_party_app
    code, verifier = obtain_code(
        client, scope="openid profile read:things", audience=API, nonce="nonce-1"
    )
    response = exchange(token_request, client, secret, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile read:things"
    assert body["expires_in"] == 86400
    assert "refresh_token" not in body  # offline_access was not requested
    assert response["Cache-Control"] == "no-store"
    access = decode(body["access_token"], audience=API)
    assert access["sub"] == str(user.pk)
    assert access["client_id"] == client.client_id
    assert access["iss"] == ISSUER
    assert access["scope"] == "openid profile read:things"
    row = AuthorizationCode.objects.get()
    assert row.used_at is not None
    assert row.access_token_jti == access["jti"]
    assert int(row.access_token_expires_at.timestamp()) == access["exp"]
    id_token = decode(body["id_token"], audience=client.client_id)
    assert id_token["nonce"] == "nonce-1"
    assert id_token["sub"] == str(user.pk)


def test_public_client_with_pkce(signing_keys, first_party_spa, obtain_code, token_request):
    code, verifier = obtain_code(first_party_spa)
    response = exchange(token_request, first_party_spa, None, code, verifier)
    assert response.status_code == 200, response.content
    assert "id_token" in response.json()


def test_code_for_openid_only_has_no_api(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid email")
    response = exchange(token_request, client, secret, code, verifier)
    assert response.status_code == 200, response.content
    access = decode(response.json()["access_token"])
    assert access["aud"] == ISSUER + "userinfo"  # no API: only /userinfo
    assert access["scope"] == "openid email"


def test_redirect_uri_may_be_omitted_when_it_was_at_authorize(
    signing_keys, first_party_spa, obtain_code, token_request
):
    code, verifier = obtain_code(first_party_spa, redirect_uri=None)
    response = exchange(token_request, first_party_spa, None, code, verifier, redirect_uri=None)
    assert response.status_code == 200, response.content


def test_confidential_client_without_pkce(
    signing_keys, first_party_app, obtain_code, token_request
):
    client, secret = first_party_app
    code, _ = obtain_code(client, pkce=False)
    response = exchange(token_request, client, secret, code, None)
    assert response.status_code == 200, response.content


# --- replay (RFC 6749 §4.1.2) ----------------------------------------------------------------


def test_replayed_code_revokes_issued_tokens(
    signing_keys, first_party_app, obtain_code, token_request
):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    first = exchange(token_request, client, secret, code, verifier)
    assert first.status_code == 200
    jti = decode(first.json()["access_token"])["jti"]
    assert not RevokedAccessToken.objects.exists()

    second = exchange(token_request, client, secret, code, verifier)
    assert_invalid_grant(second, "already been used")
    assert "access_token" not in second.json()
    revoked = RevokedAccessToken.objects.get()
    assert revoked.jti == jti
    assert revoked.client_id == client.client_id
    assert revoked.reason == "code_replay"
    # A third attempt is refused the same way and lists nothing twice.
    assert_invalid_grant(exchange(token_request, client, secret, code, verifier))
    assert RevokedAccessToken.objects.count() == 1


def test_replay_by_another_client_also_revokes(
    signing_keys, first_party_app, web_app, obtain_code, token_request
):
    client, secret = first_party_app
    other, other_secret = web_app
    code, verifier = obtain_code(client)
    assert exchange(token_request, client, secret, code, verifier).status_code == 200
    assert_invalid_grant(exchange(token_request, other, other_secret, code, verifier))
    assert RevokedAccessToken.objects.count() == 1


# --- refusals: invalid_grant, nothing consumed ----------------------------------------------


def test_unknown_code(signing_keys, first_party_app, token_request):
    client, secret = first_party_app
    assert_invalid_grant(exchange(token_request, client, secret, "x" * 43, "v" * 43))


def test_missing_code_is_invalid_request(signing_keys, first_party_app, token_request):
    client, secret = first_party_app
    response = exchange(token_request, client, secret, None, None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_code_of_another_client(signing_keys, first_party_app, web_app, obtain_code, token_request):
    client, secret = first_party_app
    other, other_secret = web_app
    code, verifier = obtain_code(client)
    before = state_of_codes()
    assert_invalid_grant(
        exchange(token_request, other, other_secret, code, verifier), "another client"
    )
    assert state_of_codes() == before
    # The rightful client can still redeem it.
    assert exchange(token_request, client, secret, code, verifier).status_code == 200


def test_expired_code(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = state_of_codes()
    assert_invalid_grant(exchange(token_request, client, secret, code, verifier), "expired")
    assert state_of_codes() == before


def test_redirect_uri_mismatch(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    before = state_of_codes()
    response = exchange(token_request, client, secret, code, verifier, redirect_uri=OTHER_CALLBACK)
    assert_invalid_grant(response, "redirect_uri")
    assert state_of_codes() == before


def test_redirect_uri_required_when_sent_at_authorize(
    signing_keys, first_party_app, obtain_code, token_request
):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    response = exchange(token_request, client, secret, code, verifier, redirect_uri=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert AuthorizationCode.objects.get().used_at is None


def test_unregistered_redirect_uri_when_none_was_sent(
    signing_keys, first_party_spa, obtain_code, token_request
):
    code, verifier = obtain_code(first_party_spa, redirect_uri=None)
    response = exchange(
        token_request, first_party_spa, None, code, verifier, redirect_uri="https://evil.example/"
    )
    assert_invalid_grant(response, "redirect_uri")


def test_pkce_verifier_mismatch(signing_keys, first_party_spa, obtain_code, token_request):
    code, _ = obtain_code(first_party_spa)
    before = state_of_codes()
    response = exchange(token_request, first_party_spa, None, code, "w" * 43)
    assert_invalid_grant(response, "code_verifier")
    assert state_of_codes() == before


def test_pkce_verifier_missing(signing_keys, first_party_spa, obtain_code, token_request):
    code, _ = obtain_code(first_party_spa)
    assert_invalid_grant(exchange(token_request, first_party_spa, None, code, None), "required")


@pytest.mark.parametrize("verifier", ["short", "a" * 129, "a" * 42 + "!"])
def test_pkce_malformed_verifier(
    signing_keys, first_party_spa, obtain_code, token_request, verifier
):
    code, _ = obtain_code(first_party_spa)
    assert_invalid_grant(exchange(token_request, first_party_spa, None, code, verifier))


def test_pkce_challenge_is_not_a_verifier(signing_keys, first_party_spa, authorize, token_request):
    """An S256 code cannot be redeemed by sending the challenge itself (a plain downgrade)."""
    from tests.authorize.helpers import assert_redirect_params, pkce_pair

    _, challenge = pkce_pair()
    code = assert_redirect_params(
        authorize(first_party_spa, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    assert_invalid_grant(exchange(token_request, first_party_spa, None, code, challenge))


def test_verifier_for_a_code_without_pkce_is_refused(
    signing_keys, first_party_app, obtain_code, token_request
):
    """RFC 9700 §2.1.1: prevents PKCE downgrade."""
    client, secret = first_party_app
    code, _ = obtain_code(client, pkce=False)
    assert_invalid_grant(exchange(token_request, client, secret, code, "v" * 43), "without PKCE")


@pytest.mark.django_db
def test_plain_pkce_when_allowed(signing_keys, first_party_spa, authorize, token_request, settings):
    from tests.authorize.helpers import assert_redirect_params, oauth_settings_with

    settings.OAUTH_TOKEN = oauth_settings_with(PKCE_ALLOW_PLAIN=True)
    verifier = "p" * 60
    code = assert_redirect_params(
        authorize(first_party_spa, code_challenge=verifier, code_challenge_method="plain")
    )["code"]
    assert_invalid_grant(exchange(token_request, first_party_spa, None, code, "q" * 60))
    assert exchange(token_request, first_party_spa, None, code, verifier).status_code == 200


def test_inactive_user(signing_keys, first_party_app, obtain_code, token_request, user):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    user.is_active = False
    user.save()
    assert_invalid_grant(
        exchange(token_request, client, secret, code, verifier), "no longer active"
    )


def test_client_not_allowed_the_grant(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app
    code, verifier = obtain_code(client)
    client.grant_types = ["client_credentials"]
    client.save()
    response = exchange(token_request, client, secret, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert AuthorizationCode.objects.get().used_at is None


def test_wrong_client_secret(signing_keys, first_party_app, obtain_code, token_request):
    client, _ = first_party_app
    code, verifier = obtain_code(client)
    response = exchange(token_request, client, "wrong", code, verifier)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert AuthorizationCode.objects.get().used_at is None


def test_api_deleted_after_authorization(
    signing_keys, first_party_app, offline_api, obtain_code, token_request
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid read:things", audience=API)
    offline_api.delete()
    assert_invalid_grant(exchange(token_request, client, secret, code, verifier), "no longer")
    assert AuthorizationCode.objects.get().used_at is None


# --- refresh tokens from a code ---------------------------------------------------------------


def test_offline_access_returns_a_refresh_token(
    signing_keys, first_party_app, offline_api, obtain_code, token_request, user
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    body = exchange(token_request, client, secret, code, verifier).json()
    assert body["scope"] == "openid offline_access read:things"
    assert body["refresh_token"]
    family = RefreshTokenFamily.objects.get()
    assert (family.user, family.client, family.audience) == (user, client, API)
    assert AuthorizationCode.objects.get().refresh_family == family


def test_no_refresh_token_without_offline_access(
    signing_keys, first_party_app, offline_api, obtain_code, token_request
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid read:things", audience=API)
    body = exchange(token_request, client, secret, code, verifier).json()
    assert "refresh_token" not in body
    assert not RefreshTokenFamily.objects.exists()
    assert AuthorizationCode.objects.get().refresh_family is None


def test_replayed_code_revokes_the_refresh_token_family(
    signing_keys, first_party_app, offline_api, obtain_code, token_request
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    first = exchange(token_request, client, secret, code, verifier).json()
    # The refresh token works, and issues a second access token from the family.
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.content
    refreshed = refreshed.json()

    assert_invalid_grant(exchange(token_request, client, secret, code, verifier))

    family = RefreshTokenFamily.objects.get()
    assert family.revoked_at is not None
    revoked = set(RevokedAccessToken.objects.values_list("jti", flat=True))
    assert revoked == {
        decode(first["access_token"])["jti"],
        decode(refreshed["access_token"])["jti"],
    }
    for token in (first["refresh_token"], refreshed["refresh_token"]):
        again = token_request(
            {"grant_type": "refresh_token", "refresh_token": token},
            auth=(client.client_id, secret),
        )
        assert_invalid_grant(again)


# --- cleanup ----------------------------------------------------------------------------------


def test_cleanup_keeps_used_codes_while_a_replay_could_revoke_something(
    signing_keys, first_party_app, offline_api, obtain_code, token_request
):
    from oauth_token.tokens import cleanup

    client, secret = first_party_app
    obtain_code(client)  # never redeemed
    used, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    assert exchange(token_request, client, secret, used, verifier).status_code == 200
    used_row = AuthorizationCode.objects.get(used_at__isnull=False)
    later = timezone.now() + timedelta(seconds=120)  # both codes past their 60 s lifetime

    assert cleanup.run(now=later)["authorization_codes"] == 1  # the unused one
    assert list(AuthorizationCode.objects.values_list("pk", flat=True)) == [used_row.pk]
    # Past its access token's expiry, the code still leads to a live refresh family.
    after_access = used_row.access_token_expires_at + timedelta(seconds=1)
    assert cleanup.run(now=after_access)["authorization_codes"] == 0
    # Once that family is gone, nothing is left for a replay to revoke.
    RefreshTokenFamily.objects.all().delete()
    assert cleanup.run(now=after_access)["authorization_codes"] == 1
    assert not AuthorizationCode.objects.exists()
