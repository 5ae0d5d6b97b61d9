"""Helpers for the authorization-code flow: PKCE pairs, /authorize URLs, parsed redirects."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CALLBACK = "https://app.example.com/callback"
OTHER_CALLBACK = "https://app.example.com/other"
API = "https://api.example.com"
ISSUER = "https://auth.example.test/"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(**params: Any) -> str:
    return "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def assert_redirect_params(response: Any) -> dict[str, str]:
    """The query of a redirect to the client, one value per name (asserting there is one)."""
    assert response.status_code == 302, (response.status_code, response.content[:500])
    query = parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in query.values()), query
    return {k: v[0] for k, v in query.items()}


def redirect_base(response: Any) -> str:
    parts = urlsplit(response["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def oauth_settings_with(**extra: Any) -> dict[str, Any]:
    """The test OAUTH_TOKEN settings with some keys changed, for override_settings."""
    from django.conf import settings

    return {**settings.OAUTH_TOKEN, **extra}
