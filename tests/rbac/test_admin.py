"""The admin edits roles (permissions must be scopes of the role's API) and shows a user's
effective permissions per API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oauth_token.models import Role
from oauth_token.registry import roles

pytestmark = pytest.mark.django_db


def test_add_a_role_through_the_admin(admin_client, rbac_api, bob):
    response = admin_client.post(
        reverse("admin:oauth_token_role_add"),
        {
            "name": "reader",
            "description": "",
            "api": rbac_api.pk,
            "permissions": "read:things\nwrite:things",
            "users": [bob.pk],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    role = Role.objects.get(name="reader")
    assert role.permissions == ["read:things", "write:things"]
    assert list(role.users.all()) == [bob]
    page = admin_client.get(reverse("admin:oauth_token_role_change", args=[role.pk]))
    assert page.status_code == 200


def test_a_permission_the_api_lacks_is_refused(admin_client, rbac_api):
    response = admin_client.post(
        reverse("admin:oauth_token_role_add"),
        {"name": "bad", "description": "", "api": rbac_api.pk, "permissions": "fly:away"},
    )
    assert response.status_code == 200
    assert "has no scope(s): fly:away" in response.content.decode()
    assert not Role.objects.exists()


def test_changelist_renders(admin_client, reader_role):
    response = admin_client.get(reverse("admin:oauth_token_role_changelist") + "?q=reader")
    assert response.status_code == 200
    assert "read:things" in response.content.decode()


def test_effective_permissions_per_api(admin_client, rbac_api, bob, editors):
    roles.assign(roles.create_role(name="r", api=rbac_api, permissions=["read:things"]), user=bob)
    writer = roles.create_role(name="w", api=rbac_api, permissions=["write:things"])
    roles.assign(writer, group=editors)
    Group.objects.create(name="unrelated")
    url = reverse("admin:oauth_token_role_effective")
    page = admin_client.get(url, {"user": "bob"}).content.decode()
    assert "https://api.example.com" in page
    assert "<code>read:things</code> <code>write:things</code>" in page
    assert "No user nobody" in admin_client.get(url, {"user": "nobody"}).content.decode()


def test_effective_permissions_need_the_admin(client):
    response = client.get(reverse("admin:oauth_token_role_effective"))
    assert response.status_code == 302
