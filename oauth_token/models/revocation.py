from __future__ import annotations

from django.db import models

from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH


class RevokedAccessToken(models.Model):
    """Denylist of access-token ``jti`` values (RFC 7009, code replay, refresh reuse).

    JWT access tokens cannot be recalled, so revocation is a list that introspection and
    (when configured) resource servers consult; a row is useless after ``expires_at`` and
    ``oauth_cleanup`` deletes it.
    """

    jti = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.jti
