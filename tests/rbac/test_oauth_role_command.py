"""``oauth_role create|assign|unassign|list|show|delete`` (DESIGN.md, command-line contract)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from oauth_token.models import Role
from tests.commands.conftest import assert_one_line_failure, run

pytestmark = pytest.mark.django_db


def test_create_show_list_delete(api):
    doc = run(
        "oauth_role",
        "create",
        "--name",
        "editor",
        "--api",
        api.identifier,
        "--permission",
        "write:things read:things",
        "--description",
        "Edits things",
        "--json",
    ).json()
    assert doc == {
        "name": "editor",
        "description": "Edits things",
        "api": "https://api.example.com",
        "permissions": ["read:things", "write:things"],
        "users": [],
        "groups": [],
        "created_at": doc["created_at"],
    }
    assert run("oauth_role", "show", "editor", "--json").json() == doc
    assert [r["name"] for r in run("oauth_role", "list", "--json").json()] == ["editor"]
    assert run("oauth_role", "delete", "editor", "--json").json() == {
        "name": "editor",
        "deleted": True,
    }
    assert not Role.objects.exists()
    assert run("oauth_role", "list").out.strip() == "No roles."


def test_assign_and_unassign_users_and_groups(api, django_user_model):
    django_user_model.objects.create_user("carol")
    Group.objects.create(name="ops")
    run("oauth_role", "create", "--name", "ops", "--api", api.identifier)
    assert run("oauth_role", "assign", "ops", "--user", "carol", "--json").json() == {
        "role": "ops",
        "user": "carol",
        "assigned": True,
    }
    assert run("oauth_role", "assign", "ops", "--group", "ops", "--json").json() == {
        "role": "ops",
        "group": "ops",
        "assigned": True,
    }
    shown = run("oauth_role", "show", "ops", "--json").json()
    assert (shown["users"], shown["groups"]) == (["carol"], ["ops"])
    assert run("oauth_role", "unassign", "ops", "--user", "carol", "--json").json() == {
        "role": "ops",
        "user": "carol",
        "assigned": False,
    }
    assert run("oauth_role", "show", "ops", "--json").json()["users"] == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("assign", "nope", "--user", "carol"), "No role named 'nope'"),
        (("assign", "ops", "--user", "nobody"), "No user 'nobody'"),
        (("assign", "ops", "--group", "nogroup"), "No group 'nogroup'"),
        (("unassign", "ops", "--group", "nogroup"), "No group 'nogroup'"),
        (("show", "nope"), "No role named 'nope'"),
        (("delete", "nope"), "No role named 'nope'"),
        (("assign", "ops"), "one of the arguments --user --group is required"),
        (("assign", "ops", "--user", "carol", "--group", "ops"), "not allowed with"),
        (("create", "--name", "x", "--api", "https://nowhere"), "No API with identifier"),
        (
            ("create", "--name", "x", "--api", "https://api.example.com", "--permission", "fly"),
            "has no scope(s): fly",
        ),
        (("create", "--name", "ops", "--api", "https://api.example.com"), "already exists"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(api, django_user_model, argv, fragment):
    django_user_model.objects.create_user("carol")
    run("oauth_role", "create", "--name", "ops", "--api", api.identifier)
    before = list(Role.objects.values("name", "permissions"))
    result = run("oauth_role", *argv, "--json")
    assert_one_line_failure(result, fragment)
    assert list(Role.objects.values("name", "permissions")) == before
