"""DRF permission classes for resource servers: scopes (or RBAC permissions) a view requires
(RFC 6750 §3.1).

A missing scope is 403 ``insufficient_scope`` with a ``WWW-Authenticate`` challenge naming the
scopes needed, and the RFC 6750 JSON body; no access token at all is 401 with the bare
challenge (:class:`~oauth_token.authentication.TokenRequired`). Where the resource publishes
RFC 9728 metadata, the 403 challenge points at it too (``resource_metadata``, §5.1), as the
401s do: a client stepping up (the MCP authorization spec's scope challenge) learns both the
scopes to ask for and where to find the authorization server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from oauth_token.authentication import TokenRequired, challenge, published_metadata
from oauth_token.errors import InsufficientScope
from oauth_token.tokens.access_tokens import AccessTokenClaims


class InsufficientScopeDenied(exceptions.PermissionDenied):
    """403 ``insufficient_scope`` with its challenge (RFC 6750 §3.1): ``scope`` names every
    scope the request needs, ``resource_metadata`` the resource's RFC 9728 metadata when it
    publishes any (§5.1)."""

    def __init__(
        self,
        missing: Sequence[str],
        required: Sequence[str],
        scheme: str,
        metadata_url: str | None = None,
    ):
        error = InsufficientScope(f"The access token lacks the scope(s): {' '.join(missing)}.")
        super().__init__(detail={"error": error.error, "error_description": error.description})
        self.auth_header = challenge(
            scheme, error, scope=" ".join(required), metadata_url=metadata_url
        )


def _required_for(view: Any, request: Request) -> tuple[str, ...]:
    """``required_scopes`` is a list of scopes, or a mapping from HTTP method to a list (with
    ``"*"`` for every other method)."""
    required = getattr(view, "required_scopes", None)
    if required is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses RequiredScopes but defines no `required_scopes`."
        )
    if isinstance(required, Mapping):
        required = required.get(request.method or "", required.get("*", ()))
    if isinstance(required, str):
        required = required.split()
    return tuple(required)


def _check_scopes(request: Request, required: Sequence[str], *, permissions: bool = False) -> bool:
    claims = request.auth
    if not isinstance(claims, AccessTokenClaims):
        raise TokenRequired()  # not DRF's {"detail": ...} (RFC 6750 §3.1)
    held = claims.permissions if permissions else claims.scopes
    missing = [s for s in required if s not in held]
    if missing:
        raise InsufficientScopeDenied(
            missing, required, claims.scheme, metadata_url=published_metadata(request)
        )
    return True


class RequiredScopes(BasePermission):
    """Every scope in the view's ``required_scopes`` must be in the token's ``scope``; a
    missing one is 403 ``insufficient_scope`` naming the scopes needed (RFC 6750 §3.1)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _check_scopes(request, _required_for(view, request))


def HasScope(*scopes: str) -> type[BasePermission]:
    """``permission_classes = [HasScope("read:things")]``: a permission class requiring all
    the given scopes."""
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise ValueError("HasScope needs at least one scope name.")
    required = tuple(scopes)

    def has_permission(self: BasePermission, request: Request, view: Any) -> bool:
        return _check_scopes(request, required)

    name = "HasScope(" + ", ".join(repr(s) for s in required) + ")"
    attrs: dict[str, Callable[..., Any] | tuple[str, ...]] = {
        "has_permission": has_permission,
        "scopes": required,
    }
    return type(name, (BasePermission,), attrs)


def HasPermission(*permissions: str) -> type[BasePermission]:
    """``permission_classes = [HasPermission("read:things")]``: Auth0's RBAC check. Reads the
    token's ``permissions`` claim (an API with RBAC and permissions in the token) or, when the
    token has none (RBAC off), its ``scope``; a missing one is 403 ``insufficient_scope``."""
    if not permissions or not all(isinstance(p, str) and p for p in permissions):
        raise ValueError("HasPermission needs at least one permission name.")
    required = tuple(permissions)

    def has_permission(self: BasePermission, request: Request, view: Any) -> bool:
        return _check_scopes(request, required, permissions=True)

    name = "HasPermission(" + ", ".join(repr(p) for p in required) + ")"
    attrs: dict[str, Callable[..., Any] | tuple[str, ...]] = {
        "has_permission": has_permission,
        "permissions": required,
    }
    return type(name, (BasePermission,), attrs)
