"""``GET /.well-known/oauth-protected-resource[/path]``: protected-resource metadata (RFC 9728).

A resource server built with this package (a DRF API using ``AccessTokenAuthentication``, or
any other server that trusts this authorization server's tokens) mounts the view at the URL
derived from its identifier (§3.1)::

    path(".well-known/oauth-protected-resource/mcp",
         ProtectedResourceMetadataView.as_view(resource="https://api.example.com/mcp"))

Clients such as the MCP SDK learn from it which authorization server issues tokens for the
resource, which scopes exist, and how to present tokens; and they check that ``resource`` is
exactly the identifier they derived the URL from (§3.3), so the view refuses to publish a
document for any other.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, resource_metadata
from oauth_token.registry.snapshots import get_api


def _not_found() -> JsonResponse:
    return JsonResponse(
        {"error": "invalid_request", "error_description": "No metadata for this resource."},
        status=404,
    )


class ProtectedResourceMetadataView(View):
    """RFC 9728 §2-3. ``resource`` is the identifier (the API's ``audience``); when not given
    it is derived from the request URL (§3.1 in reverse), which suits a project serving one
    host. ``scopes_supported`` defaults to the scopes of the API registered under that
    identifier; ``authorization_servers`` to this server's issuer."""

    publishes_protected_resource_metadata: ClassVar[bool] = True
    http_method_names = ["get", "head", "options"]

    resource: str | None = None
    authorization_servers: list[str] | None = None
    scopes_supported: list[str] | None = None
    resource_name: str | None = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        resource = self.resource or resource_metadata.resource_from_metadata_path(
            request.scheme or "https", request.get_host(), request.path
        )
        # §3.3: the document is only valid at the URL derived from its own identifier.
        derived = resource_metadata.metadata_url(resource)
        if derived is None or not derived.endswith(request.path.rstrip("/")):
            return _not_found()
        response = JsonResponse(self.document(resource))
        response["Cache-Control"] = "public, max-age=300"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    def document(self, resource: str) -> dict[str, Any]:
        api = get_api(resource)
        data: dict[str, Any] = {
            "resource": resource,
            "authorization_servers": list(self.authorization_servers or [endpoints.issuer()]),
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": list(oauth_settings.DPOP_SIGNING_ALGORITHMS),
        }
        scopes = self.scopes_supported
        if scopes is None and api is not None:
            scopes = list(api.scopes)
        if scopes is not None:
            data["scopes_supported"] = list(scopes)
        name = self.resource_name or (api.name if api is not None else None)
        if name:
            data["resource_name"] = name
        return data

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "Method not allowed."}, status=405
        )
        response["Allow"] = "GET, HEAD"
        return response
