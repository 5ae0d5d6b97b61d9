"""Users, groups and roles on the example API with RBAC on, and a password-grant client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group

from oauth_token.models import Api, Client
from oauth_token.registry import roles

PASSWORD = "pw-for-rbac-tests"


@pytest.fixture
def rbac_api(api: Api) -> Api:
    api.rbac = True
    api.permissions_in_token = True
    api.allow_offline_access = True
    api.save()
    return api


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def editors(bob: Any) -> Group:
    group = Group.objects.create(name="editors")
    bob.groups.add(group)
    return group


@pytest.fixture
def reader_role(rbac_api: Api) -> Any:
    return roles.create_role(name="reader", api=rbac_api, permissions=["read:things"])


@pytest.fixture
def password_client(make_client: Any, signing_keys: Any) -> tuple[Client, str]:
    client, secret = make_client(name="Legacy", grant_types=["password", "refresh_token"])
    assert secret is not None
    return client, secret


@pytest.fixture
def password_token(
    token_request: Callable[..., Any], password_client: tuple[Client, str]
) -> Callable[..., Any]:
    """POST the password grant for bob; returns the response."""

    def post(scope: str, username: str = "bob") -> Any:
        client, secret = password_client
        return token_request(
            {
                "grant_type": "password",
                "username": username,
                "password": PASSWORD,
                "audience": "https://api.example.com",
                "scope": scope,
            },
            auth=(client.client_id, secret),
        )

    return post
