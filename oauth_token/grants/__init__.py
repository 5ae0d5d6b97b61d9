"""The grant registry: ``grant_type`` → strategy class, from settings (GRANT_TYPES plus
EXTRA_GRANT_TYPES), resolved lazily like Django's password hashers."""

from __future__ import annotations

from functools import lru_cache

from django.utils.module_loading import import_string

from oauth_token.conf import oauth_settings
from oauth_token.errors import InvalidRequest, UnsupportedGrantType
from oauth_token.grants.base import BaseGrant
from oauth_token.token_endpoint.context import GrantResult, TokenContext

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


def clear_registry(**kwargs: object) -> None:
    """A ``setting_changed`` receiver, connected in ``AppConfig.ready``."""
    registry.cache_clear()
