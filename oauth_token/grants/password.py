from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib.auth import authenticate

from oauth_token.core.lockout import PasswordThrottle
from oauth_token.errors import InvalidGrant
from oauth_token.grants.base import BaseGrant
from oauth_token.registry import policies
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens.claims import subject

logger = logging.getLogger("oauth_token")

WRONG_CREDENTIALS = "Wrong email or password."


class PasswordGrant(BaseGrant):
    """RFC 6749 §4.3, as Auth0's Resource Owner Password grant: the client sends the user's
    ``username`` and ``password`` (plus ``audience`` and ``scope``), checked by Django's
    ``authenticate()``.

    Guarded by :mod:`oauth_token.core.lockout` (RFC 6749 §10.10 asks the server to protect this
    endpoint against brute force). A wrong password and an unknown username give the same
    error, and Django's ModelBackend runs the password hasher for unknown usernames too, so
    neither the answer nor its timing tells which accounts exist."""

    grant_type = "password"
    writes_after_signing = True

    def validate(self, context: TokenContext) -> GrantResult:
        request = context.request
        username = request.require("username")
        password = request.require("password")
        api = self.resolve_api(self.target(request), required=False)
        scopes = policies.grantable_scopes(request.scopes(), context.client, api)
        throttle = PasswordThrottle.for_request(request.http, username)
        throttle.begin()
        user = self._authenticate(request.http, username, password)
        if user is None:
            raise InvalidGrant(WRONG_CREDENTIALS)
        if not user.is_active:
            raise InvalidGrant("The user account is blocked.")
        throttle.succeeded()
        return GrantResult(
            subject=subject(user), api=api, scopes=scopes, user=user, auth_time=int(time.time())
        )

    @staticmethod
    def _authenticate(http: Any, username: str, password: str) -> Any:
        """``authenticate()`` returns None for inactive users with the default backend; a
        backend that returns them (AllowAllUsersModelBackend) gets the precise error."""
        return authenticate(http, username=username, password=password)
