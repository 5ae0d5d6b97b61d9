"""Browser sessions at this server, as OpenID Connect sees them (OIDC Back-Channel Logout 1.0
§2.1, OIDC Front-Channel Logout's ``sid``).

Each login starts a session with a fresh random ``sid`` kept in the Django session
(:func:`start`, connected to Django's ``user_logged_in`` in ``AppConfig.ready``). Every ID
token issued in that session carries it, and every client issued a code in it is recorded as a
participant, so that ending the session can tell each of those clients by back-channel logout.
The ``sid`` is an opaque, unguessable identifier of the session, never the session key itself
(which is a credential).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from oauth_token.core import secrets
from oauth_token.models import SessionParticipant

SESSION_KEY = "oauth_token_sid"
SID_LENGTH = 32


def start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A login starts a session with a new ``sid``. The same person signing in again in the
    same session (``prompt=login``, ``max_age``) keeps it: Django keeps the session data then,
    and flushes it when another user signs in or after a logout, so a ``sid`` found here
    belongs to this person's ongoing session and the clients recorded under it stay in it."""
    session = getattr(request, "session", None)
    if session is not None and not isinstance(session.get(SESSION_KEY), str):
        session[SESSION_KEY] = secrets.new_identifier(SID_LENGTH)


def current_sid(request: HttpRequest) -> str | None:
    """The ``sid`` of this browser's session, if the person logged in with this app installed
    (or :func:`session_id` gave it one since)."""
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, str) and value else None


def session_id(request: HttpRequest) -> str:
    """The ``sid`` of this browser's session, created for a session that logged in before this
    app was installed (it has none yet)."""
    sid = current_sid(request)
    if sid is None:
        sid = secrets.new_identifier(SID_LENGTH)
        request.session[SESSION_KEY] = sid
    return sid


def record_participant(sid: str, client_pk: int, user: Any) -> None:
    """Remember that a client took part in the session (once per session and client)."""
    SessionParticipant.objects.bulk_create(
        [SessionParticipant(sid=sid, client_id=client_pk, user=user)], ignore_conflicts=True
    )
