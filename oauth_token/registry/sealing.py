"""What is sealed under the key-encryption key, and changing that key.

Private signing keys and the secrets of ``client_secret_jwt`` clients (which the server must
hold to verify HMAC assertions, RFC 7523 §2.2 / OIDC Core §9) are stored AES-256-GCM-sealed
under ``KEY_ENCRYPTION_KEY``. A wrong key-encryption key is invisible until something must be
decrypted, so ``manage.py check`` and ``oauth_keys rotate`` ask :func:`inspect` first, and
``oauth_keys reseal`` moves everything from ``OLD_KEY_ENCRYPTION_KEYS`` to the new key.

Reports name values by kid or client_id (public identifiers), never by content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from oauth_token.conf import oauth_settings
from oauth_token.core import jose
from oauth_token.errors import ConfigurationError
from oauth_token.models import Client, SigningKey
from oauth_token.models.keys import PUBLISHED_STATES


def encryption_keys() -> list[str]:
    """Key-encryption keys, newest first. In DEBUG without one, a key derived from SECRET_KEY
    keeps development friction-free; ``manage.py check`` refuses that outside DEBUG."""
    primary = oauth_settings.KEY_ENCRYPTION_KEY
    if not primary:
        if not settings.DEBUG:
            raise ConfigurationError(
                "OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] is required when DEBUG is off."
            )
        primary = f"oauth_token-dev:{settings.SECRET_KEY}"
    return [str(primary), *[str(k) for k in oauth_settings.OLD_KEY_ENCRYPTION_KEYS]]


@dataclass(frozen=True)
class SealedValue:
    """One sealed value: a signing key (``name`` = kid) or a client secret (client_id)."""

    kind: str
    name: str
    state: str = ""

    def __str__(self) -> str:
        if self.kind == "signing key":
            return f"signing key {self.name} ({self.state})"
        return f"client secret of {self.name}"


@dataclass(frozen=True)
class SealingReport:
    undecryptable: tuple[SealedValue, ...]  # no configured key-encryption key opens them
    stale: tuple[SealedValue, ...]  # opened only by one of OLD_KEY_ENCRYPTION_KEYS

    def problem(self) -> str | None:
        """One line for operators when something cannot be decrypted, else None."""
        if not self.undecryptable:
            return None
        names = ", ".join(str(v) for v in self.undecryptable[:3])
        more = len(self.undecryptable) - 3
        return (
            f"OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] cannot decrypt {names}"
            + (f" and {more} more" if more > 0 else "")
            + "; the key-encryption key was changed? Put the previous one in "
            "OLD_KEY_ENCRYPTION_KEYS and run `manage.py oauth_keys reseal`."
        )


def _sealed(
    key_states: tuple[str, ...], for_update: bool = False
) -> Iterator[tuple[SealedValue, str, bytes, SigningKey | Client]]:
    keys = SigningKey.objects.filter(state__in=key_states).order_by("alg", "created_at", "id")
    clients = Client.objects.exclude(secret_sealed="").order_by("pk")
    if for_update:
        keys, clients = keys.select_for_update(), clients.select_for_update()
    for key in keys:
        yield (
            SealedValue("signing key", key.kid, key.state),
            key.private_key_sealed,
            (key.kid.encode()),
            key,
        )
    for client in clients:
        yield (
            SealedValue("client secret", client.client_id),
            client.secret_sealed,
            (client.client_id.encode()),
            client,
        )


def _opens(sealed: str, keks: list[str], aad: bytes) -> bool:
    try:
        jose.unseal(sealed, keks, aad=aad)
    except jose.JoseError:
        return False
    return True


def inspect(key_states: tuple[str, ...] = PUBLISHED_STATES) -> SealingReport:
    """Which sealed values the configured key-encryption keys cannot open, and which only an
    old one opens. Published keys only by default: a revoked key is never decrypted again."""
    keks = encryption_keys()
    undecryptable: list[SealedValue] = []
    stale: list[SealedValue] = []
    for value, sealed, aad, _ in _sealed(key_states):
        if _opens(sealed, keks[:1], aad):
            continue
        (stale if _opens(sealed, keks, aad) else undecryptable).append(value)
    return SealingReport(tuple(undecryptable), tuple(stale))


def require_decryptable() -> None:
    """Refuse to add anything sealed under a key-encryption key that cannot open what is
    already stored: the new value would be unusable by every correctly configured process."""
    problem = inspect().problem()
    if problem:
        raise ConfigurationError(problem)


def reseal() -> list[SealedValue]:
    """Re-encrypt every published signing key and client secret under ``KEY_ENCRYPTION_KEY``
    (decrypting with it or any of ``OLD_KEY_ENCRYPTION_KEYS``), all or nothing. Returns what
    was re-sealed; afterwards the old keys can leave ``OLD_KEY_ENCRYPTION_KEYS``."""
    keks = encryption_keys()
    done: list[SealedValue] = []
    with transaction.atomic():
        rows = list(_sealed(PUBLISHED_STATES, for_update=True))
        undecryptable = tuple(v for v, sealed, aad, _ in rows if not _opens(sealed, keks, aad))
        problem = SealingReport(undecryptable, ()).problem()
        if problem:
            raise ConfigurationError(problem)
        for value, sealed, aad, row in rows:
            if _opens(sealed, keks[:1], aad):
                continue
            fresh = jose.seal(jose.unseal(sealed, keks, aad=aad), keks[0], aad=aad)
            if isinstance(row, SigningKey):
                row.private_key_sealed = fresh
                row.save(update_fields=["private_key_sealed"])
            else:
                row.secret_sealed = fresh
                row.save(update_fields=["secret_sealed"])
            done.append(value)
    return done
