"""``GET/POST /userinfo`` (OIDC Core §5.3).

The access token (``Authorization`` header, RFC 6750 §2.1; DPoP-bound tokens through the
same authentication class) must name this endpoint in ``aud`` (issuance adds it whenever
``openid`` is granted to a person) and carry ``openid``. The claims are those of the ID token
for the token's scopes, from the same CLAIMS_FUNCTION, so the two never disagree. Errors are
RFC 6750 §3: 401 ``invalid_token`` or 403 ``insufficient_scope`` with ``WWW-Authenticate``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.authentication import AccessTokenAuthentication, TokenAuthenticationFailed
from oauth_token.core import endpoints
from oauth_token.errors import InvalidToken
from oauth_token.permissions import RequiredScopes
from oauth_token.tokens import claims, revocation
from oauth_token.tokens.access_tokens import AccessTokenClaims
from oauth_token.tokens.id_tokens import user_claims


def userinfo_audience() -> str:
    return endpoints.url("userinfo")


class UserInfoAuthentication(AccessTokenAuthentication):
    """Our own endpoint always consults the denylist: a token revoked here (RFC 7009, a
    replayed code, a revoked refresh family) must stop reading the person's claims at once."""

    def authenticate(self, request: Request) -> tuple[Any, AccessTokenClaims] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token_claims = result
        if revocation.is_token_revoked(token_claims):
            failed = TokenAuthenticationFailed(
                InvalidToken("The access token has been revoked."), token_claims.scheme
            )
            self._remember(request, failed)
            raise failed
        if token_claims.is_client_token:
            failed = TokenAuthenticationFailed(
                InvalidToken("The access token does not represent a user."), token_claims.scheme
            )
            self._remember(request, failed)
            raise failed
        return user, token_claims


class UserInfoView(APIView):
    authentication_classes = [UserInfoAuthentication]
    permission_classes = [RequiredScopes]
    renderer_classes = [JSONRenderer]
    parser_classes: list[Any] = []
    required_scopes = ["openid"]
    token_audience = staticmethod(userinfo_audience)
    http_method_names = ["get", "post", "options"]

    def get(self, request: Request) -> Response:
        token = request.auth
        assert isinstance(token, AccessTokenClaims)
        body = {
            **user_claims(request.user, tuple(token.scopes)),
            "sub": claims.subject(request.user),
        }
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def post(self, request: Request) -> Response:
        return self.get(request)

    def check_permissions(self, request: Request) -> None:
        if request.method != "OPTIONS":  # a CORS preflight carries no credentials
            super().check_permissions(request)

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        """CORS preflight: browser apps call /userinfo with an Authorization header."""
        response = HttpResponse(status=204)
        response["Allow"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Allow-Headers"] = "Authorization, DPoP"
        response["Access-Control-Max-Age"] = "600"
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Bearer tokens, no cookies: any origin may read the answer (and its challenge)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        return response
