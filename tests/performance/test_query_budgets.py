"""Statement budgets of the token endpoint, per grant (issues 8 and 16): the hot path reads
clients, APIs, grants and keys from the process memo, so what remains are the statements a
grant cannot avoid: its single-use artefact, read once and consumed by one conditional UPDATE,
and the rows it stores. Counted without the transaction's BEGIN/COMMIT and without the change-
generation read a process-local cache adds (``tests/queries.py``). A change that adds a
statement per request fails here before it shows up in bench/."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from oauth_token.registry import keyring, snapshots
from tests.authorize.helpers import API, CALLBACK
from tests.queries import assert_max_statements, assert_no_query_but_change_generation

pytestmark = pytest.mark.django_db

FULL_SCOPE = "openid profile offline_access read:things"


def _warm(client: Any) -> None:
    """What a running server has cached already: the client and the key set."""
    assert snapshots.get_client(client.client_id) is not None
    keyring.key_set()


def test_client_credentials_warm_makes_no_query(signing_keys, m2m_client, token_request):
    """None but the change generation, with the process-local cache of these tests."""
    client, secret = m2m_client
    data = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
    assert token_request(data, auth=(client.client_id, secret)).status_code == 200
    with assert_no_query_but_change_generation():
        assert token_request(data, auth=(client.client_id, secret)).status_code == 200


def test_code_redemption_budget(
    signing_keys,
    offline_api,
    user,
    first_party_app,
    obtain_code,
    token_request,
):
    """The code with its user; a refresh family and its first token (which records the access
    token issued with it); one conditional UPDATE that consumes the code and records what it
    issued (was 7, then 5)."""
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope=FULL_SCOPE, audience=API)
    _warm(client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    with assert_max_statements(4):
        response = token_request(data, auth=(client.client_id, secret))
    body = response.json()
    assert response.status_code == 200, body
    assert {"access_token", "id_token", "refresh_token"} <= set(body)


def test_refresh_rotation_budget(
    signing_keys,
    offline_api,
    user,
    first_party_app,
    obtain_code,
    token_request,
):
    """The token with its family and user, read; the conditional UPDATE that consumes it (only
    while unused and its family live); the successor, which records the access token issued
    with it (was 6, then 4). On PostgreSQL the last two are one statement, so a rotation is
    two round trips and no transaction at all."""
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope=FULL_SCOPE, audience=API)
    first = token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
    ).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    _warm(client)
    with assert_max_statements(2 if connection.vendor == "postgresql" else 3):
        response = token_request(data, auth=(client.client_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"] != first["refresh_token"]


def test_replayed_code_is_refused_within_budget(
    signing_keys,
    offline_api,
    user,
    first_party_app,
    obtain_code,
    token_request,
):
    """A replay costs a bounded number of queries too (it revokes what the code issued)."""
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope=FULL_SCOPE, audience=API)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    assert token_request(data, auth=(client.client_id, secret)).status_code == 200
    _warm(client)
    with assert_max_statements(8):
        response = token_request(data, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
