"""Fixtures shared by tests/revocation and tests/introspection (imported by their conftests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import basic

API = "https://api.example.com"


@pytest.fixture
def client_token(token_request: Any, signing_keys: Any) -> Callable[[tuple[str, str]], str]:
    """A client_credentials access token for (client_id, secret) from the token endpoint."""

    def obtain(auth: tuple[str, str]) -> str:
        response = token_request({"grant_type": "client_credentials", "audience": API}, auth=auth)
        assert response.status_code == 200, response.content
        return str(response.json()["access_token"])

    return obtain


@pytest.fixture
def m2m(m2m_client: Any) -> tuple[str, str]:
    client, secret = m2m_client
    return client.client_id, secret


@pytest.fixture
def other_m2m(make_client: Any, api: Any) -> tuple[str, str]:
    from oauth_token.registry import provisioning

    client, secret = make_client(name="Other machine")
    provisioning.grant(client, api, ["read:things"])
    return client.client_id, secret


@pytest.fixture
def post_form(api_client: Any) -> Callable[..., Any]:
    """POST form data to ``path``; ``auth=(id, secret)`` adds a Basic header."""

    def post(
        path: str, data: dict[str, str], auth: tuple[str, str] | None = None, **headers: Any
    ) -> Any:
        if auth:
            headers["HTTP_AUTHORIZATION"] = basic(*auth)
        return api_client.generic(
            "POST",
            path,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )

    return post


OFFLINE_API = "https://offline.example.com"
PASSWORD = "pw-alice-123"


@pytest.fixture
def offline_api(db: None) -> Any:
    from oauth_token.registry import provisioning

    return provisioning.create_api(
        identifier=OFFLINE_API,
        name="Offline API",
        scopes=["read:things"],
        allow_offline_access=True,
    )


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def app(make_client: Any) -> tuple[str, str]:
    """(client_id, secret) of a confidential app using the password and refresh grants."""
    client, secret = make_client(name="App", grant_types=["password", "refresh_token"])
    return client.client_id, secret


@pytest.fixture
def other_app(make_client: Any) -> tuple[str, str]:
    client, secret = make_client(name="Other app", grant_types=["password", "refresh_token"])
    return client.client_id, secret


@pytest.fixture
def offline_login(
    token_request: Any, signing_keys: Any, offline_api: Any, alice: Any
) -> Callable[[tuple[str, str]], dict[str, Any]]:
    """Tokens (access and refresh) for alice through the password grant."""

    def login(auth: tuple[str, str]) -> dict[str, Any]:
        response = token_request(
            {
                "grant_type": "password",
                "username": "alice",
                "password": PASSWORD,
                "audience": OFFLINE_API,
                "scope": "read:things offline_access",
            },
            auth=auth,
        )
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        assert body["refresh_token"]
        return body

    return login
