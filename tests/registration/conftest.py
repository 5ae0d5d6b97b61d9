from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.authorize.helpers import oauth_settings_with


@pytest.fixture
def registration_mode() -> Iterator[Callable[[str], None]]:
    """``registration_mode("open")``: REGISTRATION for the rest of the test."""
    overrides: list[Any] = []

    def set_mode(mode: str, **extra: Any) -> None:
        override = override_settings(OAUTH_TOKEN=oauth_settings_with(REGISTRATION=mode, **extra))
        override.enable()
        overrides.append(override)

    yield set_mode
    for override in reversed(overrides):
        override.disable()


@pytest.fixture
def register(api_client: Any) -> Callable[..., Any]:
    """POST /oauth/register with a JSON body (and a Bearer token when given)."""

    def post(body: Any, token: str | None = None, **headers: Any) -> Any:
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return api_client.post("/oauth/register", body, format="json", **headers)

    return post
