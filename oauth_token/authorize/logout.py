"""RP-initiated logout (OIDC RP-Initiated Logout 1.0) and the end of a session (OIDC
Back-Channel Logout 1.0 §2.5).

:func:`parse` validates a request to the end-session endpoint. Nothing in it is trusted to
choose where the browser goes: a ``post_logout_redirect_uri`` is followed only when it is one
the identified client registered, compared exactly (§3.1, §2: "MUST NOT perform post-logout
redirection if the ... URI does not exactly match"); otherwise the request is refused with an
error page. The ``id_token_hint`` must be an ID token this server signed (any of its published
keys); an expired one is accepted (§2: the RP may hold only an expired one).

:func:`tied_to_session` decides whether the request can be tied to the person signed in in
this browser (the hint names them, and this very session when it carries a ``sid``), in which
case no confirmation is asked; otherwise the view asks.

:func:`session_ended` runs whenever Django logs someone out (``/oidc/logout``, the admin's or
the project's own logout view — it is connected to Django's ``user_logged_out``): the session's
participants are read, refresh tokens are revoked for clients that asked for it, a logout token
is signed for each client with a ``backchannel_logout_uri``, and after commit the public
``user_logged_out`` signal is sent and the deliveries start.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from oauth_token import signals
from oauth_token.authorize import backchannel, sessions
from oauth_token.conf import oauth_settings
from oauth_token.core import jose, secrets
from oauth_token.errors import InvalidToken
from oauth_token.models import SessionParticipant
from oauth_token.registry.snapshots import ClientInfo, get_client
from oauth_token.tokens import claims, logout_tokens, refresh_tokens
from oauth_token.tokens.access_tokens import verify_own_jwt

PARAMETERS = (
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "logout_hint",
    "ui_locales",
)
PENDING_KEY = "oauth_token_pending_logout"
ID_TOKEN_TYPES = frozenset({"jwt"})


class LogoutRefused(Exception):
    """The request cannot be honoured as sent; shown to the person, never redirected."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class LogoutRequest:
    params: dict[str, str]
    client: ClientInfo | None
    post_logout_redirect_uri: str | None
    state: str | None
    logout_hint: str | None
    hint: dict[str, Any] | None = field(default=None, repr=False)


def read(data: QueryDict) -> dict[str, str]:
    """The known parameters, empty ones dropped; one sent twice (or oversized) is refused."""
    limit = int(oauth_settings.MAX_PARAMETER_LENGTH)
    params: dict[str, str] = {}
    for name in PARAMETERS:
        values = data.getlist(name)
        if len(values) > 1:
            raise LogoutRefused(
                _("The %(name)s parameter was sent more than once.") % {"name": name}
            )
        if values and len(values[0]) > limit:
            raise LogoutRefused(_("The %(name)s parameter is too long.") % {"name": name})
        if values and values[0]:
            params[name] = values[0]
    return params


def parse(params: Mapping[str, str]) -> LogoutRequest:
    """RP-Initiated Logout §2 and §3, in order: the hint, the client, the redirect URI."""
    hint = verify_hint(params["id_token_hint"]) if "id_token_hint" in params else None
    client = identify_client(params.get("client_id"), hint)
    redirect_uri = params.get("post_logout_redirect_uri")
    if redirect_uri is not None:
        if client is None:
            raise LogoutRefused(
                _(
                    "A post_logout_redirect_uri needs the client to be identified "
                    "(client_id or id_token_hint)."
                )
            )
        if redirect_uri not in client.post_logout_redirect_uris:
            raise LogoutRefused(
                _("The post_logout_redirect_uri is not registered for this application.")
            )
    return LogoutRequest(
        params=dict(params),
        client=client,
        post_logout_redirect_uri=redirect_uri,
        state=params.get("state"),
        logout_hint=params.get("logout_hint"),
        hint=hint,
    )


def verify_hint(token: str) -> dict[str, Any]:
    """An ID token this server issued: signature by a published key, ``iss``; expiry is not
    checked (§2). Access and logout tokens are not ID tokens, whatever they claim."""
    try:
        typ = jose.unverified_header(token).get("typ", "JWT")
        if not isinstance(typ, str) or typ.lower() not in ID_TOKEN_TYPES:
            raise InvalidToken("not an ID token")
        hint = verify_own_jwt(
            token, access_token=False, require=("iss", "sub", "aud"), verify_exp=False
        )
    except (jose.JoseError, InvalidToken) as exc:
        raise LogoutRefused(
            _("The id_token_hint is not an ID token issued by this server.")
        ) from exc
    if not isinstance(hint.get("sub"), str) or "events" in hint:
        raise LogoutRefused(_("The id_token_hint is not an ID token issued by this server."))
    return hint


