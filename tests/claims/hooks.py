"""Claims hooks a project would write (OAUTH_TOKEN['ACCESS_TOKEN_CLAIMS'] / ['ID_TOKEN_CLAIMS'])."""

from __future__ import annotations

from typing import Any

SEEN: list[Any] = []


def add_tenant(claims: Any, context: Any) -> dict[str, Any]:
    SEEN.append((dict(claims), context))
    return {
        "https://example.com/tenant": "acme",
        "https://example.com/grant": context.grant_type,
        "https://example.com/user": context.user.get_username() if context.user else None,
    }


def override_registered(claims: Any, context: Any) -> dict[str, Any]:
    return {"sub": "someone-else", "scope": "admin", "permissions": ["all"], "ok": True}


def boom(claims: Any, context: Any) -> dict[str, Any]:
    raise RuntimeError("database of tenants is down")


def mutate(claims: Any, context: Any) -> dict[str, Any]:
    claims["sub"] = "mutated"  # read-only: raises TypeError
    return {}


def not_json(claims: Any, context: Any) -> dict[str, Any]:
    return {"when": object()}


def empty(claims: Any, context: Any) -> None:
    return None


NOT_CALLABLE = 42
