"""The grant registry: ``grant_type`` → strategy class, from settings (GRANT_TYPES plus
EXTRA_GRANT_TYPES), resolved lazily like Django's password hashers."""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..conf import oauth_settings
from ..errors import InvalidRequest, UnsupportedGrantType
from .base import BaseGrant, GrantResult, TokenContext

__all__ = ["BaseGrant", "GrantResult", "TokenContext", "get_grant", "registry"]


@lru_cache(maxsize=1)
def registry() -> dict[str, BaseGrant]:
    grants: dict[str, BaseGrant] = {}
    for grant_type, path in oauth_settings.grant_types.items():
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, BaseGrant)):
            raise TypeError(f"{path} is not a BaseGrant subclass")
        grants[grant_type] = cls()
    return grants


def get_grant(grant_type: str | None) -> BaseGrant:
    if grant_type is None:
        raise InvalidRequest("Missing required parameter: grant_type.")
    grant = registry().get(grant_type)
    if grant is None:
        raise UnsupportedGrantType(f"Unsupported grant type: {grant_type[:100]}.")
    return grant


def _clear(**kwargs: object) -> None:
    registry.cache_clear()


setting_changed.connect(_clear)
