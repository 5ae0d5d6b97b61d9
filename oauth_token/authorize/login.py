"""When the person in this browser session last authenticated (OIDC Core §2 ``auth_time``).

Django records ``last_login`` per user, not per session, so a login on another device would
make this session look fresh. The time is therefore kept in the session itself, set when
Django's ``user_logged_in`` signal fires (:func:`record_auth_time`, connected in
``AppConfig.ready``); ``max_age`` and ``auth_time`` are computed from it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url

from oauth_token.conf import oauth_settings

SESSION_KEY = "oauth_token_auth_time"
REAUTH_KEY = "oauth_token_reauth_requested_at"


def record_auth_time(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = int(time.time())


def auth_time(request: HttpRequest) -> int:
    """Seconds since the epoch of this session's login; for a session that logged in before
    this app was installed, the user's ``last_login`` is the best estimate there is."""
    value = request.session.get(SESSION_KEY)
    if isinstance(value, int):
        return value
    last_login = getattr(request.user, "last_login", None)
    return int(last_login.timestamp()) if last_login else int(time.time())


def _fingerprint(authorization_request: str) -> str:
    return hashlib.sha256(authorization_request.encode("utf-8", "surrogatepass")).hexdigest()


def request_reauthentication(request: HttpRequest, authorization_request: str) -> None:
    """``prompt=login`` or ``max_age`` (OIDC Core §3.1.2.1): remember when a new login was
    asked for, and for which authorization request (its resume URL), so that this request,
    resumed after the login, knows it has been satisfied, and no other one does."""
    request.session[REAUTH_KEY] = {
        "at": int(time.time()),
        "for": _fingerprint(authorization_request),
    }


def reauthenticated(request: HttpRequest, authorization_request: str) -> bool:
    """True once, for the authorization request that asked, after a login that happened
    since it asked. A marker left by an abandoned request is not satisfied by a later login
    made for a different request."""
    marker = request.session.get(REAUTH_KEY)
    if not isinstance(marker, dict) or not isinstance(marker.get("at"), int):
        return False
    if not hmac.compare_digest(str(marker.get("for")), _fingerprint(authorization_request)):
        return False
    if auth_time(request) < marker["at"]:
        return False
    del request.session[REAUTH_KEY]
    return True


def redirect_to_login(next_url: str, login_hint: str | None = None) -> HttpResponseRedirect:
    """Django's login page with ``next`` (and ``login_hint``, for templates that prefill the
    username field; OIDC Core §3.1.2.1)."""
    login_url = resolve_url(oauth_settings.LOGIN_URL or settings.LOGIN_URL)
    query = {REDIRECT_FIELD_NAME: next_url}
    if login_hint:
        query["login_hint"] = login_hint
    separator = "&" if "?" in login_url else "?"
    return HttpResponseRedirect(f"{login_url}{separator}{urlencode(query)}")
