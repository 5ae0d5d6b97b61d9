"""Server-generated secrets and their digests.

Client secrets and other bearer artefacts are 256-bit random values, so a single SHA-256 is
enough to store them: a slow KDF only protects low-entropy passwords and would cap the token
endpoint at a few requests per second.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


_ALPHANUMERIC = string.ascii_letters + string.digits


def new_alphanumeric(length: int = 32) -> str:
    """An identifier safe everywhere it is pasted (shells, argparse, URLs): letters and digits
    only, so it never starts with '-' (32 characters ≈ 190 bits, like Auth0's client ids)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_identifier(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    if not stored_digest:
        # Still spend the hash so an unset secret costs the same as a wrong one.
        hmac.compare_digest(digest(secret), "0" * 64)
        return False
    return hmac.compare_digest(digest(secret), stored_digest)
