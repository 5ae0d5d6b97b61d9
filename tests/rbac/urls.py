"""A resource server protected with Auth0-style RBAC permissions."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.authentication import AccessTokenAuthentication
from oauth_token.permissions import HasPermission

API = "https://api.example.com"


class DeleteThings(APIView):
    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [HasPermission("delete:things")]
    token_audience = API

    def get(self, request: Request) -> Response:
        return Response({"permissions": sorted(request.auth.permissions)})


urlpatterns = [
    path("", include("oauth_token.urls")),
    path("api/delete", DeleteThings.as_view()),
]
