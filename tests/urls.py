from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("oauth_token.login_urls")),
    path("", include("oauth_token.urls")),
]
