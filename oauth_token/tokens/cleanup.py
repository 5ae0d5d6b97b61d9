"""Deleting what has expired, in batches: what ``manage.py oauth_cleanup`` runs.

Expired rows are useless (an expired code, refresh token or denylisted ``jti`` can never be
accepted again) but they slow down the tables every request reads. Each table is one entry of
:data:`TARGETS`: a name and a function giving the queryset of rows expired as of a moment.
Batches keep each DELETE short so that cleanup never holds long locks on a busy PostgreSQL
table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.models import (
    AuditEvent,
    AuthorizationCode,
    Client,
    DeviceCode,
    PushedAuthorizationRequest,
    RefreshFamilyAccessToken,
    RevokedAccessToken,
    SessionParticipant,
)
from oauth_token.tokens.refresh_tokens import dead_families


@dataclass(frozen=True)
class CleanupTarget:
    name: str
    expired: Callable[[datetime], QuerySet]  # rows that have expired as of the given moment


def delete_in_batches(queryset: QuerySet, batch_size: int) -> int:
    """Delete ``queryset`` a batch of primary keys at a time; each batch commits on its own."""
    if batch_size < 1:
        raise ValueError("The batch size must be a positive integer.")
    deleted = 0
    while True:
        pks = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        queryset.model._default_manager.filter(pk__in=pks).delete()
        deleted += len(pks)


def run(batch_size: int = 1000, now: datetime | None = None) -> dict[str, int]:
    """Delete expired rows of every target; returns rows deleted per target."""
    now = now or timezone.now()
    return {t.name: delete_in_batches(t.expired(now), batch_size) for t in TARGETS}


def _dead_authorization_codes(now: datetime) -> QuerySet:
    """An unused code past its lifetime can never be redeemed. A used one is kept while a
    replay of it could still revoke something (RFC 6749 §4.1.2): its access token has not
    expired, or its refresh-token family still exists (deleting a dead family clears the link).
    """
    finished = Q(access_token_expires_at__isnull=True) | Q(access_token_expires_at__lte=now)
    return AuthorizationCode.objects.filter(expires_at__lte=now).filter(
        Q(used_at__isnull=True) | (finished & Q(refresh_family__isnull=True))
    )


def _old_audit_events(now: datetime) -> QuerySet:
    """Audit events older than AUDIT_LOG_RETENTION seconds (0 keeps them forever)."""
    retention = int(oauth_settings.AUDIT_LOG_RETENTION or 0)
    if retention <= 0:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(created_at__lte=now - timedelta(seconds=retention))


def _unused_document_clients(now: datetime) -> QuerySet:
    """Clients made from Client ID Metadata Documents whose document is stale and that nothing
    refers to (no consent, refresh-token family, code, pushed request or session). Anyone can
    make the server create one by naming a document at /authorize; a request naming the URL
    again fetches the document and creates the client afresh. Deactivated ones stay: that is
    how an operator blocks a URL."""
    return Client.objects.filter(
        metadata_document_expires_at__lte=now,
        is_active=True,
        consents__isnull=True,
        refresh_families__isnull=True,
        authorization_codes__isnull=True,
        pushed_requests__isnull=True,
        session_participations__isnull=True,
    )


# Every table with rows that expire, in the order they are cleaned: refresh-token families
# before the access-token records of live families, and codes after families (deleting a dead
# family clears a code's link to it).
TARGETS: tuple[CleanupTarget, ...] = (
    CleanupTarget(
        "revoked_access_tokens", lambda now: RevokedAccessToken.objects.filter(expires_at__lte=now)
    ),
    # RFC 8628: a device code past its lifetime can only ever answer expired_token.
    CleanupTarget("device_codes", lambda now: DeviceCode.objects.filter(expires_at__lte=now)),
    # RFC 9126: a request_uri past its lifetime can never be redeemed (browsers that already
    # redeemed it hold the parameters in their session, not in this row).
    CleanupTarget(
        "pushed_authorization_requests",
        lambda now: PushedAuthorizationRequest.objects.filter(expires_at__lte=now),
    ),
    # Families that can issue nothing more and whose access tokens have all expired.
    CleanupTarget("refresh_token_families", dead_families),
    CleanupTarget(
        "refresh_family_access_tokens",
        lambda now: RefreshFamilyAccessToken.objects.filter(expires_at__lte=now),
    ),
    CleanupTarget("authorization_codes", _dead_authorization_codes),
    # A session older than SESSION_COOKIE_AGE has ended without a logout; nobody can end it
    # any more, so its participants will never be notified.
    CleanupTarget(
        "session_participants",
        lambda now: SessionParticipant.objects.filter(
            created_at__lte=now - timedelta(seconds=int(settings.SESSION_COOKIE_AGE))
        ),
    ),
    CleanupTarget("audit_events", _old_audit_events),
    # After codes and sessions, whose rows would otherwise keep such a client.
    CleanupTarget("unused_metadata_document_clients", _unused_document_clients),
)
