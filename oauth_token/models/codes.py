from __future__ import annotations

from django.conf import settings
from django.db import models


class AuthorizationCode(models.Model):
    """An authorization code (RFC 6749 §4.1.2) and everything it is bound to.

    Only the SHA-256 of the 256-bit code is stored. ``used_at`` makes it single use: redemption
    is one conditional UPDATE, so of concurrent redemptions exactly one wins. What was issued
    from it is recorded so that a replay can revoke those tokens (RFC 6749 §4.1.2, RFC 9700
    §4.5).
    """

    code_digest = models.CharField(max_length=64, unique=True, editable=False)
    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="authorization_codes"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The redirect_uri sent to /authorize; empty when the client omitted it (RFC 6749 §4.1.3).
    redirect_uri = models.TextField(blank=True)
    scopes = models.JSONField(default=list, blank=True)
    audience = models.CharField(max_length=255, blank=True)
    # RFC 8707: every API the code was granted for (``audience`` is the first, the default of
    # the token request); empty for codes of one API or none.
    resources = models.JSONField(default=list, blank=True)
    nonce = models.TextField(blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    # RFC 9449 §10: the DPoP key the token request must prove possession of.
    dpop_jkt = models.CharField(max_length=64, null=True, blank=True)
    auth_time = models.DateTimeField()
    # The browser session at this server the code was issued in (OIDC Back-Channel Logout §2.1).
    sid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # What was issued from this code, so a replay can revoke it.
    access_token_jti = models.CharField(max_length=64, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_family = models.ForeignKey(
        "oauth_token.RefreshTokenFamily",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"code for {self.client_id} / user {self.user_id}"
