"""The demo resource server: ``GET /api/whoami`` for tokens with audience
https://api.example.com and the ``read:things`` scope."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.authentication import AccessTokenAuthentication
from oauth_token.permissions import RequiredScopes

DEMO_AUDIENCE = "https://api.example.com"


class WhoAmI(APIView):
    """Echoes the verified token: who (``sub``), through which client, with which scopes (and
    RBAC ``permissions`` when the token carries them)."""

    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [RequiredScopes]
    token_audience = DEMO_AUDIENCE
    required_scopes = ["read:things"]

    def get(self, request: Request) -> Response:
        claims = request.auth
        body = {
            "sub": claims["sub"],
            "client_id": claims["client_id"],
            "scope": claims.get("scope", ""),
        }
        if "permissions" in claims:  # an API with RBAC and permissions in the token
            body["permissions"] = claims["permissions"]
        return Response(body)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/home.html")
