"""``manage.py mcp_demo [--port 8001]``: the demo MCP server (streamable HTTP at /mcp).

It registers itself as an API of this authorization server (identifier = its URL, scope
``mcp:tools``, offline access allowed) in the project's database, then serves with uvicorn
on 127.0.0.1. Run ``manage.py quickstart`` (with OAUTH_REGISTRATION=open) beside it, so that
MCP clients can discover the authorization server, register themselves and sign people in.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo import mcp_server
from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints
from oauth_token.models import Api
from oauth_token.registry import provisioning


class Command(BaseCommand):
    help = "Serve the demo MCP server on 127.0.0.1, protected by this server's tokens."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8001, help="Port (default 8001).")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, got {port}.")
        call_command("migrate", interactive=False, verbosity=0)
        resource = mcp_server.resource_url(port)
        if not Api.objects.filter(identifier=resource).exists():
            provisioning.create_api(
                identifier=resource,
                name="Demo MCP server",
                scopes=[mcp_server.TOOLS_SCOPE],
                allow_offline_access=True,
            )
        issuer = endpoints.issuer()
        self.stdout.write(f"MCP server:  {resource}")
        self.stdout.write(f"Issuer:      {issuer}")
        if oauth_settings.REGISTRATION == "closed":
            self.stderr.write(
                "Dynamic client registration is closed: start the authorization server with "
                "OAUTH_REGISTRATION=open so MCP clients can register themselves."
            )
        server = mcp_server.build(port, issuer)
        app = server.streamable_http_app(host="127.0.0.1")
        serve(app, port)


def serve(app: Any, port: int) -> None:
    """uvicorn, imported here: it is an optional dependency of the example project only."""
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")
