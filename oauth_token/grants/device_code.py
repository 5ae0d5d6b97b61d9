from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F
from django.utils import timezone

from oauth_token.authorize.device import GRANT_TYPE
from oauth_token.core import secrets
from oauth_token.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    OAuthError,
    SlowDown,
)
from oauth_token.grants.base import BaseGrant
from oauth_token.models import DeviceCode, DeviceCodeStatus
from oauth_token.registry.policies import OIDC_SCOPES
from oauth_token.registry.snapshots import ApiInfo, get_api
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens import claims

SLOW_DOWN_STEP = 5


class DeviceCodeGrant(BaseGrant):
    """RFC 8628 §3.4-3.5: the device polls with its ``device_code`` until the person has
    decided at /activate.

    Order of the answers: unknown or another client's code → ``invalid_grant``; already
    redeemed → ``invalid_grant``; past its lifetime → ``expired_token``; denied →
    ``access_denied``; still pending → ``slow_down`` when polled sooner than ``interval``
    after the previous poll (the interval then grows by 5 s, for this and every later
    request), else ``authorization_pending``; approved → tokens, exactly once.
    """

    grant_type = GRANT_TYPE

    def validate(self, context: TokenContext) -> GrantResult:
        now = timezone.now()
        presented = context.request.require("device_code")
        device = (
            DeviceCode.objects.select_related("user")
            .filter(device_code_digest=secrets.digest(presented))
            .first()
        )
        if device is None or device.client_id != context.client.pk:
            raise InvalidGrant("The device code is invalid.")
        if device.status == DeviceCodeStatus.CONSUMED:
            raise InvalidGrant("The device code has already been used.")
        if device.expires_at <= now:
            raise ExpiredToken("The device code has expired.")
        if device.status == DeviceCodeStatus.DENIED:
            raise AccessDenied("The user denied the authorization request.")
        if device.status == DeviceCodeStatus.PENDING:
            raise self._pending(device, now)
        return self._redeem(device, now)

    @staticmethod
    def _pending(device: DeviceCode, now: datetime) -> OAuthError:
        """The poll is recorded after the request's transaction has rolled back, so the
        grown interval persists although the request was refused (RFC 8628 §3.5)."""
        pk = device.pk
        last = device.last_polled_at
        if last is not None and (now - last).total_seconds() < device.interval:
            new_interval = device.interval + SLOW_DOWN_STEP
            return SlowDown(
                f"Polling too fast; wait at least {new_interval} seconds between requests."
            ).then(lambda: _record_poll(pk, now, slower=True))
        return AuthorizationPending().then(lambda: _record_poll(pk, now, slower=False))

    def _redeem(self, device: DeviceCode, now: datetime) -> GrantResult:
        """One conditional UPDATE: of two concurrent redemptions exactly one changes the row.
        It runs in the token endpoint's transaction, so a failure while issuing leaves the
        code approved rather than consumed without tokens."""
        won = DeviceCode.objects.filter(
            pk=device.pk, status=DeviceCodeStatus.APPROVED, expires_at__gt=now
        ).update(status=DeviceCodeStatus.CONSUMED, consumed_at=now)
        if won != 1:
            raise InvalidGrant("The device code has already been used.")
        user = device.user
        if user is None or not user.is_active:
            raise InvalidGrant("The user who approved the request is no longer active.")
        api = self._api(device.audience)
        return GrantResult(
            subject=claims.subject(user),
            api=api,
            scopes=self._still_valid(tuple(device.scopes), api),
            user=user,
            auth_time=int(device.auth_time.timestamp()) if device.auth_time else None,
        )

    @staticmethod
    def _api(audience: str) -> ApiInfo | None:
        if not audience:
            return None
        api = get_api(audience)
        if api is None:
            raise InvalidGrant("The API this device code was issued for no longer exists.")
        return api

    @staticmethod
    def _still_valid(scopes: tuple[str, ...], api: ApiInfo | None) -> tuple[str, ...]:
        """Scopes removed from the API since the person consented are not issued."""
        allowed = set(OIDC_SCOPES) | set(api.scopes if api else ())
        return tuple(s for s in scopes if s in allowed)


def _record_poll(pk: int, now: datetime, *, slower: bool) -> None:
    changes: dict[str, Any] = {"last_polled_at": now}
    if slower:
        changes["interval"] = F("interval") + SLOW_DOWN_STEP
    DeviceCode.objects.filter(pk=pk).update(**changes)
