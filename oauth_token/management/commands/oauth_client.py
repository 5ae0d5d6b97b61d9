"""``manage.py oauth_client create|list|show|rotate-secret|delete``.

A created (or rotated) secret is printed this once; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, split_values
from oauth_token.management.serializers import client_row
from oauth_token.models import Client
from oauth_token.models.clients import AuthMethod, ClientType
from oauth_token.registry import provisioning

SECRET_NOTE = "Store the client secret now: it is shown only this once."


class Command(OAuthCommand):
    help = "Manage OAuth clients."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        create = actions.add_parser("create", help="Register a client; prints its secret once.")
        self._create_arguments(create)
        listing = actions.add_parser("list", help="List clients.")
        add_json_flag(listing)
        for name, text in (
            ("show", "Show one client and its API grants."),
            ("rotate-secret", "Replace the client's secret; the old one stops working now."),
            ("delete", "Delete the client and its grants; its requests fail from now on."),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("client_id", metavar="CLIENT_ID")
            add_json_flag(sub)

    def _create_arguments(self, create: CommandParser) -> None:
        create.add_argument("--name", required=True)
        create.add_argument(
            "--type",
            dest="client_type",
            choices=ClientType.values,
            default=ClientType.CONFIDENTIAL,
        )
        create.add_argument(
            "--grant-type",
            dest="grant_types",
            action="extend",
            nargs="+",
            default=[],
            metavar="GRANT",
            help="Allowed grant_type values (default: authorization_code refresh_token).",
        )
        create.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="extend",
            nargs="+",
            default=[],
            metavar="URI",
        )
        create.add_argument(
            "--auth-method",
            choices=AuthMethod.values,
            default=None,
            help="Token endpoint auth method (default: client_secret_basic for confidential "
            "clients, none for public ones).",
        )
        keys = create.add_mutually_exclusive_group()
        keys.add_argument(
            "--jwks-file", metavar="PATH", help="A JSON file with the client's public JWK Set."
        )
        keys.add_argument("--jwks-uri", metavar="URI", default="")
        create.add_argument(
            "--first-party", action="store_true", help="Trusted: skips the consent page."
        )
        create.add_argument("--can-introspect", action="store_true")
        create.add_argument("--require-dpop", action="store_true")
        create.add_argument("--require-par", action="store_true")
        add_json_flag(create)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        getattr(self, f"do_{action}")(options)

    def do_create(self, options: dict[str, Any]) -> None:
        created = provisioning.create_client(
            name=options["name"],
            client_type=options["client_type"],
            grant_types=split_values(options["grant_types"]),
            redirect_uris=split_values(options["redirect_uris"]),
            auth_method=options["auth_method"],
            jwks=_read_jwks(options["jwks_file"]) if options["jwks_file"] else None,
            jwks_uri=options["jwks_uri"] or "",
            first_party=options["first_party"],
            can_introspect=options["can_introspect"],
            require_dpop=options["require_dpop"],
            require_par=options["require_par"],
        )
        row = client_row(created.client)
        lines = [f"Created client {row['name']}", f"client_id:     {row['client_id']}"]
        if created.secret is not None:
            row["client_secret"] = created.secret
            lines += [f"client_secret: {created.secret}", SECRET_NOTE]
        self.emit(row, lines)

    def do_list(self, options: dict[str, Any]) -> None:
        rows = [client_row(c) for c in Client.objects.all()]
        lines = [
            f"{r['client_id']}  {r['name']}  {r['type']}  {r['auth_method']}  "
            f"{' '.join(r['grant_types'])}"
            for r in rows
        ]
        self.emit(rows, lines or ["No clients."])

    def do_show(self, options: dict[str, Any]) -> None:
        row = client_row(provisioning.get_client(options["client_id"]), with_grants=True)
        lines = [
            f"{k}: {json.dumps(v) if isinstance(v, list | dict) else v}" for k, v in row.items()
        ]
        self.emit(row, lines)

    def do_rotate_secret(self, options: dict[str, Any]) -> None:
        client = provisioning.get_client(options["client_id"])
        secret = provisioning.rotate_secret(client)
        self.emit(
            {"client_id": client.client_id, "client_secret": secret},
            [f"client_id:     {client.client_id}", f"client_secret: {secret}", SECRET_NOTE],
        )

    def do_delete(self, options: dict[str, Any]) -> None:
        client = provisioning.get_client(options["client_id"])
        client_id = client.client_id
        provisioning.delete_client(client)
        self.emit({"client_id": client_id, "deleted": True}, f"Deleted client {client_id}.")


def _read_jwks(path: str) -> dict[str, Any]:
    """The client's public keys, from a file an operator points at; each failure is one line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read JWKS file {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"JWKS file {path} is not UTF-8 text.") from exc
    try:
        jwks = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"JWKS file {path} is not valid JSON ({exc.msg}).") from exc
    provisioning.validate_jwks(jwks)
    return dict(jwks)
