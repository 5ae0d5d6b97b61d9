"""``GET/POST /authorize``: the authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2).

validate the request → the person logs in through Django's authentication (``prompt``,
``max_age``) → consents (remembered per user, client and API; skipped for first-party clients)
→ a code is issued and sent back to the exact registered redirect_uri with ``state`` and
``iss`` (RFC 9207), as a redirect (``query``) or an auto-submitted form (``form_post``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from oauth_token.authorize import consent, login, par, pending, sessions
from oauth_token.authorize.codes import issue_code
from oauth_token.authorize.validation import (
    AuthorizationRequest,
    RedirectTarget,
    UnsafeRedirect,
    pushed_params,
    read_params,
    resolve_target,
    validate,
)
from oauth_token.core import endpoints
from oauth_token.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    OAuthError,
)
from oauth_token.views.base import serving, to_oauth_error

ERROR_TEMPLATE = "oauth_token/authorize_error.html"
FORM_POST_TEMPLATE = "oauth_token/form_post.html"


class ClientRedirect(HttpResponseRedirect):
    """A redirect to a registered redirect_uri, whatever its scheme (native apps register
    private-use schemes, RFC 8252 §7.1); the URI was matched exactly, so it is trusted."""

    def __init__(self, url: str):
        self.allowed_schemes = [urlsplit(url).scheme]
        super().__init__(url)
        self["Cache-Control"] = "no-store"
        self["Referrer-Policy"] = "no-referrer"


@csrf_exempt  # an authorization request is a cross-site navigation by design (§4.1.1)
@never_cache
@require_http_methods(["GET", "POST"])
@serving
def authorize(request: HttpRequest) -> HttpResponse:
    params, duplicated = read_params(request.GET if request.method == "GET" else request.POST)
    try:
        params, duplicated, request_uri = pushed_params(request, params, duplicated)
        target = resolve_target(params, duplicated)
    except UnsafeRedirect as exc:
        return error_page(request, exc.error, exc.description)
    except OAuthError as exc:  # e.g. too many document fetches: the client is not verified
        return error_page(request, exc.error, exc.description, exc.status_code, exc.headers)
    try:
        return proceed(request, validate(params, duplicated, target, request_uri))
    except Exception as exc:
        return redirect_error(request, target, exc, request_uri)


@csrf_protect  # even where CsrfViewMiddleware is not installed
@never_cache
@require_POST
@serving
def decide(request: HttpRequest) -> HttpResponse:
    """The consent form's target (CSRF-protected): allow issues the code, deny answers
    ``access_denied`` (RFC 6749 §4.1.2.1)."""
    entry = pending.pop(request, request.POST.get("transaction"))
    if entry is None:
        return error_page(
            request, "invalid_request", "This authorization request expired; please start again."
        )
    try:
        target = resolve_target(entry.params, [])
    except UnsafeRedirect as exc:
        return error_page(request, exc.error, exc.description)
    except OAuthError as exc:
        return error_page(request, exc.error, exc.description, exc.status_code, exc.headers)
    try:
        authz = validate(entry.params, [], target, entry.request_uri)
        user = request.user
        if not user.is_authenticated or str(user.pk) != entry.user:
            raise LoginRequired("The signed-in user changed during authorization.")
        allowed = consent.decision(request)
        if allowed is None:
            raise InvalidRequest("The consent decision is missing.")
        if not allowed:
            raise AccessDenied("The user denied access.")
        consent.remember(user, consent_prompt(authz, user), request)
        return success(request, authz, user, entry.auth_time)
    except Exception as exc:
        return redirect_error(request, target, exc, entry.request_uri)


def proceed(request: HttpRequest, authz: AuthorizationRequest) -> HttpResponse:
    """Login, then consent, then the code (OIDC Core §3.1.2.3, §3.1.2.4)."""
    user = request.user
    if not (user.is_authenticated and user.is_active):
        if "none" in authz.prompt:
            raise LoginRequired()
        return login.redirect_to_login(resume_url(authz), authz.login_hint)
    auth_time = login.auth_time(request)
    # max_age=0 asks for a login every time, like prompt=login (OIDC Core §3.1.2.1).
    too_old = authz.max_age is not None and (
        authz.max_age == 0 or int(time.time()) - auth_time > authz.max_age
    )
    resume = resume_url(authz)
    if ("login" in authz.prompt or too_old) and not login.reauthenticated(request, resume):
        if "none" in authz.prompt:
            raise LoginRequired("The authentication is older than max_age.")
        # The login this leads to satisfies this request (and only this one) even if it took
        # longer than max_age.
        login.request_reauthentication(request, resume)
        return login.redirect_to_login(resume, authz.login_hint)
    auth_time = login.auth_time(request)
    prompt = consent_prompt(authz, user)
    if consent.is_required(user, prompt, force="consent" in authz.prompt):
        if "none" in authz.prompt:
            raise ConsentRequired()
        transaction_id = pending.save(
            request, authz.params, str(user.pk), auth_time, authz.request_uri
        )
        return consent.render(
            request,
            prompt,
            action=reverse("oauth_token:authorize_decision"),
            hidden={"transaction": transaction_id},
            return_to=resume_url(authz),
        )
    return success(request, authz, user, auth_time)


def consent_prompt(authz: AuthorizationRequest, user: Any) -> consent.ConsentPrompt:
    return consent.prompt_for(user, authz.client, authz.api, authz.scopes, authz.more_apis)


def success(
    request: HttpRequest, authz: AuthorizationRequest, user: Any, auth_time: int
) -> HttpResponse:
    sid = sessions.session_id(request)
    code = issue_code(authz, user, auth_time, sid)
    sessions.record_participant(sid, authz.client.pk, user)
    if authz.request_uri:
        par.forget(request, authz.request_uri)
    return respond(request, authz.target, {"code": code})


def resume_url(authz: AuthorizationRequest) -> str:
    """/authorize again, for after login: the same parameters, or for a pushed request only
    ``client_id`` and ``request_uri`` (the parameters stay out of the browser, RFC 9126 §4)."""
    if authz.request_uri:
        values = {"client_id": authz.client.client_id, "request_uri": authz.request_uri}
    else:
        values = dict(authz.params)
    return f"{reverse('oauth_token:authorize')}?{urlencode(values)}"


def redirect_error(
    request: HttpRequest, target: RedirectTarget, exc: Exception, request_uri: str | None = None
) -> HttpResponse:
    """RFC 6749 §4.1.2.1: errors go back to the client, with ``state`` and ``iss``."""
    error = to_oauth_error(exc)
    if error is None:
        raise exc
    for action in error.after_rollback:
        action()
    if request_uri:
        par.forget(request, request_uri)
    values = {"error": error.error, "error_description": error.description}
    return respond(request, target, values)


def respond(request: HttpRequest, target: RedirectTarget, values: dict[str, str]) -> HttpResponse:
    values = dict(values)
    if target.state is not None:
        values["state"] = target.state
    values["iss"] = endpoints.issuer()
    if target.response_mode == "form_post":
        return form_post(request, target.redirect_uri, values)
    return ClientRedirect(with_query(target.redirect_uri, values))


def with_query(uri: str, values: Mapping[str, str]) -> str:
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode(values)}" if parts.query else urlencode(values)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def form_post(request: HttpRequest, redirect_uri: str, values: dict[str, str]) -> HttpResponse:
    """OAuth 2.0 Form Post Response Mode: a form POSTed to the redirect_uri by a same-origin
    script (no inline script), with a button for browsers that run none."""
    parts = urlsplit(redirect_uri)
    destination = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    response = TemplateResponse(
        request,
        FORM_POST_TEMPLATE,
        {"redirect_uri": redirect_uri, "fields": sorted(values.items())},
    )
    response["Cache-Control"] = "no-store"
    # Not no-referrer: browsers then send "Origin: null", which the client may refuse.
    response["Referrer-Policy"] = "origin"
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self'; form-action {destination}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


FORM_POST_SCRIPT = "document.getElementById('oauth-form-post').submit();\n"


def form_post_script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FORM_POST_SCRIPT, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def error_page(
    request: HttpRequest,
    error: str,
    description: str,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """RFC 6749 §4.1.2.1: the client or redirect_uri cannot be trusted, so the person is told
    here and nothing is sent anywhere."""
    response = TemplateResponse(
        request,
        ERROR_TEMPLATE,
        {"error": error, "error_description": description},
        status=status,
        headers=headers,
    )
    response["Cache-Control"] = "no-store"
    response["X-Frame-Options"] = "DENY"
    return response
