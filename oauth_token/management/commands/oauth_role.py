"""``manage.py oauth_role create|assign|unassign|list|show|delete``: RBAC roles (Auth0's
roles): a named set of one API's scopes, held by users directly or through Django groups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, split_values
from oauth_token.management.serializers import role_row
from oauth_token.models import Role
from oauth_token.registry import provisioning, roles


class Command(OAuthCommand):
    help = "Manage RBAC roles: permissions (an API's scopes) given to users and groups."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        create = actions.add_parser("create", help="Create a role with some of an API's scopes.")
        create.add_argument("--name", required=True)
        create.add_argument("--api", required=True, metavar="URI", help="The API's identifier.")
        create.add_argument(
            "--permission",
            dest="permissions",
            action="extend",
            nargs="+",
            default=[],
            metavar="SCOPE",
            help="A scope of the API this role grants; repeat or list several.",
        )
        create.add_argument("--description", default="")
        add_json_flag(create)
        for name, text in (
            ("assign", "Give the role to a user or a group."),
            ("unassign", "Take the role from a user or a group."),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("name", metavar="NAME")
            who = sub.add_mutually_exclusive_group(required=True)
            who.add_argument("--user", metavar="USERNAME")
            who.add_argument("--group", metavar="GROUP")
            add_json_flag(sub)
        add_json_flag(actions.add_parser("list", help="List roles."))
        for name, text in (
            ("show", "Show a role, its permissions and who holds it."),
            ("delete", "Delete a role; its holders lose its permissions at their next token."),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("name", metavar="NAME")
            add_json_flag(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_create(self, options: dict[str, Any]) -> None:
        role = roles.create_role(
            name=options["name"],
            api=provisioning.get_api(options["api"]),
            permissions=split_values(options["permissions"]),
            description=options["description"],
        )
        row = role_row(role)
        self.emit(row, f"Created role {role.name} on {row['api']}: {_permissions(row)}")

    def do_assign(self, options: dict[str, Any]) -> None:
        self._change(options, roles.assign, "Assigned", True)

    def do_unassign(self, options: dict[str, Any]) -> None:
        self._change(options, roles.unassign, "Unassigned", False)

    def _change(self, options: dict[str, Any], change: Any, verb: str, assigned: bool) -> None:
        role = roles.get_role(options["name"])
        if options["user"] is not None:
            change(role, user=roles.get_user(options["user"]))
            who = {"user": options["user"]}
        else:
            change(role, group=roles.get_group(options["group"]))
            who = {"group": options["group"]}
        kind, name = next(iter(who.items()))
        self.emit(
            {"role": role.name, **who, "assigned": assigned},
            f"{verb} role {role.name} {'to' if assigned else 'from'} {kind} {name}.",
        )

    def do_list(self, options: dict[str, Any]) -> None:
        rows = [role_row(r) for r in Role.objects.select_related("api")]
        lines = [f"{r['name']}  {r['api']}  {_permissions(r)}" for r in rows]
        self.emit(rows, lines or ["No roles."])

    def do_show(self, options: dict[str, Any]) -> None:
        row = role_row(roles.get_role(options["name"]))
        lines = [f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in row.items()]
        self.emit(row, lines)

    def do_delete(self, options: dict[str, Any]) -> None:
        role = roles.get_role(options["name"])
        name = role.name
        role.delete()
        self.emit({"name": name, "deleted": True}, f"Deleted role {name}.")


def _permissions(row: dict[str, Any]) -> str:
    return " ".join(row["permissions"]) or "(no permissions)"
