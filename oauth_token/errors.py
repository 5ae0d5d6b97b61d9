"""The OAuthError family (RFC 6749 §5.2, RFC 6750 §3.1, RFC 8628 §3.5, RFC 9449 §5, §8).

Each class knows its error code, HTTP status and extra headers; views turn any of them into a
JSON response in one place (``OAuthError.as_body``/``headers``).
"""

from __future__ import annotations

from collections.abc import Callable


class OAuthError(Exception):
    error = "invalid_request"
    status_code = 400
    default_description = "The request is invalid."

    def __init__(self, description: str | None = None, headers: dict[str, str] | None = None):
        self.description = description or self.default_description
        self.extra_headers = dict(headers or {})
        self.after_rollback: list[Callable[[], None]] = []
        super().__init__(self.description)

    def then(self, action: Callable[[], None]) -> OAuthError:
        """Run ``action`` after the request's transaction has rolled back: a refused request
        changes nothing, except deliberate consequences such as revoking the tokens of a
        replayed code (RFC 6749 §4.1.2)."""
        self.after_rollback.append(action)
        return self

    @property
    def headers(self) -> dict[str, str]:
        return self.extra_headers

    def as_body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": rfc6749_text(self.description)}


def rfc6749_text(text: str) -> str:
    """RFC 6749 §5.2: ``error_description`` may hold only %x20-21 / %x23-5B / %x5D-7E.
    Descriptions that quote what a client sent (a parameter name, say) could carry anything,
    so other characters become ``?`` (and ``"`` becomes ``'``) here, in one place."""
    return "".join(
        c if (" " <= c <= "~" and c not in '"\\') else ("'" if c == '"' else "?") for c in text
    )


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """401 (RFC 6749 §5.2). The challenge names the scheme the client used in its
    Authorization header (``Basic``), or ``scheme`` when the server asks for one; a client
    that authenticated in the body (``client_secret_post``, assertions) is sent none: a
    ``Bearer`` challenge would name a scheme that does not authenticate clients at all."""

    error = "invalid_client"
    status_code = 401
    default_description = "Client authentication failed."

    def __init__(self, description: str | None = None, scheme: str | None = "Basic"):
        super().__init__(description)
        if scheme:
            self.extra_headers["WWW-Authenticate"] = (
                f'{scheme} realm="oauth", error="invalid_client"'
            )


class InvalidGrant(OAuthError):
    error = "invalid_grant"
    default_description = "The grant is invalid, expired or revoked."


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"
    default_description = "The client is not allowed to use this grant type."


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    default_description = "The grant type is not supported."


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"
    default_description = "The response type is not supported."


class InvalidScope(OAuthError):
    error = "invalid_scope"
    default_description = "The requested scope is invalid or exceeds what was granted."


class AccessDenied(OAuthError):
    error = "access_denied"
    default_description = "Access denied."


class InvalidRequestUri(OAuthError):
    """RFC 9101 §7.1 / RFC 9126 §4: a ``request_uri`` that is unknown, expired or used."""

    error = "invalid_request_uri"
    default_description = "The request_uri is invalid, expired or already used."


class LoginRequired(OAuthError):
    """OIDC Core §3.1.2.6: ``prompt=none`` but the person must log in."""

    error = "login_required"
    default_description = "The user must log in."


class ConsentRequired(OAuthError):
    """OIDC Core §3.1.2.6: ``prompt=none`` but the person must consent."""

    error = "consent_required"
    default_description = "The user must consent."


class RequestNotSupported(OAuthError):
    """OIDC Core §6: request objects (``request``) are not supported."""

    error = "request_not_supported"
    default_description = "The request parameter is not supported."


class InvalidTarget(OAuthError):
    error = "invalid_target"
    default_description = "The requested audience is invalid."


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2: a client metadata value is invalid or not allowed here."""

    error = "invalid_client_metadata"
    default_description = "The client metadata is invalid."


class InvalidRedirectUri(OAuthError):
    """RFC 7591 §3.2.2: a redirect URI is invalid."""

    error = "invalid_redirect_uri"
    default_description = "A redirect URI is invalid."


class AuthorizationPending(OAuthError):
    error = "authorization_pending"
    status_code = 400
    default_description = "The user has not yet completed authorization."


class SlowDown(OAuthError):
    error = "slow_down"
    default_description = "Polling too fast; slow down."


class ExpiredToken(OAuthError):
    error = "expired_token"
    default_description = "The device code has expired."


class InvalidDPoPProof(OAuthError):
    error = "invalid_dpop_proof"
    default_description = "The DPoP proof is invalid."


class UseDPoPNonce(OAuthError):
    """RFC 9449 §8: the client must retry with the nonce in the ``DPoP-Nonce`` header."""

    error = "use_dpop_nonce"
    default_description = "Authorization server requires nonce in DPoP proof."

    def __init__(self, nonce: str, description: str | None = None):
        super().__init__(description, headers={"DPoP-Nonce": nonce})


class TooManyAttempts(OAuthError):
    error = "too_many_attempts"
    status_code = 429
    default_description = "Too many attempts; try again later."


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status_code = 503
    default_description = "The server is temporarily unavailable; retry later."


class ServerError(OAuthError):
    error = "server_error"
    status_code = 500
    default_description = "The server could not complete the request."


class InvalidToken(OAuthError):
    """RFC 6750 §3.1, for resource servers and /userinfo."""

    error = "invalid_token"
    status_code = 401
    default_description = "The access token is invalid."


class InsufficientScope(OAuthError):
    error = "insufficient_scope"
    status_code = 403
    default_description = "The access token lacks a required scope."


class ConfigurationError(Exception):
    """An operator's mistake detected at run time (missing key, bad setting); never a client's."""
