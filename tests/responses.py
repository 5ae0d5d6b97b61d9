"""What every token-endpoint response must look like, checked in one place."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, error: str, status: int = 400) -> dict[str, Any]:
    """An RFC 6749 §5.2 error: the status, a JSON object with ``error`` and a human
    ``error_description``, never cached. Returns the body for further checks."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str) and body["error_description"]
    assert set(body) <= {"error", "error_description", "error_uri"}, body
    assert response["Cache-Control"] == "no-store"
    return body


def assert_invalid_client(response: Any, scheme: str | None = None) -> dict[str, Any]:
    """RFC 6749 §5.2: 401; the challenge names the scheme the client used in its
    Authorization header (``scheme``), and there is none when it authenticated in the body."""
    body = assert_error(response, "invalid_client", 401)
    challenge = response.get("WWW-Authenticate", "")
    if scheme:
        assert challenge.split(" ", 1)[0] == scheme, challenge
    else:
        assert not challenge.startswith("Bearer"), challenge
    return body


def assert_token(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    body = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2, body
    assert response["Cache-Control"] == "no-store"
    return body
