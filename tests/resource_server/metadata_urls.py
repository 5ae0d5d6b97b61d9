"""A resource server publishing RFC 9728 metadata (and one that does not)."""

from __future__ import annotations

from django.urls import include, path

from oauth_token.permissions import HasPermission, HasScope
from oauth_token.views import ProtectedResourceMetadataView
from tests.resource_server.views import Protected

MCP = "http://testserver/mcp"
THINGS = "http://testserver/api/things"
WELL_KNOWN = ".well-known/oauth-protected-resource"


class Mcp(Protected):
    token_audience = MCP


class Things(Protected):
    token_audience = THINGS


class Unpublished(Protected):
    token_audience = "https://api.example.com"


class McpTools(Protected):
    token_audience = MCP
    permission_classes = [HasScope("tools:call", "tools:list")]


class McpAdmin(Protected):
    token_audience = MCP
    permission_classes = [HasPermission("tools:admin")]


class ExplicitMetadata(Unpublished):
    resource_metadata_url = "https://rs.example.com/.well-known/oauth-protected-resource"


urlpatterns = [
    path("", include("oauth_token.urls")),
    path(f"{WELL_KNOWN}/mcp", ProtectedResourceMetadataView.as_view(resource=MCP)),
    path(
        f"{WELL_KNOWN}/api/things",
        ProtectedResourceMetadataView.as_view(scopes_supported=["read:things"]),
    ),
    path(f"{WELL_KNOWN}/wrong", ProtectedResourceMetadataView.as_view(resource=MCP)),
    path("mcp", Mcp.as_view()),
    path("api/things", Things.as_view()),
    path("api/unpublished", Unpublished.as_view()),
    path("mcp/tools", McpTools.as_view()),
    path("mcp/admin", McpAdmin.as_view()),
    path("api/explicit", ExplicitMetadata.as_view()),
]
