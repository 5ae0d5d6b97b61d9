"""Each public signal is sent at its source, after commit, with the payload documented in
``oauth_token.signals``, never a secret or a token value."""

from __future__ import annotations

import base64
import logging
from typing import Any

import jwt
import pytest
from django.http import HttpRequest
from django.test import override_settings
from django.urls import reverse

from oauth_token import signals
from oauth_token.authorize import consent
from oauth_token.models import Consent
from oauth_token.registry import snapshots
from tests.commands.conftest import run

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
BASE = {
    "ISSUER": "https://auth.example.test/",
    "KEY_ENCRYPTION_KEY": "test-key-encryption-key-0123456789abcdef",
}


def _no_secret(kwargs: dict[str, Any], *secrets_: str) -> None:
    text = repr({k: v for k, v in kwargs.items() if k != "request"})
    for secret in secrets_:
        assert secret not in text


def test_token_issued_after_commit(events, committed, token_request, m2m_client, signing_keys):
    client, secret = m2m_client
    with committed():
        response = token_request(
            {"grant_type": "client_credentials", "audience": API},
            auth=(client.client_id, secret),
            HTTP_USER_AGENT="bench/1.0",
        )
        assert events.named("token_issued") == []  # not before the commit
    body = response.json()
    sent = events.one("token_issued")
    jti = jwt.decode(body["access_token"], options={"verify_signature": False})["jti"]
    assert sent.kwargs["client_id"] == client.client_id
    assert sent.kwargs["grant_type"] == "client_credentials"
    assert sent.kwargs["subject"] == f"{client.client_id}@clients"
    assert sent.kwargs["audience"] == API
    assert sent.kwargs["scopes"] == ["read:things", "write:things"]
    assert sent.kwargs["jti"] == jti
    assert sent.kwargs["refresh_family_id"] is None
    assert isinstance(sent.kwargs["request"], HttpRequest)
    _no_secret(sent.kwargs, body["access_token"], secret)


def test_token_issued_reaches_receivers_connected_and_disconnected_later(
    committed, token_request, m2m_client, signing_keys
):
    """``token_issued`` caches its receivers per sender: a receiver connected after requests
    were served (the cache filled) is called from the next one, after commit; one that was
    disconnected, or a weakly connected one that died, no longer is."""
    client, secret = m2m_client
    form = {"grant_type": "client_credentials", "audience": API}

    def issue() -> None:
        with committed():
            assert token_request(form, auth=(client.client_id, secret)).status_code == 200

    issue()  # the receivers of sender Client are cached now
    seen: list[str] = []

    def late(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs["jti"])

    class Weak:
        def receive(self, sender: Any, **kwargs: Any) -> None:
            seen.append("weak")

    weak = Weak()
    signals.token_issued.connect(late, weak=False, dispatch_uid="test.late")
    signals.token_issued.connect(weak.receive)
    try:
        with committed():
            assert token_request(form, auth=(client.client_id, secret)).status_code == 200
            assert seen == []  # not before the commit
        assert len(seen) == 2 and "weak" in seen
        del weak
        issue()
        assert len(seen) == 3 and seen[-1] != "weak"
    finally:
        signals.token_issued.disconnect(dispatch_uid="test.late")
    issue()
    assert len(seen) == 3


def test_client_authentication_failed(events, committed, token_request, m2m_client):
    client, _ = m2m_client
    with committed():
        response = token_request(
            {"grant_type": "client_credentials"}, auth=(client.client_id, "wrong-secret-value")
        )
    assert response.status_code == 401
    sent = events.one("client_authentication_failed")
    assert sent.kwargs["client_id"] == client.client_id
    assert sent.kwargs["method"] == "client_secret_basic"
    assert sent.kwargs["reason"] == "wrong secret"
    _no_secret(sent.kwargs, "wrong-secret-value")


def test_unknown_client_is_reported_with_the_id_it_claimed(events, committed, token_request):
    with committed():
        token_request(
            {
                "grant_type": "client_credentials",
                "client_id": "ghost",
                "client_secret": "s3cret-value",
            }
        )
    sent = events.one("client_authentication_failed")
    assert (sent.kwargs["client_id"], sent.kwargs["method"]) == ("ghost", "client_secret_post")
    _no_secret(sent.kwargs, "s3cret-value")


@pytest.fixture
def password_flow(token_request, make_client, api, signing_keys, django_user_model):
    api.allow_offline_access = True
    api.save()
    django_user_model.objects.create_user("erin", password="pw-erin")
    client, secret = make_client(name="Legacy", grant_types=["password", "refresh_token"])

    def post(**data: Any) -> Any:
        return token_request(data, auth=(client.client_id, secret))

    post.client = client  # type: ignore[attr-defined]
    return post


def test_refresh_reuse_sends_reused_and_revoked(events, committed, password_flow):
    first = password_flow(
        grant_type="password",
        username="erin",
        password="pw-erin",
        audience=API,
        scope="read:things offline_access",
    ).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert password_flow(**refresh).status_code == 200
    events.clear()
    with committed():
        assert password_flow(**refresh).json()["error"] == "invalid_grant"
    reused = events.one("refresh_token_reused")
    family_id = reused.kwargs["refresh_family_id"]
    assert reused.kwargs["client_id"] == password_flow.client.client_id
    assert reused.kwargs["subject"]
    revoked = events.one("tokens_revoked")
    assert revoked.kwargs["refresh_family_ids"] == [family_id]
    assert revoked.kwargs["reason"] == "reuse"
    assert len(revoked.kwargs["jtis"]) == 2
    _no_secret(reused.kwargs, first["refresh_token"])


