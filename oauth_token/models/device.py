from __future__ import annotations

from django.conf import settings
from django.db import models


class DeviceCodeStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"


class DeviceCode(models.Model):
    """One device authorization request (RFC 8628 §3.1-3.5).

    The ``device_code`` is a 256-bit bearer secret held by the device, so only its SHA-256
    digest is stored. The ``user_code`` is short enough to type, stored normalised (upper
    case, no dash) so lookup is case- and dash-insensitive. ``interval`` grows by 5 s each time
    the device polls too fast (RFC 8628 §3.5 ``slow_down``) and the new value sticks.
    """

    device_code_digest = models.CharField(max_length=64, unique=True, editable=False)
    user_code = models.CharField(max_length=16, unique=True, editable=False)
    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="device_codes"
    )
    scopes = models.JSONField(default=list, blank=True)
    audience = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=DeviceCodeStatus.choices, default=DeviceCodeStatus.PENDING
    )
    interval = models.PositiveIntegerField(help_text="Seconds the device must wait between polls.")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    auth_time = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.display_user_code} ({self.status})"

    @property
    def display_user_code(self) -> str:
        code = self.user_code
        return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code
