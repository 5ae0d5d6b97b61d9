"""Default OIDC claims of a Django user by scope (OIDC Core §5.4). Projects replace this with
``OAUTH_TOKEN["CLAIMS_FUNCTION"]`` (dotted path to ``f(user, scopes) -> dict``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PROFILE_CLAIMS = ("name", "given_name", "family_name", "preferred_username", "updated_at")
EMAIL_CLAIMS = ("email", "email_verified")


def subject(user: Any) -> str:
    """A stable ``sub`` per user: the primary key never changes, unlike username or email."""
    return str(user.pk)


def default_claims(user: Any, scopes: Iterable[str]) -> dict[str, Any]:
    scopes = set(scopes)
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        claims.update(
            {
                "name": full_name or user.get_username(),
                "given_name": getattr(user, "first_name", "") or None,
                "family_name": getattr(user, "last_name", "") or None,
                "preferred_username": user.get_username(),
            }
        )
        updated: Any = getattr(user, "last_login", None) or getattr(user, "date_joined", None)
        if updated is not None:
            claims["updated_at"] = int(updated.timestamp())
    email: Any = getattr(user, "email", None)
    if "email" in scopes and email:
        claims["email"] = email
        claims["email_verified"] = bool(getattr(user, "email_verified", False))
    return {k: v for k, v in claims.items() if v is not None}
