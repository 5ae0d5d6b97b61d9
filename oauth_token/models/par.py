from __future__ import annotations

from django.db import models


class PushedAuthorizationRequest(models.Model):
    """An authorization request pushed to ``/oauth/par`` (RFC 9126 §2).

    The ``request_uri`` handed back is a reference a browser carries to /authorize; only the
    SHA-256 digest of its random part is stored. It is single use (``consumed_at``, set by one
    conditional UPDATE) and short-lived (``expires_at``).
    """

    request_uri_digest = models.CharField(max_length=64, unique=True, editable=False)
    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="pushed_requests"
    )
    parameters = models.JSONField(default=dict, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "pushed authorization request"

    def __str__(self) -> str:
        return f"PAR {self.pk} for {self.client_id}"
