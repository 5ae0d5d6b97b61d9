"""Views of the authorization server; ``ProtectedResourceMetadataView`` is for resource
servers to mount (RFC 9728, DESIGN.md)."""

from oauth_token.views.resource_metadata import ProtectedResourceMetadataView

__all__ = ["ProtectedResourceMetadataView"]
