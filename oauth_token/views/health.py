"""``GET /oauth/health``: readiness for load balancers (200 when this process can serve
tokens, 503 otherwise), as JSON naming which dependency failed and nothing else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from oauth_token.registry import health as probes


@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """Database and cache reachable, a current signing key decryptable (README, "Production
    checklist"). Unauthenticated, so it reports fixed words, never errors or key ids."""
    result = probes.check()
    response = JsonResponse(result.as_dict(), status=200 if result.healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
