"""Resource-server views used by the tests, protected the way a project would protect them."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.authentication import AccessTokenAuthentication
from oauth_token.permissions import HasScope, RequiredScopes

API = "https://api.example.com"


class Protected(APIView):
    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [RequiredScopes]
    token_audience = API
    required_scopes = ["read:things"]

    def get(self, request: Request) -> Response:
        return Response(
            {
                "sub": request.auth.subject,
                "client_id": request.auth.client_id,
                "scope": sorted(request.auth.scopes),
                "user": str(request.user),
                "user_pk": request.user.pk,
                "is_authenticated": request.user.is_authenticated,
                "scheme": request.auth.scheme,
            }
        )

    def post(self, request: Request) -> Response:
        return self.get(request)


class PerMethod(Protected):
    required_scopes = {"GET": ["read:things"], "*": ["write:things"]}


class Factory(Protected):
    permission_classes = [HasScope("read:things", "delete:things")]


class CallableAudience(Protected):
    @staticmethod
    def token_audience() -> Any:
        return ["https://other.example.com", API]


class SettingAudience(Protected):
    token_audience = None


urlpatterns = [
    path("", include("oauth_token.urls")),
    path("api/things", Protected.as_view()),
    path("api/per-method", PerMethod.as_view()),
    path("api/factory", Factory.as_view()),
    path("api/callable", CallableAudience.as_view()),
    path("api/setting", SettingAudience.as_view()),
]
