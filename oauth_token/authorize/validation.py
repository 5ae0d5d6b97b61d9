"""Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3).

Validation has two phases, because the first decides whether errors may be redirected at all
(RFC 6749 §4.1.2.1): an unknown client or a redirect_uri that is not registered is shown to the
person as an error page (``UnsafeRedirect``) and never redirected to. Every later mistake is an
``OAuthError`` that the view sends back to the (now trusted) redirect_uri with ``state`` and
``iss``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.http import HttpRequest, QueryDict

from oauth_token.authorize import par, pkce
from oauth_token.conf import oauth_settings
from oauth_token.errors import (
    InvalidRequest,
    OAuthError,
    RequestNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth_token.registry import policies, resources
from oauth_token.registry.provisioning import UNSAFE_SCHEMES
from oauth_token.registry.snapshots import ApiInfo, ClientInfo, get_client

RESPONSE_MODES = ("query", "form_post")
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
# RFC 7638 SHA-256 thumbprint, base64url without padding (RFC 9449 §10).
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_STATE = 2048


class UnsafeRedirect(Exception):
    """The client or redirect_uri cannot be trusted: show an error page, never redirect."""

    def __init__(self, error: str, description: str):
        self.error = error
        self.description = description
        super().__init__(description)


@dataclass(frozen=True)
class RedirectTarget:
    """Where and how to answer (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode)."""

    redirect_uri: str
    response_mode: str
    state: str | None


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request; ``params`` are the original parameters, kept so the
    request can be resumed after login or consent and validated again."""

    client: ClientInfo
    target: RedirectTarget
    redirect_uri_sent: bool
    api: ApiInfo | None
    scopes: tuple[str, ...]
    nonce: str | None
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    code_challenge: str
    code_challenge_method: str
    dpop_jkt: str | None
    params: Mapping[str, str]
    # Set when the parameters came from a pushed authorization request (RFC 9126 §4).
    request_uri: str | None = None
    # RFC 8707 §2: further APIs named by repeated ``resource`` parameters (``api`` is the first).
    more_apis: tuple[ApiInfo, ...] = ()

    @property
    def audience(self) -> str:
        return self.api.identifier if self.api else ""

    @property
    def apis(self) -> tuple[ApiInfo, ...]:
        return ((self.api,) if self.api else ()) + self.more_apis


def read_params(data: QueryDict) -> tuple[dict[str, str], list[str]]:
    """Parameters with empty values dropped (RFC 6749 §3.1), and the names sent twice."""
    limit = int(oauth_settings.MAX_PARAMETER_LENGTH)
    params: dict[str, str] = {}
    duplicated: list[str] = []
    for name, values in data.lists():
        if name == "resource" and len(values) > 1:
            # RFC 8707 §2: several resources travel together (resources.join).
            values = [resources.join([v for v in values if v])]
        if len(values) > 1:
            duplicated.append(name)
        value = values[0]
        if value != "" and len(value) <= limit:
            params[name] = value
        elif len(value) > limit:
            duplicated.append(name)  # treated as malformed, like a duplicate
    return params, duplicated


