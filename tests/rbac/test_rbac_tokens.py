"""RBAC as Auth0 does it: on an API with RBAC, a user is granted the requested scopes that
the user's roles (direct or through a Django group) hold; with permissions in the token the
access token carries all of them as ``permissions``; a refresh drops what was removed since;
client_credentials stays limited by the client grant."""

from __future__ import annotations

import pytest

from oauth_token.registry import provisioning, roles
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db


def test_scope_is_requested_intersected_with_permissions(password_token, reader_role, bob):
    roles.assign(reader_role, user=bob)
    response = password_token("openid read:things write:things")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["scope"] == "openid read:things"
    claims = access_claims(body["access_token"])
    assert claims["scope"] == "openid read:things"
    assert claims["permissions"] == ["read:things"]


def test_permissions_claim_lists_every_permission_not_only_requested(
    password_token, rbac_api, bob, editors
):
    writer = roles.create_role(
        name="writer", api=rbac_api, permissions=["write:things", "delete:things"]
    )
    roles.assign(writer, group=editors)
    body = password_token("write:things").json()
    assert body["scope"] == "write:things"
    assert access_claims(body["access_token"])["permissions"] == [
        "delete:things",
        "write:things",
    ]


def test_a_user_without_roles_gets_no_api_scope(password_token, reader_role, bob):
    body = password_token("openid read:things").json()
    assert body["scope"] == "openid"
    claims = access_claims(body["access_token"])
    assert claims["permissions"] == []


def test_without_permissions_in_token_there_is_no_claim(password_token, reader_role, bob):
    reader_role.api.permissions_in_token = False
    reader_role.api.save()
    roles.assign(reader_role, user=bob)
    body = password_token("read:things write:things").json()
    assert body["scope"] == "read:things"
    assert "permissions" not in access_claims(body["access_token"])


def test_rbac_off_grants_what_is_requested(password_token, api, bob):
    body = password_token("read:things write:things").json()
    assert body["scope"] == "read:things write:things"
    assert "permissions" not in access_claims(body["access_token"])


def test_refresh_drops_permissions_removed_since(
    password_token, token_request, password_client, rbac_api, bob, editors
):
    reader = roles.create_role(name="reader", api=rbac_api, permissions=["read:things"])
    writer = roles.create_role(name="writer", api=rbac_api, permissions=["write:things"])
    roles.assign(reader, user=bob)
    roles.assign(writer, group=editors)
    first = password_token("read:things write:things offline_access").json()
    assert first["scope"] == "read:things write:things offline_access"
    roles.unassign(writer, group=editors)
    client, secret = password_client
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.json()
    body = refreshed.json()
    assert body["scope"] == "read:things offline_access"
    assert access_claims(body["access_token"])["permissions"] == ["read:things"]


def test_client_credentials_stays_limited_by_the_client_grant(
    token_request, m2m_client, rbac_api, signing_keys
):
    client, secret = m2m_client
    body = token_request(
        {"grant_type": "client_credentials", "audience": rbac_api.identifier},
        auth=(client.client_id, secret),
    ).json()
    assert body["scope"] == "read:things write:things"
    # As Auth0 does for machine-to-machine tokens: the granted scopes as permissions.
    assert access_claims(body["access_token"])["permissions"] == ["read:things", "write:things"]


@pytest.mark.urls("tests.rbac.urls")
def test_has_permission_reads_the_permissions_claim(
    password_token, api_client, rbac_api, bob, reader_role
):
    roles.assign(reader_role, user=bob)
    token = password_token("read:things").json()["access_token"]
    denied = api_client.get("/api/delete", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    assert 'scope="delete:things"' in denied["WWW-Authenticate"]
    admin = roles.create_role(name="admin", api=rbac_api, permissions=["delete:things"])
    roles.assign(admin, user=bob)
    # Not requested, yet held: permissions are what RBAC checks (as in Auth0).
    token = password_token("read:things").json()["access_token"]
    allowed = api_client.get("/api/delete", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert allowed.status_code == 200, allowed.json()
    assert allowed.json()["permissions"] == ["delete:things", "read:things"]


@pytest.mark.urls("tests.rbac.urls")
def test_has_permission_reads_scope_when_rbac_is_off(password_token, api_client, api, bob):
    token = password_token("read:things").json()["access_token"]
    assert api_client.get("/api/delete", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
    token = password_token("delete:things").json()["access_token"]
    assert api_client.get("/api/delete", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_has_permission_needs_a_name():
    from oauth_token.permissions import HasPermission

    with pytest.raises(ValueError, match="at least one permission"):
        HasPermission()


def test_removing_an_api_scope_removes_it_from_roles(rbac_api):
    role = roles.create_role(
        name="mixed", api=rbac_api, permissions=["read:things", "delete:things"]
    )
    from oauth_token.registry import updates

    updates.update_api(rbac_api, {}, ["read:things", "write:things"])
    role.refresh_from_db()
    assert role.permissions == ["read:things"]
    assert provisioning.get_api(rbac_api.identifier).scopes.count() == 2
