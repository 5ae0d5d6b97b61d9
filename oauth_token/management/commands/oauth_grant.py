"""``manage.py oauth_grant``: allow a client an API's scopes for client_credentials (Auth0's
"client grant")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, split_values
from oauth_token.registry import provisioning


class Command(OAuthCommand):
    help = (
        "Allow a client scopes of an API through client_credentials; replaces an existing "
        "grant's scopes. Without --scope, every scope the API has."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, metavar="CLIENT_ID")
        parser.add_argument("--audience", required=True, metavar="URI")
        parser.add_argument(
            "--scope", dest="scopes", action="extend", nargs="+", default=None, metavar="NAME"
        )
        add_json_flag(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        client = provisioning.get_client(options["client"])
        api = provisioning.get_api(options["audience"])
        scopes = split_values(options["scopes"]) if options["scopes"] is not None else None
        row = provisioning.grant(client, api, scopes)
        if "client_credentials" not in (client.grant_types or []):
            self.note(
                f"Note: client {client.client_id} is not allowed the client_credentials grant "
                "type, so this grant has no effect until it is."
            )
        doc = {"client_id": client.client_id, "audience": api.identifier, "scopes": row.scopes}
        self.emit(
            doc,
            f"Client {client.client_id} may now get {api.identifier} "
            f"with scopes: {' '.join(row.scopes) or '(none)'}",
        )
