"""Device-flow fixtures: clients allowed the device grant, a person, and helpers that drive
the flow and move a device code's clock (no sleeping: timestamps are shifted instead)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from oauth_token.authorize import device as device_flow
from oauth_token.core import secrets
from oauth_token.models import Api, Client, DeviceCode
from oauth_token.registry import provisioning

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def offline_api(db: None) -> Api:
    return provisioning.create_api(
        identifier="https://tv.example.com",
        name="TV API",
        scopes=["watch", "record"],
        allow_offline_access=True,
    )


@pytest.fixture
def tv_client(make_client: Any, api: Api) -> tuple[Client, str]:
    client, secret = make_client(name="Living-room TV", grant_types=[DEVICE_GRANT])
    assert secret is not None
    return client, secret


@pytest.fixture
def public_tv(make_client: Any) -> Client:
    client, _ = make_client(
        name="Public TV", client_type="public", grant_types=[DEVICE_GRANT, "refresh_token"]
    )
    return client


@pytest.fixture
def person(db: None) -> Any:
    return get_user_model().objects.create_user(
        "alice", email="alice@example.com", password="correct horse battery staple"
    )


@pytest.fixture
def device_code_request(api_client: Any) -> Callable[..., Any]:
    """POST /oauth/device/code as form data; ``auth=(id, secret)`` adds a Basic header."""
    from tests.conftest import _urlencode, basic

    def post(data: dict[str, Any], *, auth: tuple[str, str] | None = None) -> Any:
        headers = {"HTTP_AUTHORIZATION": basic(*auth)} if auth else {}
        return api_client.generic(
            "POST",
            "/oauth/device/code",
            _urlencode(data),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )

    return post


def row_for(device_code: str) -> DeviceCode:
    return DeviceCode.objects.get(device_code_digest=secrets.digest(device_code))


def elapse(device_code: str, seconds: float) -> None:
    """Let ``seconds`` pass for this device code: every timestamp it holds moves back."""
    delta = timedelta(seconds=seconds)
    DeviceCode.objects.filter(device_code_digest=secrets.digest(device_code)).update(
        created_at=F("created_at") - delta,
        expires_at=F("expires_at") - delta,
        last_polled_at=F("last_polled_at") - delta,
        decided_at=F("decided_at") - delta,
    )


def approve(device_code: str, user: Any) -> None:
    row = row_for(device_code)
    assert device_flow.approve(row, user, user.last_login or row.created_at)


def deny(device_code: str, user: Any) -> None:
    assert device_flow.deny(row_for(device_code), user)
