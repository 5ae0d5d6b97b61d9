"""``manage.py check`` reports what would break /authorize before a person meets it."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from oauth_token.checks import check_configuration

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"


def ids(errors) -> list[str]:
    return [e.id for e in errors]


def test_test_settings_pass():
    assert "oauth_token.E070" not in ids(check_configuration())


def test_missing_session_or_auth_middleware_is_an_error():
    without = [m for m in settings.MIDDLEWARE if m not in (SESSION, AUTH)]
    with override_settings(MIDDLEWARE=without):
        errors = [e for e in check_configuration() if e.id == "oauth_token.E070"]
    assert len(errors) == 1
    assert SESSION in errors[0].msg and AUTH in errors[0].msg
