"""``GET/POST /oidc/logout``: the end-session endpoint (OIDC RP-Initiated Logout 1.0).

validate (``authorize/logout.py``; anything doubtful is an error page, never a redirect) →
when the request names the person signed in here (a valid ``id_token_hint`` for this session),
log out at once; otherwise ask them on a CSRF-protected confirmation page → Django's logout
ends the session, which notifies the session's clients by back-channel logout → back to the
client's registered ``post_logout_redirect_uri`` with ``state`` (§3), or a "signed out" page.
"""

from __future__ import annotations

from django.contrib.auth import logout as django_logout
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from oauth_token.authorize import logout
from oauth_token.errors import OAuthError
from oauth_token.views.authorize import ClientRedirect, with_query
from oauth_token.views.base import serving

CONFIRM_TEMPLATE = "oauth_token/logout_confirm.html"
DONE_TEMPLATE = "oauth_token/logout_done.html"
ERROR_TEMPLATE = "oauth_token/logout_error.html"


@csrf_exempt  # §2: the RP sends the browser here, by a link or a cross-site form POST
@never_cache
@require_http_methods(["GET", "POST"])
@serving
def end_session(request: HttpRequest) -> HttpResponse:
    data = request.GET if request.method == "GET" else request.POST
    try:
        request_ = logout.parse(logout.read(data))
    except logout.LogoutRefused as exc:
        return error_page(request, exc.description)
    except OAuthError as exc:  # e.g. too many document fetches, or the cache is down
        response = error_page(request, exc.description, exc.status_code)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if not request.user.is_authenticated:
        return finish(request, request_)
    if logout.tied_to_session(request, request_):
        django_logout(request)
        return finish(request, request_)
    transaction_id = logout.save_pending(request, request_)
    response = TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "client_name": request_.client.name if request_.client else None,
            "action": reverse("oauth_token:end_session_confirm"),
            "transaction": transaction_id,
        },
    )
    return protect(response)


@csrf_protect  # even where CsrfViewMiddleware is not installed
@never_cache
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    """The confirmation form's target: ``decision=logout`` ends the session, ``stay`` keeps
    it (and sends the person nowhere)."""
    try:
        request_ = logout.pop_pending(request, request.POST.get("transaction"))
    except logout.LogoutRefused as exc:
        return error_page(request, exc.description)
    if request_ is None:
        return error_page(request, _("This sign-out request expired; please start again."))
    decision = request.POST.get("decision")
    if decision == "stay":
        return done(request, signed_out=False)
    if decision != "logout":
        return error_page(request, _("The answer to the sign-out question is missing."))
    if request.user.is_authenticated:
        django_logout(request)
    return finish(request, request_)


def finish(request: HttpRequest, request_: logout.LogoutRequest) -> HttpResponse:
    """§3: to the registered post_logout_redirect_uri, with ``state`` when one was sent."""
    uri = request_.post_logout_redirect_uri
    if uri is None:
        return done(request, signed_out=True)
    query = {"state": request_.state} if request_.state is not None else {}
    return ClientRedirect(with_query(uri, query) if query else uri)


def done(request: HttpRequest, *, signed_out: bool) -> HttpResponse:
    return protect(TemplateResponse(request, DONE_TEMPLATE, {"signed_out": signed_out}))


def error_page(request: HttpRequest, description: str, status: int = 400) -> HttpResponse:
    """Nothing about the request can be trusted to send the person anywhere (§3)."""
    response = TemplateResponse(
        request, ERROR_TEMPLATE, {"error_description": description}, status=status
    )
    return protect(response)


def protect(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Frame-Options"] = "DENY"
    return response
