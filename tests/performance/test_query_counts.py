"""The token endpoint's hot path: with a warm cache, client_credentials reads no client, API,
grant or key from the database (the local-memory cache of these tests costs one read of the
change generation; Redis none, tests/performance/test_shared_cache.py), yet every change an
operator makes — secret rotation, client deletion, grant or scope change, key rotation —
applies to the very next request."""

from __future__ import annotations

import jwt
import pytest

from oauth_token.models import ApiScope, Client, ClientGrant
from oauth_token.registry import keyring, provisioning
from tests.queries import assert_no_query_but_change_generation
from tests.responses import assert_error, assert_invalid_client, assert_token

pytestmark = pytest.mark.django_db

AUDIENCE = "https://api.example.com"
CC = {"grant_type": "client_credentials", "audience": AUDIENCE}


@pytest.fixture
def warm(signing_keys, m2m_client, token_request):
    """A client whose lookups are cached: its second request is served without the database."""
    client, secret = m2m_client
    assert_token(token_request(CC, auth=(client.client_id, secret)))
    with assert_no_query_but_change_generation():
        assert_token(token_request(CC, auth=(client.client_id, secret)))
    return client, secret


def test_first_request_reads_the_database_and_later_ones_do_not(
    signing_keys,
    m2m_client,
    token_request,
    django_assert_max_num_queries,
):
    client, secret = m2m_client
    with django_assert_max_num_queries(10) as cold:
        assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert len(cold.captured_queries) > 0
    for _ in range(3):
        with assert_no_query_but_change_generation():
            assert_token(token_request(CC, auth=(client.client_id, secret)))


def test_json_body_and_narrowed_scope_also_make_no_query(warm, token_request):
    client, secret = warm
    with assert_no_query_but_change_generation():
        body = assert_token(
            token_request(
                {**CC, "scope": "read:things"}, auth=(client.client_id, secret), json=True
            )
        )
    assert body["scope"] == "read:things"


@pytest.mark.parametrize("alg", ["RS256", "ES256", "HS256"])
def test_assertion_clients_make_no_query_once_warm(
    signing_keys, make_jwt_client, token_request, alg
):
    jc = make_jwt_client(alg)
    assert_token(token_request(jc.params()))
    with assert_no_query_but_change_generation():
        assert_token(token_request(jc.params()))


def test_refusals_make_no_query_once_warm(warm, token_request):
    """Wrong secrets and unknown clients are answered from the cache too: a flood of bad
    credentials does not reach the database."""
    client, secret = warm
    assert_invalid_client(token_request(CC, auth=("ghost", "x")))
    with assert_no_query_but_change_generation():
        assert_invalid_client(token_request(CC, auth=(client.client_id, "wrong")))
    with assert_no_query_but_change_generation():
        assert_invalid_client(token_request(CC, auth=("ghost", "x")))
    with assert_no_query_but_change_generation():
        assert_error(
            token_request({**CC, "scope": "delete:things"}, auth=(client.client_id, secret)),
            "invalid_scope",
        )


# --- every change applies to the very next request -----------------------------------------


def test_secret_rotation_applies_at_once(warm, token_request):
    client, old_secret = warm
    new_secret = provisioning.rotate_secret(Client.objects.get(pk=client.pk))
    assert_invalid_client(token_request(CC, auth=(client.client_id, old_secret)))
    assert_token(token_request(CC, auth=(client.client_id, new_secret)))


def test_client_deletion_applies_at_once(warm, token_request):
    client, secret = warm
    Client.objects.get(pk=client.pk).delete()
    assert_invalid_client(token_request(CC, auth=(client.client_id, secret)))


def test_client_deactivation_applies_at_once(warm, token_request):
    client, secret = warm
    row = Client.objects.get(pk=client.pk)
    row.is_active = False
    row.save()
    assert_invalid_client(token_request(CC, auth=(client.client_id, secret)))


def test_grant_type_removal_applies_at_once(warm, token_request):
    client, secret = warm
    row = Client.objects.get(pk=client.pk)
    row.grant_types = ["authorization_code"]
    row.save()
    assert_error(token_request(CC, auth=(client.client_id, secret)), "unauthorized_client")


def test_client_grant_deletion_applies_at_once(warm, token_request):
    client, secret = warm
    ClientGrant.objects.get(client_id=client.pk).delete()
    assert_error(token_request(CC, auth=(client.client_id, secret)), "access_denied")


def test_client_grant_creation_applies_at_once(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    other = provisioning.create_api(identifier="https://other.example.com", name="O", scopes=["o"])
    request = {**CC, "audience": other.identifier}
    assert_error(token_request(request, auth=(client.client_id, secret)), "access_denied")
    provisioning.grant(Client.objects.get(pk=client.pk), other)
    assert assert_token(token_request(request, auth=(client.client_id, secret)))["scope"] == "o"


def test_grant_scope_change_applies_at_once(warm, api, token_request):
    client, secret = warm
    provisioning.grant(Client.objects.get(pk=client.pk), api, ["read:things"])
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert body["scope"] == "read:things"
    response = token_request({**CC, "scope": "write:things"}, auth=(client.client_id, secret))
    assert_error(response, "invalid_scope")


def test_api_scope_removal_applies_at_once(warm, token_request):
    client, secret = warm
    ApiScope.objects.get(api__identifier=AUDIENCE, name="write:things").delete()
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert body["scope"] == "read:things"


def test_api_lifetime_change_applies_at_once(warm, api, token_request):
    client, secret = warm
    api.access_token_lifetime = 120
    api.save()
    assert assert_token(token_request(CC, auth=(client.client_id, secret)))["expires_in"] == 120


def test_key_rotation_applies_at_once(warm, signing_keys, token_request):
    client, secret = warm
    keyring.rotate("RS256")
    token = assert_token(token_request(CC, auth=(client.client_id, secret)))["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == signing_keys.next.kid
