"""Device authorization (RFC 8628): issuing device and user codes, and a person's decision.

The device holds ``device_code`` (a 256-bit secret, stored as its SHA-256); the person types
``user_code`` at /activate. User codes use 20 consonants that cannot be mistaken for one
another or spell words (RFC 8628 §6.1), eight of them: 20^8 ≈ 2^34.6 values, enough together
with a short lifetime and the /activate throttle (RFC 8628 §5.1). The token endpoint side is
``grants/device_code.py``.
"""

from __future__ import annotations

import secrets as _random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, secrets, throttle
from oauth_token.errors import ServerError
from oauth_token.models import DeviceCode, DeviceCodeStatus
from oauth_token.registry.snapshots import ApiInfo, ClientInfo

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
_THROTTLE = "activate"


def new_user_code() -> str:
    return "".join(_random.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalize_user_code(raw: str | None) -> str | None:
    """The stored form of what a person typed: upper case, without dashes or spaces
    (RFC 8628 §6.1: "case-insensitive", punctuation ignored); None when it cannot be a code."""
    if not raw or len(raw) > 32:
        return None
    code = "".join(c for c in raw.upper() if c not in "- \t")
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


def display_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class DeviceAuthorization:
    """The device authorization response (RFC 8628 §3.2)."""

    device_code: str
    user_code: str
    expires_in: int
    interval: int

    def as_body(self) -> dict[str, Any]:
        verification_uri = endpoints.url("activate")
        shown = display_user_code(self.user_code)
        return {
            "device_code": self.device_code,
            "user_code": shown,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': shown})}",
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


def start(client: ClientInfo, scopes: tuple[str, ...], api: ApiInfo | None) -> DeviceAuthorization:
    """Store a new pending device code (RFC 8628 §3.1-3.2). A user-code collision is retried
    with a fresh code; the unique constraint decides, not a read-then-write."""
    lifetime = int(oauth_settings.DEVICE_CODE_LIFETIME)
    interval = int(oauth_settings.DEVICE_CODE_INTERVAL)
    device_code = secrets.new_secret(32)
    for _ in range(8):
        user_code = new_user_code()
        try:
            with transaction.atomic():
                DeviceCode.objects.create(
                    device_code_digest=secrets.digest(device_code),
                    user_code=user_code,
                    client_id=client.pk,
                    scopes=list(scopes),
                    audience=api.identifier if api else "",
                    interval=interval,
                    expires_at=timezone.now() + timedelta(seconds=lifetime),
                )
        except IntegrityError:
            continue
        return DeviceAuthorization(device_code, user_code, lifetime, interval)
    raise ServerError("Could not allocate a user code.")


# /activate --------------------------------------------------------------------------------


class ActivationThrottle:
    """Wrong user codes per person and per address (RFC 8628 §5.1), on the shared
    fixed-window counter: every lookup is counted first and refused once a new count exceeds
    the limit; a code that was found gives its count back. The per-address limit is higher,
    so one person guessing behind a NAT does not lock out everyone else there. A correct code
    does not reset the count: anyone can obtain a valid code from /oauth/device/code, so
    resetting would let an attacker interleave guesses with it."""

    def __init__(self, user_key: str, ip: str | None):
        window = int(oauth_settings.DEVICE_ACTIVATION_FAILURE_WINDOW)
        self.counters = [
            throttle.Counter(
                _THROTTLE,
                "user",
                user_key,
                int(oauth_settings.DEVICE_ACTIVATION_MAX_FAILURES),
                window,
            )
        ]
        if ip:
            self.counters.append(
                throttle.Counter(
                    _THROTTLE,
                    "ip",
                    ip,
                    int(oauth_settings.DEVICE_ACTIVATION_MAX_FAILURES_PER_IP),
                    window,
                )
            )

    def begin(self) -> None:
        throttle.attempt(self.counters, lambda counter: "Too many wrong codes; try again later.")

    def found(self) -> None:
        throttle.settle(give_back=self.counters)


def find_pending(user_code: str, now: datetime | None = None) -> DeviceCode | None:
    """The pending, unexpired device code with this (normalised) user code."""
    return (
        DeviceCode.objects.select_related("client")
        .filter(
            user_code=user_code,
            status=DeviceCodeStatus.PENDING,
            expires_at__gt=now or timezone.now(),
            client__is_active=True,
        )
        .first()
    )


def approve(device: DeviceCode, user: Any, auth_time: datetime) -> bool:
    """Record the person's consent (RFC 8628 §3.3); False when the code stopped being
    pending (decided elsewhere, or expired) in the meantime."""
    now = timezone.now()
    return _decide(device, now, status=DeviceCodeStatus.APPROVED, user=user, auth_time=auth_time)


def deny(device: DeviceCode, user: Any) -> bool:
    """RFC 8628 §3.5: the device's next poll gets ``access_denied``."""
    return _decide(device, timezone.now(), status=DeviceCodeStatus.DENIED, user=user)


def _decide(device: DeviceCode, now: datetime, **changes: Any) -> bool:
    updated = DeviceCode.objects.filter(
        pk=device.pk, status=DeviceCodeStatus.PENDING, expires_at__gt=now
    ).update(decided_at=now, **changes)
    return updated == 1