def resolve_target(params: Mapping[str, str], duplicated: list[str]) -> RedirectTarget:
    """Phase one: the client and the exact redirect_uri (RFC 6749 §3.1.2.3, §4.1.2.1)."""
    if "client_id" in duplicated or "redirect_uri" in duplicated:
        raise UnsafeRedirect("invalid_request", "client_id or redirect_uri was sent twice.")
    client_id = params.get("client_id")
    if not client_id:
        raise UnsafeRedirect("invalid_request", "The client_id parameter is missing.")
    client = get_client(client_id)
    if client is None:
        raise UnsafeRedirect("invalid_client", "The client is unknown or inactive.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        if len(client.redirect_uris) != 1:
            raise UnsafeRedirect("invalid_request", "The redirect_uri parameter is missing.")
        redirect_uri = client.redirect_uris[0]
    elif redirect_uri not in client.redirect_uris:
        raise UnsafeRedirect(
            "invalid_request", "The redirect_uri is not registered for this client."
        )
    if urlsplit(redirect_uri).scheme.lower() in UNSAFE_SCHEMES:
        raise UnsafeRedirect("invalid_request", "The registered redirect_uri is not usable.")
    state = params.get("state")
    mode = params.get("response_mode") or "query"
    if mode not in RESPONSE_MODES or "response_mode" in duplicated:
        mode = "query"
    return RedirectTarget(redirect_uri, mode, state)


def validate(
    params: Mapping[str, str],
    duplicated: list[str],
    target: RedirectTarget,
    request_uri: str | None = None,
    *,
    pushing: bool = False,
) -> AuthorizationRequest:
    """Phase two, in the order of RFC 6749 §4.1.1 and OIDC Core §3.1.2.2; raises OAuthError.
    ``request_uri`` names the pushed request the parameters came from, if any; ``pushing``
    says the parameters are being pushed to /oauth/par right now (RFC 9126 §2.1)."""
    client = get_client(params["client_id"])
    assert client is not None
    if duplicated:
        raise InvalidRequest(
            f"Parameter {duplicated[0][:40]!r} was sent more than once or is too long."
        )
    if request_uri is None and not pushing and par.required_for(client):
        raise InvalidRequest("This client must use a pushed authorization request (RFC 9126).")
    if (params.get("response_mode") or "query") not in RESPONSE_MODES:
        raise InvalidRequest("response_mode must be query or form_post.")
    if target.state is not None and len(target.state) > _MAX_STATE:
        raise InvalidRequest("state is too long.")
    reject_request_objects(params, pushing)
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("The response_type parameter is missing.")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")
    if not client.allows_grant("authorization_code"):
        raise UnauthorizedClient("The client may not use the authorization code flow.")
    apis = policies.resolve_apis(params.get("audience"), params.get("resource"))
    scopes = policies.grantable_scopes_across((params.get("scope") or "").split(), client, apis)
    prompt = parse_prompt(params.get("prompt"))
    max_age = parse_max_age(params.get("max_age"))
    challenge, method = pkce.check_challenge(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        required=client.is_public or bool(oauth_settings.PKCE_REQUIRED),
    )
    return AuthorizationRequest(
        client=client,
        target=target,
        redirect_uri_sent="redirect_uri" in params,
        api=apis[0] if apis else None,
        more_apis=apis[1:],
        scopes=scopes,
        nonce=params.get("nonce"),
        prompt=prompt,
        max_age=max_age,
        login_hint=params.get("login_hint"),
        code_challenge=challenge,
        code_challenge_method=method,
        dpop_jkt=parse_dpop_jkt(params.get("dpop_jkt")),
        params=dict(params),
        request_uri=request_uri,
    )


def reject_request_objects(params: Mapping[str, str], pushing: bool = False) -> None:
    """OIDC Core §6: request objects are not supported (pushed requests replace them, and a
    ``request_uri`` is resolved before validation, see ``pushed_params``). At /oauth/par the
    answer is a token-endpoint style ``invalid_request`` (RFC 9126 §2.3)."""
    if "request" in params:
        if pushing:
            raise InvalidRequest("Request objects are not supported.")
        raise RequestNotSupported()


def pushed_params(
    request: HttpRequest, params: dict[str, str], duplicated: list[str]
) -> tuple[dict[str, str], list[str], str | None]:
    """RFC 9126 §4: with ``request_uri``, the pushed parameters replace the ones in the URL
    (only ``client_id`` must be repeated there). Raises UnsafeRedirect when the request_uri is
    unusable: its redirect_uri is unknown, so nothing can be redirected."""
    request_uri = params.get("request_uri")
    if request_uri is None:
        return params, duplicated, None
    if "request_uri" in duplicated or "client_id" in duplicated:
        raise UnsafeRedirect("invalid_request", "client_id or request_uri was sent twice.")
    client_id = params.get("client_id")
    if not client_id:
        raise UnsafeRedirect("invalid_request", "The client_id parameter is missing.")
    try:
        return par.resolve(request, client_id, request_uri), [], request_uri
    except OAuthError as exc:
        raise UnsafeRedirect(exc.error, exc.description) from exc


def parse_prompt(raw: str | None) -> frozenset[str]:
    """OIDC Core §3.1.2.1: space-separated; ``none`` must stand alone."""
    values = frozenset((raw or "").split())
    unknown = values - PROMPTS
    if unknown:
        raise InvalidRequest(f"Unsupported prompt value: {sorted(unknown)[0][:40]}.")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values.")
    if "select_account" in values:
        values = (values - {"select_account"}) | {"login"}
    return values


def parse_max_age(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidRequest("max_age must be a non-negative integer.")
    return int(raw)


def parse_dpop_jkt(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not _JKT.fullmatch(raw):
        raise InvalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint.")
    return raw
