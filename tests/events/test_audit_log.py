"""The default receivers: one structured log line per event on ``oauth_token.events``; with
AUDIT_LOG on, an AuditEvent row (who, what, client, IP, user agent, time, outcome), listed
read-only in the admin, exported as JSON lines, deleted by oauth_cleanup after the retention.
A failed write is logged and never fails the request."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from oauth_token.events import audit
from oauth_token.models import AuditEvent
from tests.commands.conftest import assert_one_line_failure, run

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
BASE = {
    "ISSUER": "https://auth.example.test/",
    "KEY_ENCRYPTION_KEY": "test-key-encryption-key-0123456789abcdef",
}
# Written at once, in the request: the test's transaction sees the rows.
AUDIT_ON = override_settings(OAUTH_TOKEN={**BASE, "AUDIT_LOG": True, "AUDIT_LOG_BATCH_SIZE": 1})


def issue(token_request: Any, m2m_client: Any, secret: str | None = None) -> Any:
    client, real = m2m_client
    return token_request(
        {"grant_type": "client_credentials", "audience": API},
        auth=(client.client_id, secret or real),
        HTTP_USER_AGENT="curl/8.0",
    )


def test_one_structured_log_line_per_event(
    committed, token_request, m2m_client, signing_keys, caplog
):
    with caplog.at_level(logging.INFO, "oauth_token.events"), committed():
        body = issue(token_request, m2m_client).json()
    lines = [r for r in caplog.records if r.name == "oauth_token.events"]
    assert len(lines) == 1
    line = lines[0]
    assert line.getMessage().startswith("oauth_token event token_issued success")
    assert line.oauth_event == "token_issued"
    assert line.oauth_client_id == m2m_client[0].client_id
    assert line.oauth_ip == "127.0.0.1"
    json.dumps(line.oauth_details)  # JSON-serialisable extra
    assert body["access_token"] not in json.dumps(line.oauth_details)
    assert m2m_client[1] not in line.getMessage() + json.dumps(line.oauth_details)


def test_audit_log_is_off_by_default(committed, token_request, m2m_client, signing_keys):
    with committed():
        issue(token_request, m2m_client)
    assert not AuditEvent.objects.exists()


def test_audit_log_stores_who_what_client_ip_agent_time_outcome(
    committed, token_request, m2m_client, signing_keys
):
    client, _ = m2m_client
    before = timezone.now()
    with AUDIT_ON, committed():
        issue(token_request, m2m_client)
        issue(token_request, m2m_client, secret="wrong")
    ok, failed = AuditEvent.objects.order_by("id")
    assert (ok.event, ok.outcome, ok.client_id) == ("token_issued", "success", client.client_id)
    assert ok.actor == f"{client.client_id}@clients"
    assert (ok.ip, ok.user_agent) == ("127.0.0.1", "curl/8.0")
    assert ok.created_at >= before
    assert ok.details["scopes"] == ["read:things", "write:things"]
    assert (failed.event, failed.outcome) == ("client_authentication_failed", "failure")
    assert failed.details["reason"] == "wrong secret"
    assert "wrong" not in json.dumps(failed.details).replace("wrong secret", "")


def test_a_failed_audit_write_is_logged_and_the_request_succeeds(
    committed, token_request, m2m_client, signing_keys, caplog
):
    def refuse_audit_inserts(execute: Any, sql: str, params: Any, many: bool, context: Any):
        if "oauth_token_auditevent" in sql and sql.lstrip().upper().startswith("INSERT"):
            raise DatabaseError("disk full")
        return execute(sql, params, many, context)

    with AUDIT_ON, connection.execute_wrapper(refuse_audit_inserts), committed():
        response = issue(token_request, m2m_client)
    assert response.status_code == 200
    assert not AuditEvent.objects.exists()
    assert any("audit log write failed" in r.getMessage() for r in caplog.records)


def test_buffered_events_are_written_in_bulk_on_flush(
    committed, token_request, m2m_client, signing_keys
):
    """The default: events wait in the process's buffer (here below the batch size, and the
    interval is long) until the writer flushes them in one INSERT."""
    buffered = {**BASE, "AUDIT_LOG": True, "AUDIT_LOG_BATCH_SIZE": 50}
    buffered["AUDIT_LOG_FLUSH_INTERVAL"] = 3600
    with override_settings(OAUTH_TOKEN=buffered), committed():
        for _ in range(3):
            assert issue(token_request, m2m_client).status_code == 200
    assert not AuditEvent.objects.exists()
    assert audit.writer.pending() == 3
    assert audit.writer.flush() == 3
    assert AuditEvent.objects.filter(event="token_issued").count() == 3
    assert audit.writer.pending() == 0


def _event(name: str, age_days: int, client_id: str = "c1", outcome: str = "success") -> Any:
    return AuditEvent.objects.create(
        event=name,
        outcome=outcome,
        client_id=client_id,
        created_at=timezone.now() - timedelta(days=age_days),
        details={"n": age_days},
    )


def test_export_writes_json_lines_oldest_first_with_filters(tmp_path):
    _event("token_issued", 3)
    _event("tokens_revoked", 2, client_id="c2")
    _event("token_issued", 1, client_id="c2")
    out = run("oauth_audit", "export")
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [line["details"]["n"] for line in lines] == [3, 2, 1]
    assert set(lines[0]) == {
        "id",
        "time",
        "event",
        "outcome",
        "actor",
        "client_id",
        "ip",
        "user_agent",
        "details",
    }
    only = run("oauth_audit", "export", "--event", "token_issued", "--client", "c2").out
    assert [json.loads(line)["details"]["n"] for line in only.splitlines()] == [1]
    since = (timezone.now() - timedelta(days=2, hours=1)).isoformat()
    recent = run("oauth_audit", "export", "--since", since, "--json").out.splitlines()
    assert len(recent) == 2
    target = tmp_path / "audit.jsonl"
    result = run("oauth_audit", "export", "--output", str(target))
    assert result.code == 0 and result.out == ""
    assert len(target.read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--since", "yesterday"), "Not an ISO 8601"),
        (("--event", "tea_served"), "Unknown event(s): tea_served"),
        (("--output", "/nonexistent-dir/x.jsonl"), "Cannot write"),
    ],
)
def test_export_bad_input_is_one_line(argv, fragment):
    assert_one_line_failure(run("oauth_audit", "export", *argv), fragment)


def test_cleanup_deletes_events_older_than_the_retention():
    _event("token_issued", 100)
    kept = _event("token_issued", 10)
    with override_settings(OAUTH_TOKEN={**BASE, "AUDIT_LOG_RETENTION": 30 * 86400}):
        doc = run("oauth_cleanup", "--json").json()
    assert doc["deleted"]["audit_events"] == 1
    assert list(AuditEvent.objects.all()) == [kept]


def test_admin_lists_events_read_only_with_filters(admin_client):
    event = _event("client_authentication_failed", 0, outcome="failure")
    url = reverse("admin:oauth_token_auditevent_changelist")
    page = admin_client.get(url, {"outcome": "failure", "event": "client_authentication_failed"})
    assert page.status_code == 200
    assert "client_authentication_failed" in page.content.decode()
    assert admin_client.get(reverse("admin:oauth_token_auditevent_add")).status_code == 403
    change = admin_client.get(reverse("admin:oauth_token_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert 'name="event"' not in change.content.decode()  # read-only: no inputs
    deleted = admin_client.post(
        reverse("admin:oauth_token_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
