"""The sign-in page people reach from /authorize and /activate, and the sign-out page.

Django's own ``LoginView`` with two differences that matter to an authorization server:

- every attempt counts against the same per-username and per-address lockout as the password
  grant (:mod:`oauth_token.core.lockout`; RFC 6749 §10.10), so the login page is no side door
  around it: a locked-out username is refused with 429 even with the right password;
- ``login_hint`` (OIDC Core §3.1.2.1), forwarded by /authorize, prefills the username field.

Mount both with one line: ``path("accounts/", include("oauth_token.login_urls"))``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_deny

from oauth_token.conf import oauth_settings
from oauth_token.core.lockout import PasswordThrottle
from oauth_token.errors import OAuthError, TooManyAttempts
from oauth_token.views.base import to_oauth_error

LOCKED_OUT = _("Too many failed sign-in attempts. Wait a few minutes, then try again.")
UNAVAILABLE = _("Signing in is temporarily unavailable. Try again in a moment.")


class LockoutAuthenticationForm(AuthenticationForm):
    """``AuthenticationForm`` guarded by the password lockout: the attempt is counted before
    the password is checked (so a parallel burst cannot slip through), and a success gives the
    counters back exactly as the password grant does."""

    refused: OAuthError | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        request = self.request
        ip = str(oauth_settings.CLIENT_IP_FUNCTION(request)) if request is not None else "unknown"
        throttle = PasswordThrottle(str(username), ip)
        try:
            throttle.begin()
        except Exception as exc:
            self.refused = self._refusal(exc)
            message = LOCKED_OUT if isinstance(self.refused, TooManyAttempts) else UNAVAILABLE
            raise forms.ValidationError(message, code=self.refused.error) from exc
        cleaned = super().clean()
        throttle.succeeded()
        return cleaned

    @staticmethod
    def _refusal(exc: Exception) -> OAuthError:
        error = to_oauth_error(exc)
        if error is None:
            raise exc
        return error


class LoginView(auth_views.LoginView):
    """Sign in (template ``oauth_token/login.html``, fields ``username`` and ``password``).

    A refused attempt answers 429 (locked out) or 503 (the lockout's cache is down) with
    ``Retry-After``, on the same page, so browsers and people both see why."""

    form_class = LockoutAuthenticationForm
    template_name = "oauth_token/login.html"

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        hint = self.request.GET.get("login_hint", "")
        if hint:
            initial["username"] = hint[:150]
        return initial

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        refused = getattr(form, "refused", None)
        if refused is not None:
            response.status_code = refused.status_code
            for name, value in refused.headers.items():
                response[name] = value
        return response

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return xframe_options_deny(super().as_view(**initkwargs))

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST, as Django requires), then ``next`` or the signed-out page
    ``oauth_token/logged_out.html``."""

    template_name = "oauth_token/logged_out.html"
