"""The first signing key comes with ``migrate`` (DESIGN.md, "Command-line contract"), so a
fresh project serves tokens with no extra step and ``oauth_token.E010`` never blocks the
second ``migrate`` or ``createsuperuser``.

Only a project with no signing key at all gets one: a project whose keys were all revoked
keeps ``E010``, because silently minting a replacement would hide that someone revoked them.
"""

from __future__ import annotations

import sys
from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections, router

from oauth_token.conf import oauth_settings
from oauth_token.errors import ConfigurationError
from oauth_token.models import SigningKey
from oauth_token.registry import keyring, sealing


def _wanted_algorithms() -> list[str]:
    return list(
        dict.fromkeys(
            [oauth_settings.DEFAULT_SIGNING_ALGORITHM, oauth_settings.ID_TOKEN_SIGNING_ALGORITHM]
        )
    )


def _table_ready(using: str, apps: Any) -> bool:
    """After ``migrate oauth_token zero`` the signal still comes, without the table."""
    if apps is not None:
        try:
            apps.get_model("oauth_token", "SigningKey")
        except LookupError:
            return False
    return SigningKey._meta.db_table in connections[using].introspection.table_names()


def _sealing_problem() -> str | None:
    """A key sealed under a key-encryption key that cannot open what is already stored (a
    client_secret_jwt secret) would fail for every correctly configured process."""
    try:
        return sealing.inspect().problem()
    except ConfigurationError as exc:
        return str(exc)


def create_first_keys(
    sender: AppConfig,
    *,
    using: str = DEFAULT_DB_ALIAS,
    verbosity: int = 1,
    stdout: Any = None,
    apps: Any = None,
    **kwargs: Any,
) -> list[keyring.Ring]:
    """``post_migrate`` receiver (sender: this app's config): a current and a next key per
    wanted algorithm when the project has no signing key at all; idempotent."""
    if not oauth_settings.CREATE_SIGNING_KEY_ON_MIGRATE:
        return []
    if router.db_for_write(SigningKey) != using or not _table_ready(using, apps):
        return []
    if SigningKey.objects.exists():
        return []
    problem = _sealing_problem()
    if problem:
        sys.stderr.write(
            f"oauth_token: no signing key was created: {problem} "
            "Fix it, then run `manage.py oauth_keys rotate`.\n"
        )
        return []
    rings = [keyring.rotate(alg) for alg in _wanted_algorithms()]
    if verbosity >= 1:
        out = stdout or sys.stdout
        for ring in rings:
            assert ring.current is not None
            out.write(
                f"oauth_token: created the first {ring.current.alg} signing key "
                f"({ring.current.kid}) and the next one; `oauth_keys rotate` rotates them.\n"
            )
    return rings
