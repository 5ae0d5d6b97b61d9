"""Signing-key lifecycle (rotate, revoke, prune) and the cached key set that signs and verifies.

Zero-downtime rotation: a *next* key is published in the JWKS one rotation before it signs, so
resource servers that cache the JWKS already know it; the *current* key signs; *previous*
keys stay published until every token they signed has expired; ``revoke`` withdraws one now.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.core import cache, jose
from oauth_token.errors import ConfigurationError
from oauth_token.models import Api
from oauth_token.models.keys import PUBLISHED_STATES, KeyState, SigningKey
from oauth_token.registry import sealing
from oauth_token.registry.sealing import encryption_keys
from oauth_token.signals import send_after_commit

_private_keys: dict[str, Any] = {}
_private_keys_lock = threading.Lock()


def KEYSET_CACHE_KEY() -> str:
    return cache.key("keyset", "v1")


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    alg: str
    state: str
    jwk: dict[str, Any]
    sealed: str


@dataclass(frozen=True)
class KeySet:
    keys: tuple[PublishedKey, ...]

    def current(self, alg: str) -> PublishedKey | None:
        return next((k for k in self.keys if k.state == KeyState.CURRENT and k.alg == alg), None)

    def get(self, kid: str) -> PublishedKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk for k in self.keys]}


def key_set() -> KeySet:
    """Published keys (next, current, previous), from the shared cache or the database."""
    result: KeySet = cache.memoized(("keyset",), _load_key_set)
    return result


def _load_key_set() -> KeySet:
    cache_key = KEYSET_CACHE_KEY()
    hit = cache.get_copy(cache_key)
    if isinstance(hit, KeySet):
        return hit
    rows = SigningKey.objects.filter(state__in=PUBLISHED_STATES).order_by("created_at", "id")
    value = KeySet(
        tuple(PublishedKey(r.kid, r.alg, r.state, r.public_jwk, r.private_key_sealed) for r in rows)
    )
    cache.set_copy(cache_key, value)
    return value


def _private_key(published: PublishedKey) -> Any:
    """Decrypting and loading a key costs milliseconds, so each process does it once per kid;
    a kid's material never changes, only its state does (and that comes from the key set)."""
    key = _private_keys.get(published.kid)
    if key is None:
        pem = jose.unseal(published.sealed, encryption_keys(), aad=published.kid.encode())
        key = jose.load_private_key(pem)
        with _private_keys_lock:
            _private_keys[published.kid] = key
    return key


def signing_key(alg: str | None = None) -> tuple[str, Any]:
    """(kid, private key) of the current key for ``alg``; a ConfigurationError if none."""
    alg = alg or oauth_settings.DEFAULT_SIGNING_ALGORITHM
    current = key_set().current(alg)
    if current is None:
        raise ConfigurationError(
            f"No current {alg} signing key; run `manage.py oauth_keys rotate`."
        )
    try:
        return current.kid, _private_key(current)
    except jose.JoseError as exc:
        raise ConfigurationError(
            f"Signing key {current.kid} cannot be decrypted with the configured key-encryption key."
        ) from exc


def verification_key(kid: str) -> tuple[str, Any] | None:
    """(alg, public key) of a published key, or None for unknown or revoked kids."""
    published = key_set().get(kid) if isinstance(kid, str) else None
    if published is None:
        return None
    return published.alg, _private_key(published).public_key()


def sign(claims: dict[str, Any], alg: str | None = None, typ: str = "JWT") -> str:
    alg = alg or oauth_settings.DEFAULT_SIGNING_ALGORITHM
    kid, key = signing_key(alg)
    return jose.sign(claims, key, alg, kid=kid, typ=typ)


# --- lifecycle ------------------------------------------------------------------------------


def _create(alg: str, state: str) -> SigningKey:
    private = jose.generate_private_key(alg)
    jwk_without_kid = jose.public_jwk(private, "", alg)
    # RFC 7638 thumbprint; never starting with "-", which a command line would take for an option.
    kid = jose.jwk_thumbprint(jwk_without_kid).lstrip("-")[:32]
    now = timezone.now()
    return SigningKey.objects.create(
        kid=kid,
        alg=alg,
        state=state,
        private_key_sealed=jose.seal(
            jose.private_key_to_pem(private), encryption_keys()[0], aad=kid.encode()
        ),
        public_jwk=jose.public_jwk(private, kid, alg),
        activated_at=now if state == KeyState.CURRENT else None,
    )


