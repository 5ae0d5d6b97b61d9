"""A project that mounts only the token endpoint and discovery, for discovery tests."""

from django.urls import include, path

from oauth_token.views import discovery
from oauth_token.views.token import TokenView

app_patterns = (
    [
        path(
            ".well-known/openid-configuration", discovery.configuration, name="openid_configuration"
        ),
        path(
            ".well-known/oauth-authorization-server", discovery.configuration, name="oauth_metadata"
        ),
        path(".well-known/jwks.json", discovery.jwks, name="jwks"),
        path("oauth/token", TokenView.as_view(), name="token"),
    ],
    "oauth_token",
)

urlpatterns = [path("", include(app_patterns))]
