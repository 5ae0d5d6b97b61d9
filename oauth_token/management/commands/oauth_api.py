"""``manage.py oauth_api create|list``: APIs (resource servers) and their scopes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, positive_int, split_values
from oauth_token.management.serializers import api_row
from oauth_token.models import Api
from oauth_token.registry import provisioning


class Command(OAuthCommand):
    help = "Manage APIs: an API's identifier is the `audience` clients ask tokens for."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        create = actions.add_parser("create", help="Register an API with its scopes.")
        create.add_argument(
            "--identifier", required=True, metavar="URI", help="The audience, a URI."
        )
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scope",
            dest="scopes",
            action="extend",
            nargs="+",
            default=[],
            metavar="NAME",
            help="A scope of the API; repeat or list several.",
        )
        create.add_argument(
            "--token-lifetime",
            type=positive_int,
            default=None,
            metavar="SECONDS",
            help="Access-token lifetime (default OAUTH_TOKEN['ACCESS_TOKEN_LIFETIME']).",
        )
        create.add_argument(
            "--allow-offline-access",
            action="store_true",
            help="Allow refresh tokens (the offline_access scope) for this API.",
        )
        add_json_flag(create)
        listing = actions.add_parser("list", help="List APIs with their scopes.")
        add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            api = provisioning.create_api(
                identifier=options["identifier"],
                name=options["name"],
                scopes=split_values(options["scopes"]),
                token_lifetime=options["token_lifetime"],
                allow_offline_access=options["allow_offline_access"],
            )
            row = api_row(api)
            self.emit(row, f"Created API {row['identifier']} (scopes: {_scopes(row)})")
            return
        rows = [api_row(api) for api in Api.objects.prefetch_related("scopes")]
        lines = [f"{r['identifier']}  {r['name']}  scopes: {_scopes(r)}" for r in rows]
        self.emit(rows, lines or ["No APIs."])


def _scopes(row: dict[str, Any]) -> str:
    return " ".join(row["scopes"]) or "(none)"