@dataclass(frozen=True)
class Ring:
    current: SigningKey | None
    next: SigningKey | None
    previous: tuple[SigningKey, ...]

    def as_dict(self) -> dict[str, Any]:
        def brief(k: SigningKey | None) -> dict[str, str] | None:
            return {"kid": k.kid, "alg": k.alg} if k else None

        return {
            "current": brief(self.current),
            "next": brief(self.next),
            "previous": [brief(k) for k in self.previous],
        }


def ring(alg: str) -> Ring:
    keys = list(SigningKey.objects.filter(alg=alg, state__in=PUBLISHED_STATES))
    return Ring(
        current=next((k for k in keys if k.state == KeyState.CURRENT), None),
        next=next((k for k in keys if k.state == KeyState.NEXT), None),
        previous=tuple(k for k in keys if k.state == KeyState.PREVIOUS),
    )


def rotate(alg: str | None = None) -> Ring:
    """No keys yet: create current and next. Otherwise next → current, current → previous,
    and a new next. Row locks make two concurrent rotations serialize."""
    alg = alg or oauth_settings.DEFAULT_SIGNING_ALGORITHM
    allowed = [a for a in jose.SIGNING_KEY_ALGORITHMS if a in oauth_settings.SIGNING_ALGORITHMS]
    if alg not in allowed:
        raise ValueError(
            f"Algorithm {alg!r} is not allowed; choose one of {', '.join(allowed)} "
            "(OAUTH_TOKEN['SIGNING_ALGORITHMS'])."
        )
    sealing.require_decryptable()
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            SigningKey.objects.select_for_update().filter(
                alg=alg, state__in=(KeyState.NEXT, KeyState.CURRENT)
            )
        )
        current = next((k for k in locked if k.state == KeyState.CURRENT), None)
        upcoming = next((k for k in locked if k.state == KeyState.NEXT), None)
        if current is not None:
            current.state, current.retired_at = KeyState.PREVIOUS, now
            current.save(update_fields=["state", "retired_at"])
        if upcoming is not None:
            upcoming.state, upcoming.activated_at = KeyState.CURRENT, now
            upcoming.save(update_fields=["state", "activated_at"])
        else:
            _create(alg, KeyState.CURRENT)
        _create(alg, KeyState.NEXT)
    rotated = ring(alg)
    send_after_commit(
        signals.signing_key_rotated,
        SigningKey,
        current_kid=rotated.current.kid if rotated.current else None,
        next_kid=rotated.next.kid if rotated.next else None,
        alg=alg,
    )
    return rotated


def revoke(kid: str) -> SigningKey:
    """Withdraw a key from the JWKS at once: tokens it signed stop verifying everywhere."""
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(kid=kid).first()
        if key is None:
            raise LookupError(f"No signing key with kid {kid!r}.")
        if key.state == KeyState.CURRENT:
            raise ValueError(
                f"Key {kid} is the current key; rotate first so that another key signs."
            )
        if key.state != KeyState.REVOKED:
            key.state, key.revoked_at = KeyState.REVOKED, timezone.now()
            key.save(update_fields=["state", "revoked_at"])
    return key


def longest_token_lifetime() -> int:
    """The longest lifetime any signed token can have: a previous key must outlive it."""
    api_max = Api.objects.aggregate(m=Max("access_token_lifetime"))["m"] or 0
    return max(
        int(api_max),
        int(oauth_settings.ACCESS_TOKEN_LIFETIME),
        int(oauth_settings.ID_TOKEN_LIFETIME),
    )


def prune() -> list[SigningKey]:
    """Delete previous keys retired longer ago than any token they signed can live; revoked
    keys stay listed (for audit) for the same period, then go too."""
    cutoff = timezone.now() - timedelta(
        seconds=longest_token_lifetime() + oauth_settings.CLOCK_SKEW
    )
    doomed = list(SigningKey.objects.filter(state=KeyState.PREVIOUS, retired_at__lt=cutoff)) + list(
        SigningKey.objects.filter(state=KeyState.REVOKED, revoked_at__lt=cutoff)
    )
    for key in doomed:
        key.delete()
    return doomed
