"""Sign-in and sign-out pages, mounted with one line:
``path("accounts/", include("oauth_token.login_urls"))`` gives ``/accounts/login/`` (URL name
``login``, where ``LOGIN_URL`` should point) and ``/accounts/logout/`` (``logout``)."""

from django.urls import path

from oauth_token.views.login import LoginView, LogoutView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
