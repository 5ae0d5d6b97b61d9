"""Django admin for oauth_token, one module per concern.

A feature adds its own module here (``admin/refresh_tokens.py``, ``admin/consents.py``, ...)
and imports it below. Shared rules: no secret, digest or private key is ever displayed, except a
client secret on the one page that follows its creation or rotation (``clients.py``).
"""

from oauth_token.admin import (  # noqa: F401
    apis,
    audit,
    clients,
    consents,
    device_codes,
    keys,
    pushed_requests,
    refresh_tokens,
    revocation,
    roles,
)
