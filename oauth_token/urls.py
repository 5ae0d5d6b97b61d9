from django.urls import path

from oauth_token.views import authorize, discovery, logout
from oauth_token.views.device import ActivateView, DeviceAuthorizationView
from oauth_token.views.health import health
from oauth_token.views.introspect import IntrospectView
from oauth_token.views.par import PushedAuthorizationView
from oauth_token.views.registration import RegistrationManagementView, RegistrationView
from oauth_token.views.revoke import RevokeView
from oauth_token.views.token import TokenView
from oauth_token.views.userinfo import UserInfoView

app_name = "oauth_token"

urlpatterns = [
    # First: the hot path, so resolving it tries no other pattern.
    path("oauth/token", TokenView.as_view(), name="token"),
    path(".well-known/openid-configuration", discovery.configuration, name="openid_configuration"),
    path(".well-known/oauth-authorization-server", discovery.configuration, name="oauth_metadata"),
    path(".well-known/jwks.json", discovery.jwks, name="jwks"),
    path("authorize", authorize.authorize, name="authorize"),
    path("authorize/decision", authorize.decide, name="authorize_decision"),
    path("authorize/form_post.js", authorize.form_post_script, name="authorize_form_post_js"),
    path("oidc/logout", logout.end_session, name="end_session"),
    path("oidc/logout/confirm", logout.confirm, name="end_session_confirm"),
    path("userinfo", UserInfoView.as_view(), name="userinfo"),
    path("oauth/device/code", DeviceAuthorizationView.as_view(), name="device_code"),
    path("activate", ActivateView.as_view(), name="activate"),
    path("oauth/par", PushedAuthorizationView.as_view(), name="par"),
    path("oauth/revoke", RevokeView.as_view(), name="revoke"),
    path("oauth/introspect", IntrospectView.as_view(), name="introspect"),
    path("oauth/health", health, name="health"),
    path("oauth/register", RegistrationView.as_view(), name="register"),
    path(
        "oauth/register/<str:client_id>",
        RegistrationManagementView.as_view(),
        name="register_client",
    ),
]
