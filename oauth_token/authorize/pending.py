"""Authorization requests waiting for the person's consent, kept in their session.

The consent form carries only an opaque transaction id; the parameters stay server-side, so
the form cannot be edited into a different request, and a pending request is bound to the
user who saw the page. Entries expire after CONSENT_TIMEOUT and at most a few are kept.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from oauth_token.conf import oauth_settings
from oauth_token.core import secrets

SESSION_KEY = "oauth_token_pending"
MAX_PENDING = 5


@dataclass(frozen=True)
class Pending:
    params: dict[str, str]
    user: str
    auth_time: int
    request_uri: str | None = None


def _entries(request: HttpRequest) -> dict[str, dict[str, Any]]:
    raw = request.session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return {}
    now = time.time()
    return {k: v for k, v in raw.items() if isinstance(v, dict) and v.get("expires", 0) > now}


def save(
    request: HttpRequest,
    params: Mapping[str, str],
    user: str,
    auth_time: int,
    request_uri: str | None = None,
) -> str:
    entries = _entries(request)
    while len(entries) >= MAX_PENDING:
        oldest = min(entries, key=lambda k: entries[k]["expires"])
        del entries[oldest]
    transaction_id = secrets.new_identifier(24)
    entries[transaction_id] = {
        "params": dict(params),
        "user": user,
        "auth_time": auth_time,
        "request_uri": request_uri,
        "expires": time.time() + int(oauth_settings.CONSENT_TIMEOUT),
    }
    request.session[SESSION_KEY] = entries
    return transaction_id


def pop(request: HttpRequest, transaction_id: str | None) -> Pending | None:
    """The pending request, removed so that one consent answers it once."""
    entries = _entries(request)
    entry = entries.pop(transaction_id, None) if isinstance(transaction_id, str) else None
    request.session[SESSION_KEY] = entries
    if entry is None:
        return None
    return Pending(
        params=entry["params"],
        user=entry["user"],
        auth_time=entry["auth_time"],
        request_uri=entry.get("request_uri"),
    )
