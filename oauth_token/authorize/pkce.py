"""Proof Key for Code Exchange (RFC 7636).

A challenge is checked when /authorize receives it (§4.3, §4.4.1) and the verifier when the
code is redeemed (§4.6). ``plain`` is refused unless PKCE_ALLOW_PLAIN is set, as RFC 9700
§2.1.1 recommends; a challenge without a method means ``plain`` (§4.3).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from oauth_token.conf import oauth_settings
from oauth_token.core import jose
from oauth_token.errors import InvalidRequest

S256 = "S256"
PLAIN = "plain"
# §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def supported_methods() -> list[str]:
    return [S256, PLAIN] if oauth_settings.PKCE_ALLOW_PLAIN else [S256]


def check_challenge(
    challenge: str | None, method: str | None, *, required: bool
) -> tuple[str, str]:
    """(challenge, method) to bind to the code, ("", "") when PKCE is not used; raises
    ``invalid_request`` for a missing, malformed or refused challenge (§4.4.1)."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge.")
        if required:
            raise InvalidRequest("This client must use PKCE: code_challenge is required.")
        return "", ""
    method = method or PLAIN
    if method not in (S256, PLAIN):
        raise InvalidRequest("code_challenge_method must be S256.")
    if method not in supported_methods():
        raise InvalidRequest("The plain code_challenge_method is not allowed; use S256.")
    if not _VERIFIER.fullmatch(challenge) or (method == S256 and len(challenge) != 43):
        raise InvalidRequest("code_challenge is malformed.")
    return challenge, method


def verify(verifier: str | None, challenge: str, method: str) -> bool:
    """§4.6: the verifier transformed by ``method`` equals the stored challenge."""
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        return False
    if method == S256:
        computed = jose.b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    elif method == PLAIN:
        computed = verifier
    else:
        return False
    return hmac.compare_digest(computed.encode("ascii"), challenge.encode("ascii"))
