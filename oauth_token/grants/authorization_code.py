from __future__ import annotations

from django.utils import timezone

from oauth_token.authorize import codes, pkce
from oauth_token.errors import InvalidGrant, InvalidRequest, OAuthError
from oauth_token.grants.base import BaseGrant
from oauth_token.models import AuthorizationCode
from oauth_token.registry.snapshots import ApiInfo, get_api
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens import claims


class AuthorizationCodeGrant(BaseGrant):
    """RFC 6749 §4.1.3 with RFC 7636 §4.6: redeem a code issued by /authorize, once.

    Checks in order: the code exists and was never redeemed (a second redemption revokes what
    the first one issued, §4.1.2), it belongs to the authenticated client, it has not expired,
    the redirect_uri equals the one sent to /authorize, the PKCE verifier matches, the DPoP
    proof's key is the one named by ``dpop_jkt`` at /authorize (RFC 9449 §10), the user is
    still active, and a ``resource`` named is one the code was granted for (RFC 8707 §2.2,
    ``invalid_target``). All of that only reads, outside any transaction; issuance signs and
    then consumes the code with one conditional UPDATE that also records what was issued
    (``codes.record_issued``), in the short transaction that stores the refresh token, so of
    concurrent redemptions exactly one wins. Every other refusal is ``invalid_grant``; none
    consumes anything.
    """

    grant_type = "authorization_code"
    writes_after_signing = True

    def validate(self, context: TokenContext) -> GrantResult:
        request = context.request
        row = codes.find(request.require("code"))
        if row is None:
            raise InvalidGrant("The authorization code is invalid.")
        if row.used_at is not None:
            raise self.replayed(row)
        if row.client_id != context.client.pk:
            raise InvalidGrant("The authorization code was issued to another client.")
        if row.expires_at <= timezone.now():
            raise InvalidGrant("The authorization code has expired.")
        self.check_redirect_uri(row, request.get("redirect_uri"), context.client.redirect_uris)
        self.check_verifier(row, request.get("code_verifier"))
        self.check_dpop_binding(row, context)
        if not row.user.is_active:
            raise InvalidGrant("The user is no longer active.")
        granted = tuple(row.resources) or ((row.audience,) if row.audience else ())
        audience = self.granted_resource(granted, row.audience, request.get("resource"))
        api = self.code_api(audience)
        return GrantResult(
            subject=claims.subject(row.user),
            api=api,
            scopes=self.scopes_for_resource(tuple(row.scopes), api, granted),
            user=row.user,
            auth_time=int(row.auth_time.timestamp()),
            nonce=row.nonce or None,
            sid=row.sid or None,
            redeemed_code=row,
            granted_resources=tuple(row.resources),
            granted_scopes=tuple(row.scopes),
        )

    @staticmethod
    def replayed(row: AuthorizationCode) -> OAuthError:
        """§4.1.2: deny, and revoke every token issued from the code once the refused
        request's transaction has rolled back."""
        return codes.replayed(row.pk)

    @staticmethod
    def check_redirect_uri(
        row: AuthorizationCode, sent: str | None, registered: tuple[str, ...]
    ) -> None:
        """§4.1.3: required, and identical, when it was included in the authorization request
        (``registered``: the redeeming client's redirect URIs, the code's own client)."""
        if not row.redirect_uri:
            if sent is not None and sent not in registered:
                raise InvalidGrant("redirect_uri does not match the authorization request.")
            return
        if sent is None:
            raise InvalidRequest("Missing required parameter: redirect_uri.")
        if sent != row.redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request.")

    @staticmethod
    def check_verifier(row: AuthorizationCode, verifier: str | None) -> None:
        """RFC 7636 §4.6; RFC 9700 §2.1.1: a verifier for a code issued without a challenge
        is refused too, so PKCE downgrade attacks fail."""
        if not row.code_challenge:
            if verifier is not None:
                raise InvalidGrant("code_verifier sent for a code issued without PKCE.")
            return
        if verifier is None:
            raise InvalidGrant("code_verifier is required for this authorization code.")
        if not pkce.verify(verifier, row.code_challenge, row.code_challenge_method):
            raise InvalidGrant("code_verifier does not match the code_challenge.")

    @staticmethod
    def check_dpop_binding(row: AuthorizationCode, context: TokenContext) -> None:
        """RFC 9449 §10: a code requested with ``dpop_jkt`` is redeemed only with a proof by
        that key (``context.dpop_jkt`` is the thumbprint of the request's validated proof), so
        a stolen code is useless without the client's private key."""
        if not dpop.proves_binding(row.dpop_jkt, context.dpop_jkt):
            raise InvalidGrant(
                "The authorization code is bound to a DPoP key (dpop_jkt); "
                "send a DPoP proof signed with it."
            )

    @staticmethod
    def code_api(audience: str) -> ApiInfo | None:
        """The API the token is for, one the code was issued for (none: an OpenID
        Connect-only login)."""
        if not audience:
            return None
        api = get_api(audience)
        if api is None:
            raise InvalidGrant("The API of this authorization code no longer exists.")
        return api
