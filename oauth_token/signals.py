"""Public signals: the events of the public contract.

Each is sent after the transaction that caused it commits, so a receiver never sees an event
that was rolled back. Payloads never carry a secret or a token value: a token is named by its
``jti`` (access tokens) or its family's id (refresh tokens), a client by its ``client_id``.
Every signal is sent with ``sender`` = the model class involved and these keyword arguments:

- ``token_issued``: ``client_id``, ``grant_type``, ``subject``, ``audience``, ``scopes``,
  ``jti``, ``refresh_family_id`` (or None), ``request`` (the Django request, or None).
- ``refresh_token_reused``: ``client_id``, ``refresh_family_id``, ``subject``, ``request``.
- ``tokens_revoked``: ``client_id``, ``reason``, ``jtis`` (access tokens denylisted),
  ``refresh_family_ids``.
- ``client_authentication_failed``: ``client_id`` (as presented, or None), ``method``,
  ``reason`` (never the secret), ``request``.
- ``user_locked_out``: ``username``, ``ip``, ``scope`` (``"user"`` or ``"ip"``), ``request``.
- ``consent_granted`` / ``consent_revoked``: ``client_id``, ``user``, ``scopes``, ``request``.
- ``signing_key_rotated``: ``current_kid``, ``next_kid``, ``alg``.
- ``user_logged_out``: ``user``, ``sid``, ``client_ids``, ``request``.
- ``client_registered``: ``client_id``, ``registration`` (``"dynamic"``, ``"command"`` or
  ``"admin"``), ``request``.
"""

from django.dispatch import Signal

token_issued = Signal()
refresh_token_reused = Signal()
tokens_revoked = Signal()
client_authentication_failed = Signal()
user_locked_out = Signal()
consent_granted = Signal()
consent_revoked = Signal()
signing_key_rotated = Signal()
user_logged_out = Signal()
client_registered = Signal()

__all__ = [
    "client_authentication_failed",
    "client_registered",
    "consent_granted",
    "consent_revoked",
    "refresh_token_reused",
    "signing_key_rotated",
    "token_issued",
    "tokens_revoked",
    "user_locked_out",
    "user_logged_out",
]
