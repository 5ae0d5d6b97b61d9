"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592)."""

from __future__ import annotations

from django.db import models


class ClientRegistration(models.Model):
    """How a dynamically registered client manages its registration (RFC 7592 §3).

    Only the SHA-256 of the registration access token is stored; each update replaces it
    (RFC 7592 §2.2 lets the server rotate it), so a leaked old token manages nothing.
    ``metadata`` is the client metadata as registered (RFC 7591 §2), returned on reads.
    """

    client = models.OneToOneField(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="registration"
    )
    access_token_digest = models.CharField(max_length=64, editable=False)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"registration of {self.client_id}"


class InitialAccessToken(models.Model):
    """A one-time token an operator hands out (``oauth_client initial-access-token``) that lets
    one client register itself when ``REGISTRATION`` is ``"token"`` (RFC 7591 §3). Only its
    SHA-256 is stored; registering consumes it with one conditional UPDATE."""

    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    client = models.ForeignKey(
        "oauth_token.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"initial access token {self.pk}"
