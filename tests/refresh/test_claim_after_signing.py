"""The write paths sign first and write last (``BaseGrant.writes_after_signing``): the code,
refresh and password grants read without a transaction, sign, and only then open one short
transaction that consumes what was read with a guarded UPDATE and stores what replaces it.

What that must never allow: anything that changed between the read and the claim (the family
revoked, the token used by someone else) slipping through. The guard re-checks both in the
claim's own statement, and a request whose claim finds them changed is decided again under
lock, exactly as a request that had seen the change from the start.

The changes are injected at the one moment the optimistic path opens: while the access token
is being signed (``keyring.sign``), when no transaction is open. They commit at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from oauth_token.models import AuthorizationCode, RefreshToken, RefreshTokenFamily
from oauth_token.registry import keyring
from oauth_token.tokens import refresh_tokens
from oauth_token.tokens.revocation import is_revoked
from tests import kit
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def family(offline_api: Any, rt_client: Any, start_family: Any) -> Any:
    client, _ = rt_client
    return start_family(client)


def _while_signing(monkeypatch: pytest.MonkeyPatch, action: Any) -> list[bool]:
    """Run ``action`` once, during the first signature of the next request; return whether a
    transaction was open at each signature."""
    real_sign = keyring.sign
    in_transaction: list[bool] = []

    def sign(*args: Any, **kwargs: Any) -> str:
        in_transaction.append(connection.in_atomic_block)
        if len(in_transaction) == 1:
            action()
        return real_sign(*args, **kwargs)

    monkeypatch.setattr(keyring, "sign", sign)
    return in_transaction


def test_revocation_between_read_and_claim_issues_nothing(family, refresh, monkeypatch):
    """The family is revoked (an admin, /oauth/revoke, a detected reuse elsewhere) after the
    grant read it as live: without the claim's family guard the rotation would store a
    successor in a revoked family, and its access token would escape the denylist."""
    _while_signing(
        monkeypatch,
        lambda: refresh_tokens.revoke_family(RefreshTokenFamily.objects.get(), "admin"),
    )

    response = refresh(family.refresh_token)

    kit.assert_oauth_error(response, 400, "invalid_grant")
    assert "revoked" in response.json()["error_description"]
    assert RefreshToken.objects.count() == 1, "no successor stored"
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_reason == "admin"


def test_rotation_off_revocation_between_read_and_claim_issues_nothing(
    settings, family, refresh, monkeypatch
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "REFRESH_TOKEN_ROTATION": False}
    _while_signing(
        monkeypatch,
        lambda: refresh_tokens.revoke_family(RefreshTokenFamily.objects.get(), "admin"),
    )

    kit.assert_oauth_error(refresh(family.refresh_token), 400, "invalid_grant")
    token = RefreshToken.objects.get()
    assert token.last_used_at is None, "the revoked token was not marked used"
    assert not refresh_tokens.issued_access_tokens(RefreshTokenFamily.objects.get())[1:]


def test_use_between_read_and_claim_is_reuse_and_revokes_the_family(family, refresh, monkeypatch):
    """Another request (a thief, or the client racing itself) rotates the token while this one
    signs: this request's claim finds it used, which is reuse (RFC 9700 §4.14.2): the family
    is revoked and the other request's access token with it."""
    stolen: dict[str, Any] = {}

    def thief_rotates() -> None:
        monkeypatch.undo()  # the thief's own request signs normally
        stolen["body"] = refresh(family.refresh_token).json()

    _while_signing(monkeypatch, thief_rotates)
    response = refresh(family.refresh_token)

    kit.assert_oauth_error(response, 400, "invalid_grant")
    assert "already been used" in response.json()["error_description"]
    family_row = RefreshTokenFamily.objects.get()
    assert family_row.revoked_reason == "reuse"
    assert is_revoked(access_claims(stolen["body"]["access_token"])["jti"])
    assert RefreshToken.objects.count() == 2, "only the thief's successor was stored"


def test_use_between_read_and_claim_within_leeway_returns_the_same_successor(
    settings, family, refresh, monkeypatch
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "REFRESH_TOKEN_REUSE_LEEWAY": 30}
    first: dict[str, Any] = {}

    def other_tab_rotates() -> None:
        monkeypatch.undo()
        first["body"] = refresh(family.refresh_token).json()

    _while_signing(monkeypatch, other_tab_rotates)
    response = refresh(family.refresh_token)

    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"] == first["body"]["refresh_token"]
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert RefreshToken.objects.count() == 2


def test_refresh_signs_outside_any_transaction_and_stores_after(family, refresh, monkeypatch):
    """The point of the order: on SQLite the single write lock is not held while RSA runs."""
    in_transaction = _while_signing(monkeypatch, lambda: None)

    response = refresh(family.refresh_token)

    assert response.status_code == 200, response.content
    assert in_transaction == [False, False]  # the access token, then the ID token (openid)
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
    assert RefreshToken.objects.count() == 2


def test_code_redemption_signs_both_tokens_outside_any_transaction(
    signing_keys, first_party_app, offline_api, obtain_code, token_request, monkeypatch
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    in_transaction = _while_signing(monkeypatch, lambda: None)

    response = token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
    )

    assert response.status_code == 200, response.content
    assert {"access_token", "id_token", "refresh_token"} <= set(response.json())
    assert in_transaction == [False, False]  # the access token, then the ID token
    assert RefreshTokenFamily.objects.filter(client=client).count() == 1


def test_code_redeemed_by_another_request_while_signing_is_a_replay(
    signing_keys, first_party_app, offline_api, obtain_code, token_request, monkeypatch
):
    """Two redemptions of one code overlapping: the one that claims second finds the code
    used and is refused, and the first one's tokens are revoked (RFC 6749 §4.1.2)."""
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    first: dict[str, Any] = {}

    def other_redeems() -> None:
        monkeypatch.undo()
        first["body"] = token_request(form, auth=(client.client_id, secret)).json()

    _while_signing(monkeypatch, other_redeems)
    response = token_request(form, auth=(client.client_id, secret))

    kit.assert_oauth_error(response, 400, "invalid_grant")
    assert AuthorizationCode.objects.get(client=client).used_at is not None
    assert RefreshTokenFamily.objects.get(client=client).revoked_at is not None
    assert is_revoked(access_claims(first["body"]["access_token"])["jti"])
