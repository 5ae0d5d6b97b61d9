"""ID tokens (OIDC Core §2, §3.1.3.6, §5.4).

Issued next to the access token whenever ``openid`` was granted to a person: signed with the
current key of ID_TOKEN_SIGNING_ALGORITHM (its ``kid`` in the header), addressed to the client
(``aud`` = ``azp`` = client_id), carrying ``auth_time``, the ``nonce`` of the authorization
request, ``at_hash`` of the access token, and the user's claims for the granted scopes from the
CLAIMS_FUNCTION setting.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import claims, endpoints, jose, keyring
from .conf import oauth_settings

if TYPE_CHECKING:
    from .grants.base import GrantResult, TokenContext
    from .issuance import IssuedTokens

# Registered claims a claims function may not override.
PROTECTED = frozenset({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp"})


def user_claims(user: Any, scopes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Claims of ``user`` for ``scopes`` from the configured function, without the registered
    claims it must not change (OIDC Core §5.4)."""
    values = oauth_settings.CLAIMS_FUNCTION(user, tuple(scopes))
    return {k: v for k, v in dict(values or {}).items() if k not in PROTECTED}


def build_claims(
    result: GrantResult, client_id: str, access_token: str, alg: str, now: int
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": endpoints.issuer(),
        "sub": claims.subject(result.user),
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + int(oauth_settings.ID_TOKEN_LIFETIME),
        "at_hash": jose.token_hash(access_token, alg),
    }
    if result.auth_time is not None:
        payload["auth_time"] = int(result.auth_time)
    if result.nonce:
        payload["nonce"] = result.nonce
    payload.update(user_claims(result.user, result.scopes))
    return payload


def add_id_token(result: GrantResult, context: TokenContext, issued: IssuedTokens) -> None:
    """Issuance step: sets ``issued.id_token`` only when ``openid`` was granted to a user
    (OIDC Core §3.1.3.3)."""
    if result.user is None or not result.has_scope("openid"):
        return
    alg = str(oauth_settings.ID_TOKEN_SIGNING_ALGORITHM)
    payload = build_claims(
        result, context.client.client_id, issued.access_token.token, alg, int(time.time())
    )
    issued.id_token = keyring.sign(payload, alg=alg, typ="JWT")
