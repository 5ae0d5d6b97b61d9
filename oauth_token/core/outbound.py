"""Every HTTP request this server makes to a URL someone else chose goes through here.

Clients and trusted issuers name URLs (``jwks_uri`` now; client metadata documents and
back-channel logout URIs later), so each fetch is a request an outsider can aim. The rules,
all in this one module so that no caller can forget one:

- **No redirects.** A 3xx is a failure: a redirect to ``http://127.0.0.1:6379/`` must not
  turn a public URL into an internal one.
- **Public addresses only.** The host is resolved once; every address it resolves to must be
  globally routable (no loopback, private, link-local, CGNAT, multicast or reserved range,
  also when wrapped in an IPv4-mapped, 6to4 or NAT64 IPv6 address), and the connection goes to
  the address that was checked, so DNS rebinding cannot swap it afterwards.
  ``OUTBOUND_ALLOW_PRIVATE_ADDRESSES`` lifts this for development and tests.
- **A total deadline** (``OUTBOUND_TIMEOUT`` seconds for connect, TLS, request and the whole
  response), not a per-read timeout: a server trickling one byte a second is cut off at the
  deadline instead of holding a worker for as long as it likes.
- **A size limit** (``OUTBOUND_MAX_BYTES``) on the body, announced or not.
- **One error text.** Whatever went wrong (refused address, connection refused, timeout, TLS,
  status, size, not JSON, wrong shape) the caller sees :class:`OutboundError` with the same
  message, so responses cannot be used as a port scanner; the reason is logged for operators.
- **Failures are remembered** for ``OUTBOUND_FAILURE_CACHE_SECONDS`` per URL (shared cache),
  so a stream of requests naming a dead or slow URL costs one fetch, not one each.

Public API:

- :func:`get_json` — GET a JSON object (e.g. a JWK Set, RFC 7517 §5), with an optional
  shape check; success may be cached by the caller's choice.
- :func:`fetch_json` — the same, with the response's headers, for callers that cache as the
  remote side says (a Client ID Metadata Document); :func:`freshness_lifetime` reads them.
- :func:`post_form` — POST ``application/x-www-form-urlencoded`` (e.g. an OIDC Back-Channel
  Logout 1.0 §2.5 logout token) and return the status code; same guards, no failure caching.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from oauth_token.conf import oauth_settings
from oauth_token.core import cache

logger = logging.getLogger("oauth_token")

GENERIC_MESSAGE = "The remote document could not be retrieved."
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_USER_AGENT = "oauth_token"


class OutboundError(Exception):
    """A remote request failed; ``str()`` is always GENERIC_MESSAGE, safe to show a client."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(GENERIC_MESSAGE)
        self.reason = reason


# --- the deadline, enforced at every socket operation -------------------------------------


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("outbound deadline reached")
    return left


class _PlainSocket(socket.socket):
    """A socket whose every send and receive is bounded by what is left of one deadline."""

    deadline: float = 0.0

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.settimeout(_remaining(self.deadline))
        super().sendall(data, flags)


class _TlsSocket(ssl.SSLSocket):
    deadline: float = 0.0

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.settimeout(_remaining(self.deadline))
        super().sendall(data, flags)


