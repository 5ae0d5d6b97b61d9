"""Device authorization (RFC 8628): the device's endpoint and the person's /activate page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_protect
from rest_framework.request import Request

from oauth_token.authorize import consent, device, login
from oauth_token.conf import oauth_settings
from oauth_token.errors import TooManyAttempts, UnauthorizedClient
from oauth_token.models import DeviceCode
from oauth_token.registry import policies
from oauth_token.registry.snapshots import client_snapshot, get_api
from oauth_token.token_endpoint.client_auth import authenticate_client
from oauth_token.token_endpoint.request import parse_token_request
from oauth_token.views.base import OAuthAPIView, json_response, to_oauth_error


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
        api = policies.resolve_target(
            params.get("audience"), params.get("resource"), required=False
        )
        scopes = policies.grantable_scopes((params.get("scope") or "").split(), client, api)
        started = device.start(client, scopes, api)
        return json_response(started.as_body())


CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


@method_decorator(csrf_protect, name="dispatch")  # even where CsrfViewMiddleware is not installed
@method_decorator(login_required, name="dispatch")
class ActivateView(View):
    """``/activate`` (RFC 8628 §3.3): a signed-in person enters the code their device shows
    (or arrives with it from ``verification_uri_complete``), checks on the shared consent page
    that it is the code on the device (RFC 8628 §5.4) and which client asks for which scopes,
    and allows or denies. The page is always shown, even for first-party clients or remembered
    consent: a code someone else typed for you is exactly the phishing §5.4 warns about.
    Wrong codes are counted per person and per address (RFC 8628 §5.1)."""

    template_name = "oauth_token/activate.html"
    consent_template = "oauth_token/activate_consent.html"
    http_method_names = ["get", "post"]

    GONE = _("That code has expired or has already been used. Start again on your device.")
    WRONG = _("That code is not valid. Check the code on your device and try again.")
    CHOOSE = _("Choose Allow or Deny.")
    TOO_MANY = _("Too many wrong codes. Wait a few minutes, then try again.")
    UNAVAILABLE = _("The service is temporarily unavailable. Try again in a moment.")

    def get(self, request: HttpRequest) -> HttpResponse:
        if "user_code" not in request.GET:
            return self.page(request, "enter")
        return self.confirm(request, request.GET.get("user_code", ""))

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("user_code", "")
        if "decision" not in request.POST:
            return self.confirm(request, raw)
        allowed = consent.decision(request)
        if allowed is None:
            return self.page(request, "enter", status=400, error=self.CHOOSE)
        found = self.lookup(request, raw)
        if isinstance(found, HttpResponse):
            return found
        with transaction.atomic():
            if allowed:
                decided = device.approve(found, request.user, self.auth_time(request))
                if decided:
                    consent.remember(request.user, self.prompt(found, request.user), request)
            else:
                decided = device.deny(found, request.user)
        if not decided:
            return self.page(request, "enter", status=400, error=self.GONE)
        step = "approved" if allowed else "denied"
        return self.page(request, step, client_name=found.client.name)

    def confirm(self, request: HttpRequest, raw: str) -> HttpResponse:
        found = self.lookup(request, raw)
        if isinstance(found, HttpResponse):
            return found
        shown = found.display_user_code
        response = consent.render(
            request,
            self.prompt(found, request.user),
            action=reverse("oauth_token:activate"),
            hidden={"user_code": shown},
            template=self.consent_template,
            extra_context={"user_code_display": shown},
            return_to=f"{reverse('oauth_token:activate')}?{urlencode({'user_code': shown})}",
        )
        return self.secure(response)

    @staticmethod
    def prompt(found: DeviceCode, user: Any) -> consent.ConsentPrompt:
        api = get_api(found.audience) if found.audience else None
        return consent.prompt_for(user, client_snapshot(found.client), api, tuple(found.scopes))

    def lookup(self, request: HttpRequest, raw: str) -> DeviceCode | HttpResponse:
        """The pending device code for ``raw``, or the page explaining why there is none."""
        guard = device.ActivationThrottle(
            str(request.user.pk), str(oauth_settings.CLIENT_IP_FUNCTION(request))
        )
        try:
            guard.begin()
            code = device.normalize_user_code(raw)
            found = device.find_pending(code) if code else None
            if found is not None:
                guard.found()
        except Exception as exc:
            return self.failure(request, exc)
        if found is None:
            return self.page(request, "enter", status=400, error=self.WRONG, user_code=raw)
        return found

    def failure(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        error = to_oauth_error(exc)
        if error is None:
            raise exc
        message = self.TOO_MANY if isinstance(error, TooManyAttempts) else self.UNAVAILABLE
        return self.page(request, "enter", status=error.status_code, error=message)

    @staticmethod
    def auth_time(request: HttpRequest) -> datetime:
        """When this browser session signed in (OIDC Core §2 ``auth_time``)."""
        return datetime.fromtimestamp(login.auth_time(request), tz=UTC)

    def page(
        self, request: HttpRequest, step: str, status: int = 200, **context: Any
    ) -> HttpResponse:
        response = render(request, self.template_name, {"step": step, **context}, status=status)
        return self.secure(response)

    @staticmethod
    def secure(response: HttpResponse) -> HttpResponse:
        response["Cache-Control"] = "no-store"
        response["X-Frame-Options"] = "DENY"
        response["Content-Security-Policy"] = CSP
        return response
