"""Per-client policies stored as JSON on ``Client``: the token-exchange audiences (RFC 8693
§2.1, §5) and the trusted issuers of JWT grants (RFC 7523 §3). Parsing lives beside the models
so that their field validators and the registry that applies the policies share one parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from oauth_token.core import jose


@dataclass(frozen=True)
class ExchangeRule:
    audience: str
    extra_scopes: tuple[str, ...] = ()
    # client_ids of other clients whose access tokens this client may exchange for the
    # audience (its own always qualify).
    sources: tuple[str, ...] = ()


def _parse_exchange_entry(entry: Any) -> ExchangeRule:
    if isinstance(entry, str) and entry:
        return ExchangeRule(entry)
    if not isinstance(entry, dict):
        raise ValueError("exchange_audiences: each entry is an audience string or an object.")
    unknown = set(entry) - {"audience", "extra_scopes", "sources"}
    if unknown:
        raise ValueError(f"exchange_audiences: unknown member(s) {', '.join(sorted(unknown))}.")
    audience, extra = entry.get("audience"), entry.get("extra_scopes", [])
    sources = entry.get("sources", [])
    if not isinstance(audience, str) or not audience:
        raise ValueError("exchange_audiences: each object needs an 'audience' string.")
    if not isinstance(extra, list) or not all(isinstance(s, str) and s for s in extra):
        raise ValueError("exchange_audiences: 'extra_scopes' must be a list of scope names.")
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        raise ValueError("exchange_audiences: 'sources' must be a list of client_ids.")
    return ExchangeRule(audience, tuple(dict.fromkeys(extra)), tuple(dict.fromkeys(sources)))


def parse_exchange_audiences(raw: Any) -> tuple[ExchangeRule, ...]:
    if raw in (None, "", []):
        return ()
    if not isinstance(raw, list):
        raise ValueError("exchange_audiences must be a list.")
    rules = tuple(_parse_exchange_entry(entry) for entry in raw)
    audiences = [r.audience for r in rules]
    if len(audiences) != len(set(audiences)):
        raise ValueError("exchange_audiences: an audience is listed twice.")
    return rules


def validate_exchange_audiences(value: Any) -> None:
    """Model-field validator, so the admin and ``full_clean`` refuse a malformed policy."""
    try:
        parse_exchange_audiences(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


_MEMBERS = frozenset({"issuer", "jwks", "jwks_uri", "audiences", "algorithms", "subject_mapping"})
# How the default EXTERNAL_USER_LOOKUP maps an issuer's ``sub`` to a local user: not at all
# unless the entry says so. "username": ``sub`` is the local username (only for an issuer
# whose subjects are this site's usernames, such as the company's own single sign-on).
SUBJECT_MAPPINGS = ("username",)


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    jwks: dict[str, Any] | None
    jwks_uri: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...]
    subject_mapping: str = ""


def _string_list(entry: dict[str, Any], name: str) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"trusted_issuers: '{name}' must be a list of strings.")
    return tuple(value)


def _parse_issuer_entry(entry: Any) -> TrustedIssuer:
    if not isinstance(entry, dict):
        raise ValueError("trusted_issuers: each entry must be an object.")
    unknown = set(entry) - _MEMBERS
    if unknown:
        raise ValueError(f"trusted_issuers: unknown member(s) {', '.join(sorted(unknown))}.")
    issuer = entry.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("trusted_issuers: each entry needs an 'issuer' string.")
    jwks, jwks_uri = entry.get("jwks"), entry.get("jwks_uri") or ""
    if bool(jwks) == bool(jwks_uri):
        raise ValueError(f"trusted_issuers: {issuer!r} needs exactly one of 'jwks', 'jwks_uri'.")
    if jwks_uri and not (
        isinstance(jwks_uri, str) and jwks_uri.startswith(("https://", "http://"))
    ):
        raise ValueError(f"trusted_issuers: the jwks_uri of {issuer!r} must be an http(s) URL.")
    if jwks is not None:
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
            raise ValueError(f"trusted_issuers: the jwks of {issuer!r} needs a 'keys' list.")
        for jwk in jwks["keys"]:
            try:
                jose.public_key_from_jwk(jwk)
            except jose.JoseError as exc:
                raise ValueError(f"trusted_issuers: {issuer!r}: {exc}") from exc
    algorithms = _string_list(entry, "algorithms") or tuple(sorted(jose.ASYMMETRIC_ALGORITHMS))
    foreign = [a for a in algorithms if a not in jose.ASYMMETRIC_ALGORITHMS]
    if foreign:
        raise ValueError(
            f"trusted_issuers: {issuer!r}: algorithm(s) not allowed: {', '.join(foreign)}."
        )
    mapping = entry.get("subject_mapping", "")
    if mapping not in ("", *SUBJECT_MAPPINGS):
        raise ValueError(
            f"trusted_issuers: {issuer!r}: subject_mapping must be one of "
            f"{', '.join(SUBJECT_MAPPINGS)}."
        )
    return TrustedIssuer(
        issuer=issuer,
        jwks=jwks,
        jwks_uri=jwks_uri,
        audiences=_string_list(entry, "audiences"),
        algorithms=algorithms,
        subject_mapping=mapping,
    )


def parse_trusted_issuers(raw: Any) -> tuple[TrustedIssuer, ...]:
    """The entries of ``Client.trusted_issuers``; ValueError names the first problem."""
    if raw in (None, "", []):
        return ()
    if not isinstance(raw, list):
        raise ValueError("trusted_issuers must be a list of objects.")
    entries = tuple(_parse_issuer_entry(entry) for entry in raw)
    issuers = [e.issuer for e in entries]
    if len(issuers) != len(set(issuers)):
        raise ValueError("trusted_issuers: an issuer is listed twice.")
    return entries


def validate_trusted_issuers(value: Any) -> None:
    """Model-field validator, so the admin and ``full_clean`` refuse a malformed list."""
    try:
        parse_trusted_issuers(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
