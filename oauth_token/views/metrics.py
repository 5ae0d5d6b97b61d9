"""``GET /metrics`` for Prometheus (mount it yourself, behind your network's access rules):
the default registry's text exposition, with oauth_token's counters and histograms."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import View

from oauth_token.core import metrics


class MetricsView(View):
    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if not metrics.available():
            return HttpResponse("prometheus-client is not installed.\n", status=501)
        body, content_type = metrics.exposition()
        return HttpResponse(body, content_type=content_type)