def test_revoking_an_access_token(
    events, committed, api_client, token_request, m2m_client, signing_keys
):
    client, secret = m2m_client
    token = token_request(
        {"grant_type": "client_credentials", "audience": API}, auth=(client.client_id, secret)
    ).json()["access_token"]
    auth = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    with committed():
        response = api_client.post(
            "/oauth/revoke",
            f"token={token}",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Basic {auth}",
        )
    assert response.status_code == 200
    sent = events.one("tokens_revoked")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert sent.kwargs == {
        "client_id": client.client_id,
        "reason": "revoked by client",
        "jtis": [jti],
        "refresh_family_ids": [],
    }


def test_user_locked_out(events, committed, password_flow):
    settings_ = {**BASE, "PASSWORD_MAX_FAILURES_PER_USER": 2}
    with override_settings(OAUTH_TOKEN=settings_), committed():
        for _ in range(3):
            response = password_flow(
                grant_type="password", username="erin", password="nope", audience=API
            )
    assert response.status_code == 429
    sent = events.one("user_locked_out")
    assert sent.kwargs["username"] == "erin"
    assert sent.kwargs["scope"] == "user"
    assert sent.kwargs["ip"] == "127.0.0.1"


def test_consent_granted_and_revoked(
    events, committed, make_client, api, admin_client, admin_user, rf
):
    client, _ = make_client(name="Third", grant_types=None, redirect_uris=["https://a.example/cb"])
    info = snapshots.get_client(client.client_id)
    prompt = consent.ConsentPrompt(client=info, api=snapshots.get_api(API), scopes=("read:things",))
    request = rf.get("/authorize")
    with committed():
        consent.remember(admin_user, prompt, request)
    granted = events.one("consent_granted")
    assert granted.kwargs["client_id"] == client.client_id
    assert granted.kwargs["user"] == admin_user
    assert granted.kwargs["scopes"] == ["read:things"]
    row = Consent.objects.get()
    with committed():
        admin_client.post(
            reverse("admin:oauth_token_consent_changelist"),
            {"action": "revoke_consents", "_selected_action": [row.pk], "post": "yes"},
        )
    revoked = events.one("consent_revoked")
    assert revoked.kwargs["client_id"] == client.client_id
    assert revoked.kwargs["user"] == admin_user
    assert revoked.kwargs["scopes"] == ["read:things"]
    assert not Consent.objects.exists()


def test_signing_key_rotated(events, committed):
    with committed():
        doc = run("oauth_keys", "rotate", "--json").json()
    sent = events.one("signing_key_rotated")
    assert sent.kwargs == {
        "current_kid": doc["current"]["kid"],
        "next_kid": doc["next"]["kid"],
        "alg": "RS256",
    }


def test_client_registered_by_command_and_admin(events, committed, admin_client):
    with committed():
        doc = run("oauth_client", "create", "--name", "Cmd", "--json").json()
    sent = events.one("client_registered")
    assert sent.kwargs["client_id"] == doc["client_id"]
    assert sent.kwargs["registration"] == "command"
    _no_secret(sent.kwargs, doc["client_secret"])
    events.clear()
    with committed():
        admin_client.post(
            reverse("admin:oauth_token_client_add"),
            {
                "name": "From admin",
                "client_type": "confidential",
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["client_credentials"],
                "redirect_uris": "",
                "jwks": "",
                "jwks_uri": "",
                "exchange_audiences": "[]",
                "trusted_issuers": "[]",
                "is_active": "on",
                "client_grants-TOTAL_FORMS": "0",
                "client_grants-INITIAL_FORMS": "0",
            },
        )
    assert events.one("client_registered").kwargs["registration"] == "admin"


def test_nothing_is_sent_for_a_rolled_back_request(events, committed, password_flow):
    first = password_flow(
        grant_type="password",
        username="erin",
        password="pw-erin",
        audience=API,
        scope="read:things offline_access",
    ).json()
    events.clear()
    settings_ = {**BASE, "ACCESS_TOKEN_CLAIMS": "tests.claims.hooks.boom"}
    with override_settings(OAUTH_TOKEN=settings_), committed():
        failed = password_flow(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert failed.status_code == 500
    assert events.named("token_issued") == []


def test_a_failing_receiver_never_fails_the_request(
    committed, token_request, m2m_client, signing_keys, caplog
):
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    client, secret = m2m_client
    signals.token_issued.connect(broken, weak=False, dispatch_uid="test.broken")
    try:
        with committed():
            response = token_request(
                {"grant_type": "client_credentials", "audience": API},
                auth=(client.client_id, secret),
            )
    finally:
        signals.token_issued.disconnect(dispatch_uid="test.broken")
    assert response.status_code == 200
    assert any("receiver" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


def test_user_logged_out_reaches_the_log_and_the_audit_log(
    events, committed, admin_user, rf, caplog
):
    """user_logged_out is sent by the logout view (issue 15); its plumbing is the same."""
    request = rf.get("/oidc/logout", HTTP_USER_AGENT="browser/1")
    with (
        override_settings(OAUTH_TOKEN={**BASE, "AUDIT_LOG": True, "AUDIT_LOG_BATCH_SIZE": 1}),
        caplog.at_level(logging.INFO, "oauth_token.events"),
        committed(),
    ):
        signals.send_after_commit(
            signals.user_logged_out,
            None,
            user=admin_user,
            sid="sid-1",
            client_ids=["c1"],
            request=request,
        )
    assert events.one("user_logged_out").kwargs["sid"] == "sid-1"
    from oauth_token.models import AuditEvent

    row = AuditEvent.objects.get(event="user_logged_out")
    assert (row.actor, row.user_agent, row.outcome) == (admin_user.username, "browser/1", "success")
    assert row.details["client_ids"] == ["c1"]
    assert row.details["user"] == {"id": admin_user.pk, "username": admin_user.username}
    assert any(r.name == "oauth_token.events" for r in caplog.records)
