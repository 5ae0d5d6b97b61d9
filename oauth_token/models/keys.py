from __future__ import annotations

from django.db import models


class KeyState(models.TextChoices):
    NEXT = "next"
    CURRENT = "current"
    PREVIOUS = "previous"
    REVOKED = "revoked"


PUBLISHED_STATES = (KeyState.NEXT, KeyState.CURRENT, KeyState.PREVIOUS)


class SigningKey(models.Model):
    """A signing key in its rotation ring (one ring per algorithm).

    ``next`` is published before it signs, ``current`` signs, ``previous`` stays published
    until every token it signed has expired, ``revoked`` is withdrawn at once.
    """

    kid = models.CharField(max_length=64, unique=True, editable=False)
    alg = models.CharField(max_length=10, editable=False)
    state = models.CharField(max_length=10, choices=KeyState.choices, db_index=True)
    private_key_sealed = models.TextField(editable=False)
    public_jwk = models.JSONField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kid} ({self.alg}, {self.state})"
