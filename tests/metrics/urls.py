from django.urls import include, path

from oauth_token.views.metrics import MetricsView

urlpatterns = [
    path("", include("oauth_token.urls")),
    path("metrics", MetricsView.as_view()),
]
