"""Logout tokens (OIDC Back-Channel Logout 1.0 §2.4).

A JWT this server signs for one client when a session the client took part in ends: ``typ``
``logout+jwt`` (§2.4, so it can never pass for an ID token), ``iss``, ``aud`` = the client,
``iat``, ``exp`` (short: LOGOUT_TOKEN_LIFETIME), a unique ``jti``, ``sub`` and ``sid``, and the
``events`` member naming the back-channel logout event. It never carries a ``nonce`` (§2.4:
"A nonce Claim MUST NOT be present"), so no code path could accept it as an ID token.

Every logout token names the browser session it ends (``sid``, the value the client's ID
tokens from that session carry), so a client registered with
``backchannel_logout_session_required`` (§2.2: "the RP requires that a sid ... be included")
is always served; discovery says so (``backchannel_logout_session_supported``). A session
without a ``sid`` had no participants (they are recorded under it), so nobody is sent a token
that names no session.
"""

from __future__ import annotations

import time
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, secrets
from oauth_token.registry import keyring

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYPE = "logout+jwt"


def mint(*, client_id: str, subject: str, sid: str, now: int | None = None) -> str:
    """A signed logout token for ``client_id`` about the session ``sid`` of ``subject``,
    signed like ID tokens (the key an RP already trusts for them)."""
    if not sid:
        raise ValueError("A logout token names the session it ends (sid).")
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": endpoints.issuer(),
        "aud": client_id,
        "iat": now,
        "exp": now + int(oauth_settings.LOGOUT_TOKEN_LIFETIME),
        "jti": secrets.new_identifier(16),
        "sub": subject,
        "sid": sid,
        "events": {EVENT: {}},
    }
    return keyring.sign(claims, alg=str(oauth_settings.ID_TOKEN_SIGNING_ALGORITHM), typ=TYPE)
