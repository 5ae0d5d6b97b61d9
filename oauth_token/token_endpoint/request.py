"""Parsing a token-endpoint request body into one flat, validated parameter map.

RFC 6749 §3.2 and Auth0 both accept form bodies; Auth0 also accepts JSON. A parameter sent
twice is ambiguous and therefore ``invalid_request`` (RFC 6749 §3.1); an empty value counts as
absent. Size limits keep a hostile client from making the server parse megabytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from oauth_token.conf import oauth_settings
from oauth_token.errors import InvalidRequest
from oauth_token.registry import resources

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_MAX_FIELDS = 64
# C0 controls and DEL: never part of a legitimate parameter (NUL truncates C strings, CR/LF
# forge log lines). A regex scans a 1 kB client assertion in a microsecond.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# RFC 8707 §2: ``resource`` may be repeated; its values travel together (resources.join).
REPEATABLE = frozenset({"resource"})


@dataclass(frozen=True)
class TokenRequest:
    params: Mapping[str, str]
    authorization: str | None
    http: HttpRequest = field(repr=False, compare=False)

    def get(self, name: str) -> str | None:
        return self.params.get(name)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None:
            raise InvalidRequest(f"Missing required parameter: {name}.")
        return value

    def scopes(self) -> tuple[str, ...] | None:
        """Requested scopes in order, without duplicates; None when ``scope`` was absent."""
        raw = self.params.get("scope")
        if raw is None:
            return None
        return tuple(dict.fromkeys(raw.split()))


def media_type(request: HttpRequest) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()


def read_body(request: HttpRequest) -> bytes:
    limit = int(oauth_settings.MAX_BODY_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise InvalidRequest("Invalid Content-Length.") from exc
    if declared > limit:
        raise InvalidRequest("The request body is too large.")
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise InvalidRequest("The request body is too large.") from exc
    if len(body) > limit:
        raise InvalidRequest("The request body is too large.")
    return body


def parse_params(request: HttpRequest) -> dict[str, str]:
    """Form or JSON body → {name: value}; refuses other content types, duplicates, oversize
    values and control characters."""
    kind = media_type(request)
    if kind not in (FORM, JSON):
        raise InvalidRequest(f"Content-Type must be {FORM} or {JSON}.")
    body = read_body(request)
    form = kind == FORM
    pairs = _form_pairs(body) if form else _json_pairs(body)
    params: dict[str, str] = {}
    seen: set[str] = set()
    repeated: dict[str, list[str]] = {}
    limit = int(oauth_settings.MAX_PARAMETER_LENGTH)
    for name, value in pairs:
        if name in REPEATABLE:
            repeated.setdefault(name, []).append(value)
        elif name in seen:
            raise InvalidRequest(f"Parameter {_safe(name)} was sent more than once.")
        seen.add(name)
        if len(name) > 128 or not name.isprintable():
            raise InvalidRequest("Invalid parameter name.")
        if len(value) > limit:
            raise InvalidRequest(f"Parameter {_safe(name)} is too long.")
        if _CONTROL.search(value):
            raise InvalidRequest(f"Parameter {_safe(name)} contains control characters.")
        # A form's names and values come out of strict UTF-8 decoding (``_form_pairs``), which
        # never yields a lone surrogate; only JSON escapes can.
        if not form and (not _encodable(name) or not _encodable(value)):
            raise InvalidRequest(f"Parameter {_safe(name)} is not valid Unicode.")
        if value != "" and name not in REPEATABLE:
            params[name] = value
    for name, values in repeated.items():
        if any(values):
            params[name] = resources.join([v for v in values if v])
    return params


def _encodable(value: str) -> bool:
    """JSON escapes can smuggle lone surrogates (``"\\ud800"``) that no database can store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _safe(name: str) -> str:
    return repr(name[:40]) if name.isprintable() else "(unprintable)"


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The request body is not valid UTF-8.") from exc
    if text.count("&") >= _MAX_FIELDS:
        raise InvalidRequest("Too many parameters.")
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("The request body is not valid UTF-8 form data.") from exc


class _Members(list[tuple[str, Any]]):
    """A decoded JSON object's members, distinguishable from a decoded JSON array."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> _Members:
    names = [n for n, _ in pairs]
    if len(names) != len(set(names)):
        dup = next(n for n in names if names.count(n) > 1)
        raise InvalidRequest(f"Parameter {_safe(dup)} was sent more than once.")
    return _Members(pairs)


def _json_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        pairs = json.loads(body.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except InvalidRequest:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidRequest("The request body is not valid JSON.") from exc
    if not isinstance(pairs, _Members):
        raise InvalidRequest("The JSON body must be an object.")
    if len(pairs) > _MAX_FIELDS:
        raise InvalidRequest("Too many parameters.")
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"Parameter {_safe(name)} must be a string.")
        out.append((name, value))
    return out


def parse_token_request(request: HttpRequest) -> TokenRequest:
    return TokenRequest(
        params=parse_params(request),
        authorization=request.META.get("HTTP_AUTHORIZATION"),
        http=request,
    )
