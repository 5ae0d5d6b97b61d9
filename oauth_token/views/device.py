"""Device authorization (RFC 8628): the device's endpoint and the person's /activate page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from rest_framework.request import Request

from .. import device
from ..client_auth import authenticate_client
from ..conf import oauth_settings
from ..errors import OAuthError, TooManyAttempts, UnauthorizedClient
from ..grants.base import BaseGrant
from ..lookups import get_api
from ..models import DeviceCode
from ..request import parse_token_request
from .base import OAuthAPIView, json_response, to_oauth_error


class DeviceAuthorizationView(OAuthAPIView):
    """``POST /oauth/device/code`` (RFC 8628 §3.1-3.2): the client authenticates as at the
    token endpoint (public clients send only ``client_id``) and must be allowed the device
    grant; ``scope`` and ``audience`` are checked now so the person never consents to
    something the token endpoint would refuse."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        params = parse_token_request(request._request)
        client = authenticate_client(params).client
        if not client.allows_grant(device.GRANT_TYPE):
            raise UnauthorizedClient("The client may not use the device authorization grant.")
        api = BaseGrant.resolve_api(params.get("audience"), required=False)
        scopes = device.user_scopes(params.get("scope"), client, api)
        authorization = device.start(client, scopes, api)
        return json_response(authorization.as_body())


CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in",
    "profile": "Read your name and username",
    "email": "Read your email address",
    "offline_access": "Stay connected when you are not using it",
}


def scope_rows(scopes: list[str], audience: str) -> list[dict[str, str]]:
    api = get_api(audience) if audience else None
    described = {**(api.scope_descriptions if api else {}), **SCOPE_DESCRIPTIONS}
    return [{"name": s, "description": described.get(s) or s} for s in scopes]


@method_decorator(login_required, name="dispatch")
class ActivateView(View):
    """``/activate`` (RFC 8628 §3.3): a signed-in person enters the code their device shows
    (or arrives with it from ``verification_uri_complete``), checks that it is the code on
    the device (RFC 8628 §5.4), sees which client asks for which scopes, and allows or denies.
    Wrong codes are counted per person and per address (RFC 8628 §5.1)."""

    template_name = "oauth_token/activate.html"
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if "user_code" not in request.GET:
            return self.page(request, "enter")
        return self.confirm(request, request.GET.get("user_code", ""))

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("user_code", "")
        decision = request.POST.get("decision")
        if decision is None:
            return self.confirm(request, raw)
        if decision not in ("allow", "deny"):
            return self.page(request, "enter", status=400, error="Choose Allow or Deny.")
        found = self.lookup(request, raw)
        if isinstance(found, HttpResponse):
            return found
        if decision == "allow":
            decided = device.approve(found, request.user, self.auth_time(request))
        else:
            decided = device.deny(found, request.user)
        if not decided:
            return self.page(request, "enter", status=400, error=self.GONE)
        return self.page(request, "approved" if decision == "allow" else "denied", device=found)

    GONE = "That code has expired or has already been used. Start again on your device."
    WRONG = "That code is not valid. Check the code on your device and try again."

    def confirm(self, request: HttpRequest, raw: str) -> HttpResponse:
        found = self.lookup(request, raw)
        if isinstance(found, HttpResponse):
            return found
        return self.page(
            request,
            "confirm",
            device=found,
            client_name=found.client.name,
            scopes=scope_rows(list(found.scopes), found.audience),
        )

    def lookup(self, request: HttpRequest, raw: str) -> DeviceCode | HttpResponse:
        """The pending device code for ``raw``, or the page explaining why there is none."""
        user_key = str(request.user.pk)
        ip = str(oauth_settings.CLIENT_IP_FUNCTION(request))
        try:
            device.check_throttle(user_key, ip)
            code = device.normalize_user_code(raw)
            found = device.find_pending(code) if code else None
            if found is None:
                device.record_wrong_code(user_key, ip)
        except Exception as exc:
            return self.failure(request, exc, raw)
        if found is None:
            return self.page(request, "enter", status=400, error=self.WRONG, user_code=raw)
        return found

    def failure(self, request: HttpRequest, exc: Exception, raw: str) -> HttpResponse:
        error = to_oauth_error(exc)
        if not isinstance(error, OAuthError):
            raise exc
        if isinstance(error, TooManyAttempts):
            message = "Too many wrong codes. Wait a few minutes, then try again."
        else:
            message = "The service is temporarily unavailable. Try again in a moment."
        return self.page(request, "enter", status=error.status_code, error=message)

    @staticmethod
    def auth_time(request: HttpRequest) -> datetime:
        """When this person last signed in (OIDC Core §2 ``auth_time``)."""
        last_login = getattr(request.user, "last_login", None)
        return last_login or timezone.now()

    def page(
        self, request: HttpRequest, step: str, status: int = 200, **context: Any
    ) -> HttpResponse:
        found = context.get("device")
        if found is not None:
            context["user_code_display"] = found.display_user_code
        response = render(request, self.template_name, {"step": step, **context}, status=status)
        response["Cache-Control"] = "no-store"
        response["X-Frame-Options"] = "DENY"
        response["Content-Security-Policy"] = CSP
        return response
