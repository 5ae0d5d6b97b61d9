from demo import views
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("oauth_token.login_urls")),
    path("api/whoami", views.WhoAmI.as_view(), name="whoami"),
    path("", include("oauth_token.urls")),
]