def hint_audiences(hint: Mapping[str, Any]) -> list[str]:
    aud = hint.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return [a for a in values if isinstance(a, str)]


def identify_client(client_id: str | None, hint: Mapping[str, Any] | None) -> ClientInfo | None:
    """``client_id`` when sent (it must be an audience of the hint, §2), else the hint's
    ``azp`` or single audience. An unknown client_id is refused; a hint whose client is gone
    identifies none."""
    if client_id is not None:
        if hint is not None and client_id not in hint_audiences(hint):
            raise LogoutRefused(_("The client_id is not an audience of the id_token_hint."))
        client = get_client(client_id)
        if client is None:
            raise LogoutRefused(_("The client is unknown or inactive."))
        return client
    if hint is None:
        return None
    audiences = hint_audiences(hint)
    azp = hint.get("azp")
    named = azp if isinstance(azp, str) else audiences[0] if len(audiences) == 1 else None
    return get_client(named) if named else None


def tied_to_session(request: HttpRequest, logout: LogoutRequest) -> bool:
    """Whether the request names the person signed in here: the hint's ``sub`` is theirs, its
    ``sid`` (when it has one) is this session's, and a ``logout_hint`` names them too."""
    user = request.user
    if not user.is_authenticated or logout.hint is None:
        return False
    if logout.hint.get("sub") != claims.subject(user):
        return False
    sid = logout.hint.get("sid")
    if sid is not None and sid != sessions.current_sid(request):
        return False
    return logout.logout_hint is None or names_user(logout.logout_hint, user)


def names_user(logout_hint: str, user: Any) -> bool:
    """``logout_hint`` (§2) as this server understands it: the user's ``sub``, username or
    email address."""
    email = getattr(user, "email", "") or ""
    return logout_hint in {claims.subject(user), user.get_username()} or (
        bool(email) and logout_hint.lower() == email.lower()
    )


# --- confirmation -----------------------------------------------------------------------------


def save_pending(request: HttpRequest, logout: LogoutRequest) -> str:
    """Keep the validated parameters server-side until the person answers; only an opaque
    transaction id goes into the CSRF-protected form."""
    transaction_id = secrets.new_identifier(24)
    request.session[PENDING_KEY] = {
        "id": transaction_id,
        "params": logout.params,
        "expires": time.time() + int(oauth_settings.CONSENT_TIMEOUT),
    }
    return transaction_id


def pop_pending(request: HttpRequest, transaction_id: object) -> LogoutRequest | None:
    """The pending request the form answers, validated again (the client's registration may
    have changed since), or None."""
    entry = request.session.pop(PENDING_KEY, None)
    if (
        not isinstance(entry, dict)
        or not isinstance(transaction_id, str)
        or not hmac.compare_digest(
            str(entry.get("id", "")).encode(), transaction_id.encode("utf-8", "surrogatepass")
        )
        or entry.get("expires", 0) < time.time()
    ):
        return None
    return parse(dict(entry.get("params") or {}))


# --- the end of a session -----------------------------------------------------------------


def session_ended(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Django's ``user_logged_out``: sent before the session is flushed, so its ``sid`` is
    still readable. Back-Channel Logout §2.5: each participating client with a
    ``backchannel_logout_uri`` gets a logout token naming this session's ``sid``, after commit.
    A session without a ``sid`` (signed in before this app was installed, and no client
    authorized since) has no participants, so nothing is sent."""
    session = getattr(request, "session", None)
    sid = sessions.current_sid(request) if session is not None and request else None
    if user is None or sid is None:
        return
    subject = claims.subject(user)
    notices: list[backchannel.Notice] = []
    client_ids: list[str] = []
    with transaction.atomic():
        participants = SessionParticipant.objects.filter(sid=sid, user=user).select_related(
            "client"
        )
        for participant in participants:
            client = participant.client
            client_ids.append(client.client_id)
            if client.revoke_refresh_tokens_on_logout:
                refresh_tokens.revoke_families("logout", client=client, sid=sid)
            if client.backchannel_logout_uri and client.is_active:
                token = logout_tokens.mint(client_id=client.client_id, subject=subject, sid=sid)
                notices.append(
                    backchannel.Notice(client.client_id, client.backchannel_logout_uri, token)
                )
        SessionParticipant.objects.filter(sid=sid).delete()

        def after_commit() -> None:
            backchannel.notify(notices)
            signals.user_logged_out.send(
                sender=type(user),
                user=user,
                sid=sid,
                client_ids=sorted(client_ids),
                request=request,
            )

        transaction.on_commit(after_commit)
