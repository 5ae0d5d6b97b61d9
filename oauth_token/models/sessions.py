"""Which clients took part in a browser session at this server (OIDC Back-Channel Logout 1.0).

A person's browser session has a ``sid`` (stored in the Django session, carried by every ID
token issued in it). A row here says that a client was issued a code in that session, so
that when the session ends each such client can be sent a logout token (§2.5). Rows are
deleted when the session is logged out, and by ``oauth_cleanup`` once no session can be that
old (``SESSION_COOKIE_AGE``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SessionParticipant(models.Model):
    sid = models.CharField(max_length=64, db_index=True)
    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="session_participations"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sid", "client"], name="oauth_token_unique_participant")
        ]

    def __str__(self) -> str:
        return f"client {self.client_id} in session {self.sid[:8]}…"
