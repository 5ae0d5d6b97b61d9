from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from oauth_token import signals
from oauth_token.core.rows import Contended
from oauth_token.errors import InvalidGrant, InvalidScope
from oauth_token.grants.base import BaseGrant
from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.registry import policies
from oauth_token.registry.snapshots import ApiInfo, get_api
from oauth_token.signals import send_after_commit
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.context import ContinuedFamily, GrantResult, TokenContext
from oauth_token.tokens import refresh_tokens
from oauth_token.tokens.refresh_tokens import KEEP, REPLAY, ROTATE


class RefreshTokenGrant(BaseGrant):
    """RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2) as Auth0 does it.

    Checks, in order: the token is known; it was issued to this client; the family is
    neither revoked nor past its absolute lifetime; a token already rotated is reuse (→ the
    whole family is revoked, except within the reuse leeway, where the successor is returned
    again); the token is not idle-expired; the DPoP binding holds (RFC 9449 §5); the user is
    still active; the API still allows offline access; a ``resource`` named is one granted
    (RFC 8707 §2.2); scopes the API has dropped since are gone (as for client_credentials);
    ``scope`` only narrows (§6).

    Two paths (``BaseGrant.run``). Usually the token is read without a lock, the tokens are
    signed, and issuance consumes it last with one UPDATE guarded by "still unused, family
    still live" (``refresh_tokens.claim``) in a transaction that holds only the writes. When
    that guard finds the token already used, or the family revoked, the request is decided
    again under lock (``context.locked``): the token and its family are locked by the
    statement that finds them, so concurrent uses serialise and reuse is told from the
    leeway's replay against the winner's committed successor. A token read as already used
    takes the locked path at once.
    """

    grant_type = "refresh_token"
    writes_after_signing = True

    def validate(self, context: TokenContext) -> GrantResult:
        presented = context.request.require("refresh_token")
        locked = context.locked
        token = self.find_token(presented, lock=locked)
        family = token.family
        self.check_client(family, context)
        now = timezone.now()
        self.check_family(family, now)
        if token.used_at is not None:
            if not locked:
                raise Contended("a used refresh token: reuse is decided under lock")
            action = self.reuse(family, token, presented, now, context.request.http)
        else:
            self.check_idle(token, now)
            action = ROTATE if refresh_tokens.rotation_enabled() else KEEP
        self.check_dpop_binding(family, context)
        user = self.check_user(family)
        granted = tuple(family.resources) or ((family.audience,) if family.audience else ())
        api = self.family_api(
            self.granted_resource(granted, family.audience, context.request.get("resource"))
        )
        scopes = self.narrow(
            context.request.scopes(),
            self.scopes_for_resource(policies.still_defined(family.scopes, api), api, granted),
        )
        lifetimes = refresh_tokens.Lifetimes.of(context.client)
        if locked and action != REPLAY:
            action = self.consume(
                family, token, presented, action, now, lifetimes, context.request.http
            )
        return GrantResult(
            subject=family.subject,
            api=api,
            scopes=scopes,
            user=user,
            auth_time=int(family.auth_time.timestamp()) if family.auth_time else None,
            sid=family.sid or None,
            extra_claims=dict(family.extra_claims or {}),
            continued_family=ContinuedFamily(
                family,
                refresh_tokens.continue_family(family, token, presented, action, lifetimes),
                rotated_from=token if action == ROTATE else None,
                lifetimes=lifetimes,
                unclaimed=None if locked else token,
            ),
        )

    # Steps, in the order validate() runs them ---------------------------------------------

    @staticmethod
    def find_token(presented: str, *, lock: bool) -> RefreshToken:
        """The token with its family; with ``lock``, ``SELECT … FOR UPDATE OF`` both: of
        concurrent uses of one token, the first rotates and the others, once it commits, see
        it used (DESIGN: single-use artefacts are consumed under a lock or a conditional
        UPDATE); a revocation of the family waits for a rotation in flight."""
        token = refresh_tokens.find_for_grant(presented, lock=lock)
        if token is None:
            raise InvalidGrant("The refresh token is invalid.")
        return token

    @staticmethod
    def check_client(family: RefreshTokenFamily, context: TokenContext) -> None:
        """RFC 6749 §6: the token must have been issued to the authenticated client."""
        if family.client_id != context.client.pk:
            raise InvalidGrant("The refresh token was not issued to this client.")

    @staticmethod
    def check_family(family: RefreshTokenFamily, now: datetime) -> None:
        if family.is_revoked():
            raise InvalidGrant("The refresh token has been revoked.")
        if family.is_expired(now):
            raise InvalidGrant("The refresh token has expired.")

    @staticmethod
    def reuse(
        family: RefreshTokenFamily,
        token: RefreshToken,
        presented: str,
        now: datetime,
        http: HttpRequest | None = None,
    ) -> str:
        """A rotated token presented again. Within the reuse leeway (counted from its first
        use) the same, still unused successor is returned; otherwise this is the breach RFC
        9700 §4.14.2 describes, and the whole family is revoked once this request's
        transaction has rolled back. Concurrent uses count: without leeway, a client that
        races itself cannot be told apart from an attacker racing it."""
        leeway = refresh_tokens.reuse_leeway()
        if leeway and token.used_at is not None and now - token.used_at <= leeway:
            successor = RefreshToken.objects.filter(parent=token).first()
            if (
                successor is not None
                and successor.used_at is None
                and not successor.is_idle_expired(now)
                and refresh_tokens.recover_successor(token, presented) is not None
            ):
                return REPLAY
        raise InvalidGrant(
            "The refresh token has already been used; all tokens of this grant are revoked."
        ).then(lambda: _revoke_reused(family, http))

    @staticmethod
    def check_idle(token: RefreshToken, now: datetime) -> None:
        if token.is_idle_expired(now):
            raise InvalidGrant("The refresh token has expired after a period of inactivity.")

    @staticmethod
    def check_dpop_binding(family: RefreshTokenFamily, context: TokenContext) -> None:
        """RFC 9449 §5: a family bound to a key is refreshed only with a proof by that key.
        ``context.dpop_jkt`` is the thumbprint of the request's validated proof, if any."""
        if not dpop.proves_binding(family.dpop_jkt, context.dpop_jkt):
            raise InvalidGrant(
                "The refresh token is bound to a DPoP key; send a DPoP proof signed with it."
            )

    @staticmethod
    def check_user(family: RefreshTokenFamily) -> AbstractBaseUser | None:
        user = family.user
        if user is not None and not user.is_active:
            raise InvalidGrant("The user of this refresh token is no longer active.")
        return user

    @staticmethod
    def family_api(audience: str) -> ApiInfo | None:
        """The API of the token (one the family was granted for, RFC 8707 §2.2) as
        configured now: gone, or no longer allowing offline access, ends its usefulness."""
        if not audience:
            return None
        api = get_api(audience)
        if api is None:
            raise InvalidGrant("The API this refresh token was issued for no longer exists.")
        if not api.allow_offline_access:
            raise InvalidGrant("The API this refresh token was issued for no longer allows it.")
        return api

    @staticmethod
    def narrow(requested: tuple[str, ...] | None, granted: tuple[str, ...]) -> tuple[str, ...]:
        """RFC 6749 §6: absent means the scope originally granted; a requested scope may drop
        values but add none. The family (and so the next refresh token) keeps its scope."""
        if requested is None:
            return granted
        extra = [s for s in requested if s not in granted]
        if extra:
            raise InvalidScope(
                f"Scope exceeds what was originally granted: {' '.join(extra)[:200]}."
            )
        if not requested:
            raise InvalidScope("The requested scope is empty.")
        return requested

    def consume(
        self,
        family: RefreshTokenFamily,
        token: RefreshToken,
        presented: str,
        action: str,
        now: datetime,
        lifetimes: refresh_tokens.Lifetimes,
        http: HttpRequest | None = None,
    ) -> str:
        """Rotation: one conditional UPDATE (``WHERE used_at IS NULL``); a request that finds
        it already done lost a race the family lock did not serialise, and is reuse."""
        if action == KEEP:
            RefreshToken.objects.filter(pk=token.pk).update(
                last_used_at=now, idle_expires_at=refresh_tokens.idle_expiry(family, now, lifetimes)
            )
            return KEEP
        claimed = refresh_tokens.CONSUME.run(token.pk, {"used_at": now, "last_used_at": now})
        if claimed == 1:
            return ROTATE
        token.refresh_from_db(fields=["used_at"])
        return self.reuse(family, token, presented, now, http)


def _revoke_reused(family: RefreshTokenFamily, http: HttpRequest | None) -> None:
    """RFC 9700 §4.14.2: the family is revoked, and ``refresh_token_reused`` sent."""
    _revoke(family, "reuse")
    send_after_commit(
        signals.refresh_token_reused,
        RefreshTokenFamily,
        client_id=family.client.client_id,
        refresh_family_id=family.pk,
        subject=family.subject,
        request=http,
    )


def _revoke(family: RefreshTokenFamily, reason: str) -> None:
    refresh_tokens.revoke_family(family, reason)
