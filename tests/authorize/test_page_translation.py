"""Every string on the pages people see is translatable, and one translation ships (French),
compiled, inside the package."""

from __future__ import annotations

import fnmatch
import gettext
import tomllib
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

import oauth_token

pytestmark = pytest.mark.django_db

PACKAGE = Path(oauth_token.__file__).parent
ROOT = PACKAGE.parent


def test_login_page_in_french(client):
    with translation.override("fr"):
        html = client.get("/accounts/login/").content.decode()
    assert '<html lang="fr"' in html
    for text in ("Se connecter", "Mot de passe"):
        assert text in html
    for english in ("Sign in", "Username", "Password"):
        assert english not in html


def test_lockout_message_in_french(client, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 1}
    get_user_model().objects.create_user("alice", password="pw-alice-123")
    with translation.override("fr"):
        client.post("/accounts/login/", {"username": "alice", "password": "x"})
        response = client.post("/accounts/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_signed_out_page_in_french(client):
    with translation.override("fr"):
        html = client.post("/accounts/logout/").content.decode()
    assert "Vous êtes déconnecté" in html


def test_compiled_translation_is_current():
    po = PACKAGE / "locale/fr/LC_MESSAGES/django.po"
    mo = PACKAGE / "locale/fr/LC_MESSAGES/django.mo"
    assert mo.exists() and mo.stat().st_size > 0
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    assert 'msgstr ""\n\n' not in text.split("\n\n", 1)[1]
    with mo.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    msgids = sum(1 for line in text.splitlines() if line.startswith("msgid "))
    assert len(catalog) == msgids, "django.mo is stale: run msgfmt (or compilemessages)"
    assert catalog["Not you? Sign out"] == "Ce n\u2019est pas vous ? Se d\u00e9connecter"


def test_templates_and_translations_are_package_data():
    """A wheel built from pyproject.toml carries every template and locale file."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["oauth_token"]
    shipped = [
        p.relative_to(PACKAGE).as_posix()
        for p in [*PACKAGE.rglob("templates/**/*.html"), *PACKAGE.rglob("locale/**/*.[mp]o")]
    ]
    assert shipped
    left_out = [f for f in shipped if not any(fnmatch.fnmatchcase(f, g) for g in patterns)]
    assert not left_out, f"not in package-data: {left_out}"
