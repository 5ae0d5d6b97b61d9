"""A failure between "mark the artefact used" and "store what it produced" leaves no half
state: consuming the artefact and storing what it produced share one transaction (issuance's,
opened after signing: token_endpoint/issuance.py), so either both happen or neither (DESIGN
"Storage and scale"; RFC 6749 §4.1.2, §6).

Failures are injected after the code (or refresh token) was consumed: the signer raising (an
operator's key problem, 500) and the database failing while the tokens are being stored (503).
Each time the artefact must still be unused, nothing must have been issued, and a retry must
then succeed exactly once.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import OperationalError

from oauth_token.authorize import codes
from oauth_token.errors import ConfigurationError
from oauth_token.models import AuthorizationCode, RefreshToken, RefreshTokenFamily
from oauth_token.registry import keyring
from oauth_token.tokens import refresh_tokens
from tests import kit
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK

pytestmark = pytest.mark.django_db


def _redeem(api_client, client, secret, code, verifier):
    return api_client.generic(
        "POST",
        "/oauth/token",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=kit.basic(client.client_id, secret),
    )


@pytest.fixture
def code_setup(signing_keys, first_party_app, offline_api, obtain_code):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    return client, secret, code, verifier


def assert_nothing_issued(client) -> None:
    assert AuthorizationCode.objects.get(client=client).used_at is None
    assert not RefreshTokenFamily.objects.filter(client=client).exists()


def test_signer_failure_after_the_code_was_consumed_leaves_it_unused(
    api_client, code_setup, monkeypatch
):
    client, secret, code, verifier = code_setup

    def broken_signer(*args, **kwargs):
        raise ConfigurationError("signing key cannot be decrypted")

    monkeypatch.setattr(keyring, "sign", broken_signer)
    response = _redeem(api_client, client, secret, code, verifier)
    kit.assert_oauth_error(response, 500, "server_error")
    assert_nothing_issued(client)

    monkeypatch.undo()
    retry = _redeem(api_client, client, secret, code, verifier)
    assert retry.status_code == 200, retry.content
    assert {"access_token", "id_token", "refresh_token"} <= set(retry.json())
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, code, verifier), 400, "invalid_grant"
    )


def test_database_failure_while_storing_tokens_rolls_everything_back(
    api_client, code_setup, monkeypatch
):
    """The refresh family was already written when the database fails recording what the code
    produced: the family, the code's consumption and the recording all roll back together."""
    client, secret, code, verifier = code_setup

    def storage_dies(row, jti, expires_at, family):
        assert RefreshTokenFamily.objects.filter(client=client).exists()  # written, not committed
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(codes, "record_issued", storage_dies)
    response = _redeem(api_client, client, secret, code, verifier)
    kit.assert_oauth_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "2"
    assert_nothing_issued(client)

    monkeypatch.undo()
    assert _redeem(api_client, client, secret, code, verifier).status_code == 200
    assert RefreshTokenFamily.objects.filter(client=client).count() == 1


def test_failure_starting_the_refresh_family_leaves_the_code_unused(
    api_client, code_setup, monkeypatch
):
    client, secret, code, verifier = code_setup

    def refuse(*args, **kwargs):
        raise OperationalError("could not serialize access")

    monkeypatch.setattr(refresh_tokens, "start_family", refuse)
    kit.assert_oauth_error(
        _redeem(api_client, client, secret, code, verifier), 503, "temporarily_unavailable"
    )
    assert_nothing_issued(client)


def test_signer_failure_during_refresh_rotation_keeps_the_old_token_valid(
    api_client, code_setup, monkeypatch
):
    client, secret, code, verifier = code_setup
    first = _redeem(api_client, client, secret, code, verifier).json()
    family = RefreshTokenFamily.objects.get(client=client)
    form = urlencode({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})

    def post():
        return api_client.generic(
            "POST",
            "/oauth/token",
            form,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=kit.basic(client.client_id, secret),
        )

    monkeypatch.setattr(
        keyring, "sign", lambda *a, **k: (_ for _ in ()).throw(ConfigurationError("no current key"))
    )
    kit.assert_oauth_error(post(), 500, "server_error")
    assert RefreshToken.objects.filter(family=family).count() == 1
    assert RefreshToken.objects.get(family=family).used_at is None
    family.refresh_from_db()
    assert family.revoked_at is None

    monkeypatch.undo()
    rotated = post()
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert RefreshToken.objects.filter(family=family).count() == 2
