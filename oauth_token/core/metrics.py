"""Prometheus metrics for operators (the optional ``metrics`` extra: prometheus-client).

Two families, labelled by endpoint, grant type and RFC 6749 error code (all from fixed sets,
never from raw input, so cardinality stays bounded):

- ``oauth_token_requests_total{endpoint, grant_type, error}``: a counter; ``error`` is empty
  for a success.
- ``oauth_token_request_duration_seconds{endpoint, grant_type}``: a latency histogram.

Recorded by every JSON endpoint (``views.base.OAuthAPIView``) when ``OAUTH_TOKEN['METRICS']``
is on; exposed by ``oauth_token.views.metrics.MetricsView`` (or django-prometheus's own
``/metrics``, which reads the same default registry).
"""

from __future__ import annotations

import os
from typing import Any

from oauth_token.conf import oauth_settings

try:  # optional dependency: pip install django-oauth-token[metrics]
    import prometheus_client
    from prometheus_client import multiprocess
except ImportError:  # pragma: no cover - exercised only without the extra
    prometheus_client = None  # type: ignore[assignment]
    multiprocess = None  # type: ignore[assignment]

# Token endpoint latencies sit between a few milliseconds (cached client_credentials) and a
# second (a password hash on a busy machine).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

_families: dict[str, Any] = {}


def available() -> bool:
    return prometheus_client is not None


def enabled() -> bool:
    return bool(oauth_settings.METRICS) and available()


def _metric(name: str) -> Any:
    """Created once per process, in the default registry (what ``/metrics`` exposes)."""
    if not _families:
        _families["requests"] = prometheus_client.Counter(
            "oauth_token_requests",
            "Requests to oauth_token endpoints, by endpoint, grant type and error code.",
            ["endpoint", "grant_type", "error"],
        )
        _families["duration"] = prometheus_client.Histogram(
            "oauth_token_request_duration_seconds",
            "Time spent answering oauth_token endpoints.",
            ["endpoint", "grant_type"],
            buckets=BUCKETS,
        )
    return _families[name]


def observe(*, endpoint: str, grant_type: str, error: str, seconds: float) -> None:
    """Count one request and its latency; a failure to record is never the request's."""
    if not enabled():
        return
    try:
        _metric("requests").labels(endpoint, grant_type, error).inc()
        _metric("duration").labels(endpoint, grant_type).observe(seconds)
    except Exception:  # noqa: S110 - metrics must never fail a request
        pass


def exposition() -> tuple[bytes, str]:
    """The text exposition of the default registry (multiprocess-aware when
    PROMETHEUS_MULTIPROC_DIR is set, for several gunicorn workers)."""
    registry: Any = prometheus_client.REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST
