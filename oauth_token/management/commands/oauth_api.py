"""``manage.py oauth_api create|update|list``: APIs (resource servers) and their scopes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, positive_int, split_values
from oauth_token.management.serializers import api_row
from oauth_token.models import Api
from oauth_token.registry import provisioning, updates

# (option, its negation, field): on update each pair sets the field on, off, or leaves it.
SWITCHES = (
    ("--allow-offline-access", "--no-offline-access", "allow_offline_access"),
    ("--rbac", "--no-rbac", "rbac"),
    ("--permissions-in-token", "--no-permissions-in-token", "permissions_in_token"),
)
SWITCH_HELP = {
    "allow_offline_access": "Allow refresh tokens (the offline_access scope) for this API.",
    "rbac": "Limit what users can be granted to the permissions of their roles.",
    "permissions_in_token": "With RBAC, access tokens carry the user's `permissions`.",
}


class Command(OAuthCommand):
    help = "Manage APIs: an API's identifier is the `audience` clients ask tokens for."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        create = actions.add_parser("create", help="Register an API with its scopes.")
        create.add_argument(
            "--identifier", required=True, metavar="URI", help="The audience, a URI."
        )
        create.add_argument("--name", required=True)
        _shared_arguments(create, update=False)
        update = actions.add_parser(
            "update", help="Change an API: options given replace, others stay unchanged."
        )
        update.add_argument("identifier", metavar="IDENTIFIER")
        update.add_argument("--name", default=None)
        _shared_arguments(update, update=True)
        listing = actions.add_parser("list", help="List APIs with their scopes.")
        add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_create(self, options: dict[str, Any]) -> None:
        api = provisioning.create_api(
            identifier=options["identifier"],
            name=options["name"],
            scopes=split_values(options["scopes"]),
            token_lifetime=options["token_lifetime"],
            allow_offline_access=options["allow_offline_access"],
            rbac=options["rbac"],
            permissions_in_token=options["permissions_in_token"],
        )
        row = api_row(api)
        self.emit(row, f"Created API {row['identifier']} (scopes: {_scopes(row)})")

    def do_update(self, options: dict[str, Any]) -> None:
        api = provisioning.get_api(options["identifier"])
        changes: dict[str, Any] = {
            field: options[field] for _, _, field in SWITCHES if options[field] is not None
        }
        if options["name"] is not None:
            changes["name"] = options["name"]
        if options["token_lifetime"] is not None:
            changes["access_token_lifetime"] = options["token_lifetime"]
        scopes = split_values(options["scopes"]) if options["scopes"] is not None else None
        api = updates.update_api(api, changes, scopes)
        row = api_row(Api.objects.prefetch_related("scopes").get(pk=api.pk))
        self.emit(row, f"Updated API {row['identifier']} (scopes: {_scopes(row)})")

    def do_list(self, options: dict[str, Any]) -> None:
        rows = [api_row(api) for api in Api.objects.prefetch_related("scopes")]
        lines = [f"{r['identifier']}  {r['name']}  scopes: {_scopes(r)}" for r in rows]
        self.emit(rows, lines or ["No APIs."])


def _shared_arguments(parser: CommandParser, *, update: bool) -> None:
    parser.add_argument(
        "--scope",
        dest="scopes",
        action="extend",
        nargs="+",
        default=None if update else [],
        metavar="NAME",
        help="A scope of the API; repeat or list several"
        + (" (replaces the list)." if update else "."),
    )
    parser.add_argument(
        "--token-lifetime",
        type=positive_int,
        default=None,
        metavar="SECONDS",
        help="Access-token lifetime (default OAUTH_TOKEN['ACCESS_TOKEN_LIFETIME']).",
    )
    for on, off, field in SWITCHES:
        if not update:
            parser.add_argument(on, dest=field, action="store_true", help=SWITCH_HELP[field])
            continue
        group = parser.add_mutually_exclusive_group()
        group.add_argument(on, dest=field, action="store_true", default=None)
        group.add_argument(off, dest=field, action="store_false", default=None)
    add_json_flag(parser)


def _scopes(row: dict[str, Any]) -> str:
    return " ".join(row["scopes"]) or "(none)"
