"""Which audiences a client may obtain through token exchange (RFC 8693 §2.1, §5).

RFC 8693 leaves to the authorization server's policy which client may exchange which token for
which target. Ours is stored per client in ``Client.exchange_audiences``, a JSON list whose
entries are an API identifier, or an object that also lists scopes the client may obtain for
that API even when the subject token does not carry them, and the other clients whose access
tokens it may exchange (``sources``; its own tokens always qualify)::

    ["https://orders.example.com",
     {"audience": "https://billing.example.com", "extra_scopes": ["read:invoices"],
      "sources": ["<client_id of the web app>"]}]

An empty list (the default) means the client may not use token exchange for any audience.
"""

from __future__ import annotations

import logging

from oauth_token.models.policies import ExchangeRule, parse_exchange_audiences
from oauth_token.registry.snapshots import ClientInfo

logger = logging.getLogger("oauth_token")


def rule_for(client: ClientInfo, audience: str) -> ExchangeRule | None:
    """The client's rule for ``audience``, or None when the policy does not allow it."""
    try:
        rules = parse_exchange_audiences(client.extra.get("exchange_audiences"))
    except ValueError:
        logger.warning("client %s has a malformed exchange_audiences policy", client.client_id)
        return None
    return next((r for r in rules if r.audience == audience), None)


__all__ = ["ExchangeRule", "rule_for"]
