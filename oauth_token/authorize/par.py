"""Pushed authorization requests (RFC 9126).

A client POSTs its authorization request to /oauth/par, authenticated as at the token
endpoint, and gets back a short-lived, single-use ``request_uri``; the browser then carries
only ``client_id`` and ``request_uri`` to /authorize. The parameters never pass through the
browser, so they cannot be read or altered there, and they were validated before the person
was involved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.core import secrets
from oauth_token.errors import InvalidRequest, InvalidRequestUri
from oauth_token.models import PushedAuthorizationRequest
from oauth_token.registry.snapshots import ClientInfo

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
# Client authentication travels with the push but is not part of the authorization request.
CLIENT_AUTH_PARAMS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})
# How long a browser that presented a request_uri may come back with it (after logging in,
# or to submit the consent form) before it must start again from the client.
SESSION_LIFETIME = 600
_SESSION_KEY = "oauth_token.par"

Validator = Callable[[ClientInfo, Mapping[str, str]], None]


@dataclass(frozen=True)
class PushedRequest:
    """The PAR response (RFC 9126 §2.2)."""

    request_uri: str
    expires_in: int

    def as_body(self) -> dict[str, Any]:
        return {"request_uri": self.request_uri, "expires_in": self.expires_in}


def push(client: ClientInfo, params: Mapping[str, str], validate: Validator) -> PushedRequest:
    """Validate the authorization request as /authorize would (RFC 9126 §2.1) and store it.

    ``request_uri`` must not itself be pushed (RFC 9126 §2.1); ``client_id``, when sent, must
    name the authenticated client and is stored as the authenticated client's id."""
    if "request_uri" in params:
        raise InvalidRequest("request_uri must not be sent to the pushed authorization endpoint.")
    if params.get("client_id", client.client_id) != client.client_id:
        raise InvalidRequest("client_id does not match the authenticated client.")
    request = {k: v for k, v in params.items() if k not in CLIENT_AUTH_PARAMS}
    request["client_id"] = client.client_id
    validate(client, request)
    lifetime = int(oauth_settings.PAR_LIFETIME)
    reference = secrets.new_secret(32)
    PushedAuthorizationRequest.objects.create(
        request_uri_digest=secrets.digest(reference),
        client_id=client.pk,
        parameters=request,
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )
    return PushedRequest(REQUEST_URI_PREFIX + reference, lifetime)


def consume(client_id: str, request_uri: str) -> dict[str, str]:
    """The pushed parameters, exactly once (RFC 9126 §4: one-time use), within their lifetime.

    One conditional UPDATE marks the row used, so of concurrent presentations exactly one
    gets the parameters. A request_uri presented with another client's ``client_id`` is
    refused without being used up."""
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise InvalidRequestUri("The request_uri was not issued by this server.")
    row = (
        PushedAuthorizationRequest.objects.select_related("client")
        .filter(request_uri_digest=secrets.digest(request_uri[len(REQUEST_URI_PREFIX) :]))
        .first()
    )
    if row is None:
        raise InvalidRequestUri("The request_uri is unknown.")
    if row.client.client_id != client_id:
        raise InvalidRequest("The request_uri was issued to another client.")
    now = timezone.now()
    used = PushedAuthorizationRequest.objects.filter(
        pk=row.pk, consumed_at__isnull=True, expires_at__gt=now
    ).update(consumed_at=now)
    if used != 1:
        raise InvalidRequestUri("The request_uri has expired or has already been used.")
    return dict(row.parameters)


def resolve(request: HttpRequest, client_id: str, request_uri: str) -> dict[str, str]:
    """The parameters /authorize works on when it receives ``client_id`` + ``request_uri``
    (RFC 9126 §4), for one browser.

    The first presentation consumes the request_uri and keeps its parameters in this
    browser's session, so the same browser can come back with the same request_uri after
    logging in or to post the consent form (RFC 9126 §4 allows for reloads), while any other
    browser, or this one after ``SESSION_LIFETIME``, is refused."""
    key = secrets.digest(request_uri)
    now = int(timezone.now().timestamp())
    held = {
        k: v
        for k, v in dict(request.session.get(_SESSION_KEY) or {}).items()
        if isinstance(v, dict) and v.get("until", 0) > now
    }
    entry = held.get(key)
    if entry is not None:
        if entry.get("client_id") != client_id:
            raise InvalidRequest("The request_uri was issued to another client.")
        return dict(entry["params"])
    params = consume(client_id, request_uri)
    held[key] = {"client_id": client_id, "params": params, "until": now + SESSION_LIFETIME}
    request.session[_SESSION_KEY] = held
    return params


def forget(request: HttpRequest, request_uri: str) -> None:
    """Drop a resolved request from the session once the person has decided."""
    held = dict(request.session.get(_SESSION_KEY) or {})
    if held.pop(secrets.digest(request_uri), None) is not None:
        request.session[_SESSION_KEY] = held


def required_for(client: ClientInfo) -> bool:
    """RFC 9126 §5-6: the server-wide ``require_pushed_authorization_requests`` policy, or
    the client's own ``require_par`` flag."""
    return bool(oauth_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS) or client.require_par
