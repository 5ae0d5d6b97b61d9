"""``manage.py quickstart``: migrate, provision the demo (key, API, client, user), print
credentials and a ready curl line, then serve on 127.0.0.1 (runserver, no reloader)."""

from __future__ import annotations

import os
import shlex
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import ERROR
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.signals import setting_changed
from django.db import DatabaseError

from demo import setup
from oauth_token.checks import check_configuration
from oauth_token.core import endpoints
from oauth_token.models import SigningKey


class Command(BaseCommand):
    help = "Set up the demo (idempotent) and serve it on 127.0.0.1."
    requires_system_checks: list[str] = []  # the key check passes only after provisioning

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="Port to serve on (default $PORT or 8000).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Set up and print credentials, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        follow_port(options["port"])
        errors = [e for e in check_configuration() if e.level >= ERROR]
        if errors:
            raise CommandError(f"{errors[0].id}: {errors[0].msg}")
        had_key = _has_signing_key()
        call_command("migrate", interactive=False, verbosity=0)
        creds = setup.provision()
        if not had_key and _has_signing_key():
            creds = setup.DemoCredentials(**{**creds.__dict__, "created_key": True})
        base = f"http://127.0.0.1:{options['port']}"
        self.print_credentials(creds, base)
        if options["no_serve"]:
            return
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)

    def print_credentials(self, creds: setup.DemoCredentials, base: str) -> None:
        userinfo = shlex.quote(f"{creds.client_id}:{creds.client_secret}")
        token_curl = (
            f"curl -s {base}/oauth/token -u {userinfo} -d grant_type=client_credentials"
            f" -d audience={shlex.quote(creds.audience)}"
        )
        extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
        whoami_curl = (
            f'curl -s {base}/api/whoami -H "Authorization: Bearer $({token_curl} | {extract})"'
        )
        login = f"{base}/accounts/login/"
        lines = [
            "",
            "django-oauth-token example project",
            f"signing key:   {'created' if creds.created_key else 'present'}",
            f"audience:      {creds.audience}  (scopes: {' '.join(creds.scopes)})",
            f"client_id:     {creds.client_id}",
            f"client_secret: {creds.client_secret}",
            "  (the demo client's secret is rotated at every start; only its digest is stored)",
            f"demo user:     {creds.username} / {setup.DEMO_PASSWORD}  (sign in at {login})",
            "",
            "Get a token:",
            f"  {token_curl}",
            "Call the demo API with it:",
            f"  {whoami_curl}",
            "",
        ]
        issuer = urlsplit(endpoints.issuer())
        if issuer.netloc != urlsplit(base).netloc:
            lines.append(
                f"Note: OAUTH_ISSUER is {endpoints.issuer()} but the server listens on {base}/; "
                "set OAUTH_ISSUER to match when clients verify `iss`."
            )
        for line in lines:
            self.stdout.write(line)
        self.stdout.flush()


def follow_port(port: int) -> None:
    """``--port 8100`` is ``PORT=8100``: unless OAUTH_ISSUER names the public URL, the issuer
    (discovery, ``iss``, the device flow's ``verification_uri``) is where this server listens.
    Settings were read before the option was parsed, so the issuer is replaced here, with the
    ``setting_changed`` signal that makes oauth_token re-read it."""
    if os.environ.get("OAUTH_ISSUER"):
        return
    issuer = f"http://127.0.0.1:{port}/"
    value = {**settings.OAUTH_TOKEN, "ISSUER": issuer}
    settings.OAUTH_TOKEN = value
    setting_changed.send(sender=Command, setting="OAUTH_TOKEN", value=value, enter=True)


def _has_signing_key() -> bool:
    try:
        return SigningKey.objects.exists()
    except DatabaseError:
        return False  # not migrated yet
