"""A signal's keyword arguments as JSON values: what the log line's ``extra`` and the audit
log store. The Django request becomes its client's IP address and user agent; a user its
primary key and username; sets and tuples lists. Payloads carry no secret or token value by
construction (``oauth_token.signals`` documents each), so nothing is filtered here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from oauth_token.conf import oauth_settings
from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH

# Events that record something refused or gone wrong; every other event is a success.
FAILURES = frozenset(
    {
        "refresh_token_reused",
        "client_authentication_failed",
        "user_locked_out",
        "backchannel_logout_failed",
    }
)


@dataclass(frozen=True)
class Event:
    name: str
    outcome: str
    actor: str
    client_id: str
    ip: str
    user_agent: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_log_extra(self) -> dict[str, Any]:
        return {
            "oauth_event": self.name,
            "oauth_outcome": self.outcome,
            "oauth_actor": self.actor,
            "oauth_client_id": self.client_id,
            "oauth_ip": self.ip,
            "oauth_details": self.details,
        }


def build(name: str, kwargs: Mapping[str, Any]) -> Event:
    request = kwargs.get("request")
    details = {k: jsonable(v) for k, v in kwargs.items() if k not in ("request", "signal")}
    return Event(
        name=name,
        outcome="failure" if name in FAILURES else "success",
        actor=_actor(kwargs),
        client_id=str(kwargs.get("client_id") or "")[:CLIENT_ID_MAX_LENGTH],
        ip=_ip(request),
        user_agent=_user_agent(request),
        details=details,
    )


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "get_username") and hasattr(value, "pk"):
        return {"id": jsonable(value.pk), "username": value.get_username()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _actor(kwargs: Mapping[str, Any]) -> str:
    user = kwargs.get("user")
    if user is not None and hasattr(user, "get_username"):
        return str(user.get_username())[:255]
    for name in ("username", "subject"):
        if kwargs.get(name):
            return str(kwargs[name])[:255]
    return ""


def _ip(request: Any) -> str:
    if not isinstance(request, HttpRequest):
        return ""
    try:
        return str(oauth_settings.CLIENT_IP_FUNCTION(request) or "")[:64]
    except Exception:
        return ""


def _user_agent(request: Any) -> str:
    if not isinstance(request, HttpRequest):
        return ""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:512]
