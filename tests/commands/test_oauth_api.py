from __future__ import annotations

import pytest

from oauth_token.models import Api

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def test_create_with_scopes_lifetime_and_offline_access(manage):
    doc = manage(
        "oauth_api",
        "create",
        "--identifier",
        "https://orders.example.com",
        "--name",
        "Orders",
        "--scope",
        "read:orders",
        "write:orders",
        "--scope",
        "admin:orders",
        "--token-lifetime",
        "600",
        "--allow-offline-access",
        "--json",
    ).json()
    assert doc["identifier"] == "https://orders.example.com"
    assert doc["name"] == "Orders"
    assert doc["scopes"] == ["admin:orders", "read:orders", "write:orders"]
    assert doc["token_lifetime"] == 600
    assert doc["allow_offline_access"] is True
    api = Api.objects.get(identifier="https://orders.example.com")
    assert api.access_token_lifetime == 600 and api.allow_offline_access
    assert sorted(api.scopes.values_list("name", flat=True)) == doc["scopes"]


def test_create_defaults(manage):
    doc = manage(
        "oauth_api", "create", "--identifier", "urn:api", "--name", "Plain", "--json"
    ).json()
    assert doc["scopes"] == []
    assert doc["token_lifetime"] == 86400
    assert doc["allow_offline_access"] is False
    assert doc["signing_alg"] == "RS256"


def test_duplicate_identifier_fails_in_one_line(manage):
    args = ("oauth_api", "create", "--identifier", "https://a.example", "--name", "A")
    assert manage(*args).code == 0
    result = manage(*args, "--json")
    assert_one_line_failure(result, "already exists")
    assert Api.objects.count() == 1


@pytest.mark.parametrize("lifetime", ["0", "-5", "soon"])
def test_bad_token_lifetime_is_a_usage_error(manage, lifetime):
    result = manage(
        "oauth_api", "create", "--identifier", "u", "--name", "n", "--token-lifetime", lifetime
    )
    assert result.code == 2
    assert_one_line_failure(result, "--token-lifetime")
    assert not Api.objects.exists()


def test_invalid_scope_name_fails_and_creates_nothing(manage):
    result = manage("oauth_api", "create", "--identifier", "u", "--name", "n", "--scope", 'bad"q')
    assert_one_line_failure(result, "Invalid scope name")
    assert not Api.objects.exists()


def test_missing_required_option(manage):
    result = manage("oauth_api", "create", "--name", "n")
    assert result.code == 2
    assert_one_line_failure(result, "--identifier")


def test_list(manage, api):
    rows = manage("oauth_api", "list", "--json").json()
    assert rows == [
        {
            "identifier": "https://api.example.com",
            "name": "Example API",
            "scopes": ["delete:things", "read:things", "write:things"],
            "token_lifetime": 86400,
            "signing_alg": "RS256",
            "allow_offline_access": False,
            "rbac": False,
            "permissions_in_token": False,
            "created_at": api.created_at.isoformat(),
        }
    ]
    human = manage("oauth_api", "list")
    assert "https://api.example.com" in human.out and "read:things" in human.out
