"""``manage.py oauth_keys rotate|list|revoke|prune``: the signing-key ring (keyring.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.core import jose
from oauth_token.management.base import OAuthCommand, add_json_flag
from oauth_token.management.serializers import key_row
from oauth_token.models import SigningKey
from oauth_token.registry import keyring, sealing


class Command(OAuthCommand):
    help = (
        "Manage signing keys: rotate (next -> current -> previous, zero downtime), list, "
        "revoke a compromised key now, prune expired previous keys, reseal under a new "
        "key-encryption key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        rotate = actions.add_parser(
            "rotate",
            help="No keys yet: create a current and a next key. Otherwise next becomes current, "
            "current becomes previous (still published) and a new next key is created.",
        )
        rotate.add_argument(
            "--alg",
            choices=jose.SIGNING_KEY_ALGORITHMS,
            default=None,
            help="Key ring to rotate (default: OAUTH_TOKEN['DEFAULT_SIGNING_ALGORITHM']).",
        )
        add_json_flag(rotate)
        listing = actions.add_parser("list", help="List keys with their state.")
        add_json_flag(listing)
        revoke = actions.add_parser(
            "revoke", help="Withdraw a key from the JWKS now; tokens it signed stop verifying."
        )
        revoke.add_argument("kid", metavar="KID")
        add_json_flag(revoke)
        prune = actions.add_parser(
            "prune", help="Delete previous keys older than every token they can have signed."
        )
        add_json_flag(prune)
        reseal = actions.add_parser(
            "reseal",
            help="Re-encrypt private signing keys and client_secret_jwt secrets under "
            "OAUTH_TOKEN['KEY_ENCRYPTION_KEY'], decrypting with it or any key in "
            "OAUTH_TOKEN['OLD_KEY_ENCRYPTION_KEYS']; all or nothing.",
        )
        add_json_flag(reseal)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_rotate(self, options: dict[str, Any]) -> None:
        ring = keyring.rotate(options["alg"])
        doc = ring.as_dict()
        lines = [f"current: {doc['current']['kid']} ({doc['current']['alg']})"]
        lines.append(
            f"next:    {doc['next']['kid']} ({doc['next']['alg']}, published, not signing)"
        )
        lines += [f"previous: {p['kid']} ({p['alg']}, published)" for p in doc["previous"]]
        self.emit(doc, lines)

    def do_list(self, options: dict[str, Any]) -> None:
        rows = [
            {k: v for k, v in key_row(key).items() if k in ("kid", "alg", "state", "created_at")}
            for key in SigningKey.objects.order_by("alg", "created_at", "id")
        ]
        lines = [f"{r['kid']}  {r['alg']:<6} {r['state']:<9} {r['created_at']}" for r in rows]
        self.emit(rows, lines or ["No signing keys; run `manage.py oauth_keys rotate`."])

    def do_revoke(self, options: dict[str, Any]) -> None:
        key = keyring.revoke(options["kid"])
        self.emit(key_row(key), f"Revoked {key.kid} ({key.alg}); it has left the JWKS.")

    def do_prune(self, options: dict[str, Any]) -> None:
        deleted = keyring.prune()
        rows = [{"kid": k.kid, "alg": k.alg, "state": k.state} for k in deleted]
        self.emit(
            {"deleted": rows},
            [f"Deleted {r['kid']} ({r['alg']}, {r['state']})" for r in rows]
            or ["Nothing to prune."],
        )

    def do_reseal(self, options: dict[str, Any]) -> None:
        done = sealing.reseal()
        rows = [{"kind": v.kind, "name": v.name} for v in done]
        self.emit(
            {"resealed": rows},
            [f"Re-sealed {v}" for v in done]
            + [
                "Everything is sealed under KEY_ENCRYPTION_KEY; OLD_KEY_ENCRYPTION_KEYS can be "
                "emptied."
            ],
        )
