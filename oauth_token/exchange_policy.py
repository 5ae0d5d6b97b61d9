"""Which audiences a client may obtain through token exchange (RFC 8693 §2.1, §5).

RFC 8693 leaves to the authorization server's policy which client may exchange which token for
which target. Ours is stored per client in ``Client.exchange_audiences``, a JSON list whose
entries are an API identifier, or an object that also lists scopes the client may obtain for
that API even when the subject token does not carry them::

    ["https://orders.example.com",
     {"audience": "https://billing.example.com", "extra_scopes": ["read:invoices"]}]

An empty list (the default) means the client may not use token exchange for any audience.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from .lookups import ClientInfo

logger = logging.getLogger("oauth_token")


@dataclass(frozen=True)
class ExchangeRule:
    audience: str
    extra_scopes: tuple[str, ...] = ()


def _parse_entry(entry: Any) -> ExchangeRule:
    if isinstance(entry, str) and entry:
        return ExchangeRule(entry)
    if not isinstance(entry, dict):
        raise ValueError("exchange_audiences: each entry is an audience string or an object.")
    unknown = set(entry) - {"audience", "extra_scopes"}
    if unknown:
        raise ValueError(f"exchange_audiences: unknown member(s) {', '.join(sorted(unknown))}.")
    audience, extra = entry.get("audience"), entry.get("extra_scopes", [])
    if not isinstance(audience, str) or not audience:
        raise ValueError("exchange_audiences: each object needs an 'audience' string.")
    if not isinstance(extra, list) or not all(isinstance(s, str) and s for s in extra):
        raise ValueError("exchange_audiences: 'extra_scopes' must be a list of scope names.")
    return ExchangeRule(audience, tuple(dict.fromkeys(extra)))


def parse(raw: Any) -> tuple[ExchangeRule, ...]:
    if raw in (None, "", []):
        return ()
    if not isinstance(raw, list):
        raise ValueError("exchange_audiences must be a list.")
    rules = tuple(_parse_entry(entry) for entry in raw)
    audiences = [r.audience for r in rules]
    if len(audiences) != len(set(audiences)):
        raise ValueError("exchange_audiences: an audience is listed twice.")
    return rules


def validate_exchange_audiences(value: Any) -> None:
    """Model-field validator, so the admin and ``full_clean`` refuse a malformed policy."""
    try:
        parse(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def rule_for(client: ClientInfo, audience: str) -> ExchangeRule | None:
    """The client's rule for ``audience``, or None when the policy does not allow it."""
    try:
        rules = parse(client.extra.get("exchange_audiences"))
    except ValueError:
        logger.warning("client %s has a malformed exchange_audiences policy", client.client_id)
        return None
    return next((r for r in rules if r.audience == audience), None)
