from __future__ import annotations

from django.conf import settings
from django.db import models


class Consent(models.Model):
    """What a person allowed a client: the scopes, per API (empty ``audience`` = OpenID
    Connect scopes only). Remembered so the consent page is shown once (OIDC Core §3.1.2.4);
    deleting the row revokes it, and the next authorization asks again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oauth_consents"
    )
    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="consents"
    )
    audience = models.CharField(max_length=255, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client", "audience"], name="oauth_token_unique_consent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.client.name} ({self.audience or 'openid'})"

    def covers(self, scopes: tuple[str, ...] | list[str]) -> bool:
        return set(scopes) <= set(self.scopes or ())
