"""``manage.py oauth_client create|update|list|show|rotate-secret|delete``.

A created (or rotated) secret is printed this once; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import json
from argparse import BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from oauth_token.conf import oauth_settings
from oauth_token.management.base import (
    OAuthCommand,
    add_json_flag,
    positive_int,
    split_values,
)
from oauth_token.management.serializers import client_row
from oauth_token.models import Client
from oauth_token.models.clients import AuthMethod, ClientType
from oauth_token.registry import provisioning, registration, updates

SECRET_NOTE = "Store the client secret now: it is shown only this once."


class Command(OAuthCommand):
    help = "Manage OAuth clients."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        create = actions.add_parser("create", help="Register a client; prints its secret once.")
        self._create_arguments(create)
        update = actions.add_parser(
            "update", help="Change a client: options given replace, others stay unchanged."
        )
        self._update_arguments(update)
        listing = actions.add_parser("list", help="List clients.")
        add_json_flag(listing)
        initial = actions.add_parser(
            "initial-access-token",
            help="A one-time token for POST /oauth/register when REGISTRATION is 'token'.",
        )
        initial.add_argument(
            "--expires-in",
            type=positive_int,
            default=None,
            metavar="SECONDS",
            help="Lifetime (default: OAUTH_TOKEN['INITIAL_ACCESS_TOKEN_LIFETIME']).",
        )
        add_json_flag(initial)
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
        _settings_arguments(create, update=False)

    def _update_arguments(self, update: CommandParser) -> None:
        update.add_argument("client_id", metavar="CLIENT_ID")
        update.add_argument("--name", default=None)
        _settings_arguments(update, update=True)

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
            backchannel_logout_session_required=options["backchannel_logout_session_required"],
            revoke_refresh_tokens_on_logout=options["revoke_refresh_tokens_on_logout"],
            **_extra_fields(options),
        )
        row = client_row(created.client)
        lines = [f"Created client {row['name']}", f"client_id:     {row['client_id']}"]
        if created.secret is not None:
            row["client_secret"] = created.secret
            lines += [f"client_secret: {created.secret}", SECRET_NOTE]
        self.emit(row, lines)

    def do_update(self, options: dict[str, Any]) -> None:
        client = provisioning.get_client(options["client_id"])
        updated = updates.update_client(client, _changes(options))
        row = client_row(updated.client)
        lines = [f"Updated client {row['name']}", f"client_id:     {row['client_id']}"]
        if updated.secret is not None:
            row["client_secret"] = updated.secret
            lines += [f"client_secret: {updated.secret}", SECRET_NOTE]
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

    def do_initial_access_token(self, options: dict[str, Any]) -> None:
        expires_in = options["expires_in"] or int(oauth_settings.INITIAL_ACCESS_TOKEN_LIFETIME)
        token, expires_at = registration.issue_initial_access_token(expires_in)
        if oauth_settings.REGISTRATION != "token":
            self.note(
                f"OAUTH_TOKEN['REGISTRATION'] is {oauth_settings.REGISTRATION!r}: "
                "this token is only asked for when it is 'token'."
            )
        self.emit(
            {"token": token, "expires_at": expires_at.isoformat()},
            [
                f"token:      {token}",
                f"expires_at: {expires_at.isoformat()}",
                "Hand it to one client: it registers once with it (Authorization: Bearer).",
            ],
        )

    def do_delete(self, options: dict[str, Any]) -> None:
        client = provisioning.get_client(options["client_id"])
        client_id = client.client_id
        provisioning.delete_client(client)
        self.emit({"client_id": client_id, "deleted": True}, f"Deleted client {client_id}.")


def _settings_arguments(parser: CommandParser, *, update: bool) -> None:
    """The options ``create`` and ``update`` share. On update every default is None (not
    given: unchanged), and each flag has its ``--no-`` form to turn it off again."""
    unset: Any = None if update else []
    parser.add_argument(
        "--grant-type",
        dest="grant_types",
        action="extend",
        nargs="+",
        default=unset,
        metavar="GRANT",
        help="Allowed grant_type values (default: authorization_code refresh_token).",
    )
    for option, dest in (
        ("--redirect-uri", "redirect_uris"),
        ("--post-logout-redirect-uri", "post_logout_redirect_uris"),
    ):
        parser.add_argument(
            option, dest=dest, action="extend", nargs="+", default=unset, metavar="URI"
        )
    parser.add_argument("--backchannel-logout-uri", metavar="URI", default=None)
    parser.add_argument(
        "--auth-method",
        choices=AuthMethod.values,
        default=None,
        help="Token endpoint auth method (default: client_secret_basic for confidential "
        "clients, none for public ones).",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--jwks-file", metavar="PATH", help="A JSON file with the client's public JWK Set."
    )
    keys.add_argument("--jwks-uri", metavar="URI", default=None)
    for flag, text in FLAGS:
        parser.add_argument(
            f"--{flag}",
            action=BooleanOptionalAction if update else "store_true",
            default=None if update else False,
            help=text,
        )
    for option, text in LIFETIMES:
        parser.add_argument(
            f"--{option}", type=positive_int, default=None, metavar="SECONDS", help=text
        )
    add_json_flag(parser)


FLAGS = (
    ("first-party", "Trusted: skips the consent page."),
    ("can-introspect", "May call /oauth/introspect."),
    ("require-dpop", "Every token request must carry a DPoP proof."),
    ("require-par", "Every authorization request must be pushed (RFC 9126)."),
    (
        "backchannel-logout-session-required",
        "The client needs sid in its logout tokens (OIDC Back-Channel Logout 1.0 §2.2; "
        "every logout token carries it).",
    ),
    (
        "revoke-refresh-tokens-on-logout",
        "Ending a browser session (RP-initiated or back-channel logout) revokes the refresh "
        "tokens issued in it to this client.",
    ),
)
LIFETIMES = (
    ("access-token-lifetime", "Access-token lifetime (default: the API's)."),
    (
        "refresh-token-lifetime",
        "Absolute refresh-token lifetime (default: REFRESH_TOKEN_ABSOLUTE_LIFETIME).",
    ),
    (
        "refresh-idle-lifetime",
        "Refresh-token inactivity lifetime (default: REFRESH_TOKEN_IDLE_LIFETIME).",
    ),
)
# Options whose model field a later feature adds; passed on only when given.
OPTIONAL_FIELDS = (
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "refresh_idle_lifetime",
)


def _extra_fields(options: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for name in OPTIONAL_FIELDS:
        value = options.get(name)
        if value is None or value == []:
            continue
        if not hasattr(Client, name):
            raise CommandError(f"This installation's clients have no {name}.")
        extra[name] = split_values(value) if isinstance(value, list) else value
    return extra


def _changes(options: dict[str, Any]) -> dict[str, Any]:
    """What ``update`` was asked to change: every option given, as a model field value."""
    changes: dict[str, Any] = {}
    if options["name"] is not None:
        changes["name"] = options["name"]
    for name in ("grant_types", "redirect_uris", "post_logout_redirect_uris"):
        if options[name] is not None:
            changes[name] = split_values(options[name])
    if options["auth_method"] is not None:
        changes["token_endpoint_auth_method"] = options["auth_method"]
    if options["jwks_file"]:
        changes["jwks"] = _read_jwks(options["jwks_file"])
    if options["jwks_uri"] is not None:
        changes["jwks_uri"] = options["jwks_uri"]
    for flag, _ in FLAGS:
        value = options[flag.replace("-", "_")]
        if value is not None:
            changes[flag.replace("-", "_")] = value
    for name in ("backchannel_logout_uri", *(o.replace("-", "_") for o, _ in LIFETIMES)):
        if options[name] is not None:
            changes[name] = options[name]
    return changes


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
