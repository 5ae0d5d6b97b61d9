"""The audit log (``AUDIT_LOG``): one row per event of ``oauth_token.signals``, as Auth0's
tenant logs keep them: who, what, which client, from where, when, and the outcome. Never a
secret or a token value; a token is named by its ``jti`` or its refresh family's id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH


class AuditEvent(models.Model):
    SUCCESS, FAILURE = "success", "failure"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=64, db_index=True, help_text="The signal's name.")
    outcome = models.CharField(
        max_length=16, choices=[(SUCCESS, "success"), (FAILURE, "failure")], db_index=True
    )
    actor = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="The user (or subject) involved."
    )
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, blank=True, db_index=True)
    ip = models.CharField(max_length=64, blank=True, verbose_name="IP address")
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="The event's payload.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit event"
        verbose_name_plural = "audit events"

    def __str__(self) -> str:
        return f"{self.event} {self.outcome} at {self.created_at:%Y-%m-%d %H:%M:%S}"
