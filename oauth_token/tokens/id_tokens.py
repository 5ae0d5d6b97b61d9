"""ID tokens (OIDC Core §2, §3.1.3.6, §5.4).

Issued next to the access token whenever ``openid`` was granted to a person: signed with the
current key of ID_TOKEN_SIGNING_ALGORITHM (its ``kid`` in the header), addressed to the client
(``aud`` = ``azp`` = client_id), carrying ``auth_time``, the ``nonce`` of the authorization
request, ``at_hash`` of the access token, and the user's claims for the granted scopes from the
CLAIMS_FUNCTION setting.
"""

from __future__ import annotations

import time
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose
from oauth_token.registry import keyring
from oauth_token.tokens import claims, claims_hooks
from oauth_token.tokens.claims_hooks import ClaimsContext

# Registered claims a claims function may not override.
PROTECTED = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid"}
)


def user_claims(user: Any, scopes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Claims of ``user`` for ``scopes`` from the configured function, without the registered
    claims it must not change (OIDC Core §5.4)."""
    values = oauth_settings.CLAIMS_FUNCTION(user, tuple(scopes))
    return {k: v for k, v in dict(values or {}).items() if k not in PROTECTED}


def mint(
    user: Any,
    *,
    client_id: str,
    scopes: tuple[str, ...],
    access_token: str,
    auth_time: int | None,
    nonce: str | None,
    sid: str | None = None,
    context: ClaimsContext | None = None,
) -> str:
    """A signed ID token for ``user``: ``aud`` = ``azp`` = the client, ``at_hash`` of the
    access token issued with it (OIDC Core §3.1.3.6), ``sid`` of the browser session it was
    issued in (OIDC Back-Channel Logout §2.1), then the user's claims by scope."""
    alg = str(oauth_settings.ID_TOKEN_SIGNING_ALGORITHM)
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": endpoints.issuer(),
        "sub": claims.subject(user),
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + int(oauth_settings.ID_TOKEN_LIFETIME),
        "at_hash": jose.token_hash(access_token, alg),
    }
    if auth_time is not None:
        payload["auth_time"] = int(auth_time)
    if nonce:
        payload["nonce"] = nonce
    if sid:
        payload["sid"] = sid
    payload.update(user_claims(user, scopes))
    if context is not None:
        payload.update(claims_hooks.id_token_claims(payload, context))
    return keyring.sign(payload, alg=alg, typ="JWT")
