"""Prometheus metrics (OAUTH_TOKEN['METRICS'], the `metrics` extra): a counter per endpoint,
grant type and error code and a latency histogram, read back from the /metrics scrape."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.metrics.urls")]

API = "https://api.example.com"
BASE = {
    "ISSUER": "https://auth.example.test/",
    "KEY_ENCRYPTION_KEY": "test-key-encryption-key-0123456789abcdef",
}
METRICS_ON = override_settings(OAUTH_TOKEN={**BASE, "METRICS": True})


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def count(samples: dict, **labels: str) -> float:
    key = ("oauth_token_requests_total", tuple(sorted(labels.items())))
    return samples.get(key, 0.0)


def test_counters_and_histograms_per_endpoint_grant_and_error(
    client, token_request, m2m_client, signing_keys
):
    m2m, secret = m2m_client
    before = scrape(client)
    ok = {"endpoint": "token", "grant_type": "client_credentials", "error": ""}
    bad = {"endpoint": "token", "grant_type": "client_credentials", "error": "invalid_client"}
    with METRICS_ON:
        for _ in range(2):
            token_request(
                {"grant_type": "client_credentials", "audience": API},
                auth=(m2m.client_id, secret),
            )
        token_request({"grant_type": "client_credentials"}, auth=(m2m.client_id, "wrong"))
        token_request({"grant_type": "magic"}, auth=(m2m.client_id, secret))
        after = scrape(client)
    assert count(after, **ok) - count(before, **ok) == 2
    assert count(after, **bad) - count(before, **bad) == 1
    unsupported = {"endpoint": "token", "grant_type": "", "error": "unsupported_grant_type"}
    assert count(after, **unsupported) - count(before, **unsupported) == 1
    histogram = (
        "oauth_token_request_duration_seconds_count",
        (("endpoint", "token"), ("grant_type", "client_credentials")),
    )
    assert after[histogram] - before.get(histogram, 0.0) == 3


def test_nothing_is_counted_when_metrics_are_off(client, token_request, m2m_client, signing_keys):
    m2m, secret = m2m_client
    labels = {"endpoint": "token", "grant_type": "client_credentials", "error": ""}
    before = count(scrape(client), **labels)
    token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=(m2m.client_id, secret)
    )
    assert count(scrape(client), **labels) == before


def test_metrics_on_needs_prometheus_client(monkeypatch):
    from oauth_token.core import metrics

    monkeypatch.setattr(metrics, "prometheus_client", None)
    with METRICS_ON:
        errors = checks.run_checks(tags=["oauth_token"])
    assert [e.id for e in errors if e.id == "oauth_token.E032"] == ["oauth_token.E032"]