# --- which address to connect to ----------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    family: int
    sockaddr: tuple[Any, ...]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """Whether ``address`` (an IP literal) is globally routable, looking through IPv6 forms
    that carry an IPv4 address (RFC 4291 §2.5.5.2, RFC 3056, RFC 6052)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _resolve(uri: str, deadline: float) -> _Target:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username:
        raise OutboundError("not an http(s) URL without credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundError("bad port") from exc
    _remaining(deadline)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundError("name does not resolve") from exc
    if not infos:
        raise OutboundError("name does not resolve")
    allow_private = bool(oauth_settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES)
    if not allow_private and not all(is_public_address(str(i[4][0])) for i in infos):
        raise OutboundError("address is not public (OUTBOUND_ALLOW_PRIVATE_ADDRESSES is off)")
    family, _, _, _, sockaddr = infos[0]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, port, path, family, sockaddr)


class _Connection(http.client.HTTPConnection):
    """HTTP(S) to an address already checked, under one deadline; TLS verifies the name."""

    def __init__(self, target: _Target, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.scheme == "https" else 80
        self._target = target
        self._deadline = deadline

    def connect(self) -> None:
        raw = _PlainSocket(self._target.family, socket.SOCK_STREAM)
        raw.deadline = self._deadline
        try:
            raw.settimeout(_remaining(self._deadline))
            raw.connect(self._target.sockaddr)
            if self._target.scheme != "https":
                self.sock = raw
                return
            context = ssl.create_default_context(cafile=oauth_settings.OUTBOUND_CA_FILE)
            context.sslsocket_class = _TlsSocket
            raw.settimeout(_remaining(self._deadline))
            tls = context.wrap_socket(raw, server_hostname=self._target.host)
        except BaseException:
            raw.close()
            raise
        assert isinstance(tls, _TlsSocket)
        tls.deadline = self._deadline
        self.sock = tls


# --- requests -----------------------------------------------------------------------------


def _exchange(
    method: str, uri: str, body: bytes | None, headers: Mapping[str, str], max_bytes: int
) -> tuple[int, bytes, dict[str, str]]:
    deadline = time.monotonic() + float(oauth_settings.OUTBOUND_TIMEOUT)
    target = _resolve(uri, deadline)
    connection = _Connection(target, deadline)
    try:
        connection.request(
            method,
            target.path,
            body=body,
            headers={"User-Agent": _USER_AGENT, "Connection": "close", **headers},
        )
        response = connection.getresponse()
        announced = response.getheader("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > max_bytes:
            raise OutboundError("response too large")
        raw = response.read(max_bytes + 1)
    except (OSError, http.client.HTTPException, ssl.SSLError, ValueError) as exc:
        raise OutboundError(type(exc).__name__) from exc
    finally:
        connection.close()
    if len(raw) > max_bytes:
        raise OutboundError("response too large")
    received = {name.lower(): value for name, value in response.getheaders()}
    return response.status, raw, received


def _failure_key(uri: str) -> str:
    return cache.key("outbound-failed", uri)


def _log(reason: str, uri: str) -> None:
    host = urlsplit(uri).hostname or "?"
    logger.warning("oauth_token outbound request to host %s failed: %s", host, reason)


@dataclass(frozen=True)
class RemoteJson:
    """A JSON object fetched by :func:`fetch_json`, with the response's headers (names in
    lower case), e.g. for :func:`freshness_lifetime`."""

    document: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


def get_json(
    uri: str,
    *,
    valid: Callable[[dict[str, Any]], bool] | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """GET ``uri`` and return its body, a JSON object, or raise :class:`OutboundError`.

    Only a ``200`` counts; redirects are failures. ``valid`` (optional) checks the document's
    shape: a document it rejects is a failure like any other, with the same message and the
    same failure caching. The caller decides whether to cache successes (a JWK Set is cached
    by ``core.jwks``)."""
    return fetch_json(uri, valid=valid, max_bytes=max_bytes).document


def fetch_json(
    uri: str,
    *,
    valid: Callable[[dict[str, Any]], bool] | None = None,
    max_bytes: int | None = None,
) -> RemoteJson:
    """:func:`get_json`, returning the response's headers with the document."""
    if cache.get(_failure_key(uri)):
        raise OutboundError(GENERIC_MESSAGE)
    limit = int(max_bytes or oauth_settings.OUTBOUND_MAX_BYTES)
    try:
        status, raw, headers = _exchange("GET", uri, None, {"Accept": "application/json"}, limit)
        if status != 200:
            raise OutboundError(f"status {status}")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise OutboundError("not JSON") from exc
        if not isinstance(document, dict) or (valid is not None and not valid(document)):
            raise OutboundError("unexpected document")
    except OutboundError as exc:
        _log(exc.reason, uri)
        cache.set(_failure_key(uri), True, int(oauth_settings.OUTBOUND_FAILURE_CACHE_SECONDS))
        raise
    return RemoteJson(document, headers)


def freshness_lifetime(headers: Mapping[str, str]) -> int | None:
    """Seconds a response stays fresh by its headers (RFC 9111 §4.2.1, minus ``Age``, §4.2.3):
    ``no-store`` or ``no-cache`` → 0, else ``max-age``, else ``Expires`` minus ``Date`` (an
    unparseable ``Expires`` means already stale, §5.3); None when the headers do not say.
    Header names are in lower case, as :func:`fetch_json` returns them."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0
    age = _seconds(headers.get("age", "")) or 0
    if "max-age" in directives:
        max_age = _seconds(directives["max-age"])
        return 0 if max_age is None else max(0, max_age - age)
    if "expires" not in headers:
        return None
    try:
        expires = parsedate_to_datetime(headers["expires"]).timestamp()
        date = parsedate_to_datetime(headers["date"]).timestamp() if "date" in headers else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0
    return max(0, int(expires - (date if date is not None else time.time())) - age)


def _seconds(value: str) -> int | None:
    """A delta-seconds value (RFC 9111 §1.2.2), or None when it is not one."""
    return int(value) if value.isascii() and value.isdigit() else None


def post_form(uri: str, data: Mapping[str, str], *, max_bytes: int = 16 * 1024) -> int:
    """POST ``data`` form-encoded to ``uri`` under the same guards; returns the status code
    (a 3xx is returned, never followed). The response body is read up to ``max_bytes`` and
    discarded. Raises :class:`OutboundError` when no response arrived in time."""
    body = urlencode(dict(data)).encode("ascii")
    try:
        status, _, _ = _exchange(
            "POST",
            uri,
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
            max_bytes,
        )
    except OutboundError as exc:
        _log(exc.reason, uri)
        raise
    return status
