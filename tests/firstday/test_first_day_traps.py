"""Issue 13, "first day": each trap a team met on its first day, tried again through the public
surface (``manage.py`` in a subprocess or through its parser, HTTP against the example
project) and now answered as the README says."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.authentication import AccessTokenAuthentication
from oauth_token.core import jose
from oauth_token.models import Api, Client, RevokedAccessToken, SigningKey
from oauth_token.registry import keyring, provisioning
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.fixtures import CALLBACK
from tests.commands.conftest import assert_one_line_failure, run
from tests.example.conftest import credentials, manage, quickstart_server

KEK = "test-key-encryption-key-0123456789abcdef"
NEW_KEK = "a-brand-new-key-encryption-key-after-rotation-0123"
WRONG_KEK = "somebody-typed-the-wrong-key-encryption-key-4567"
ISSUER = "https://auth.example.test/"


def oauth_settings(**extra: object) -> override_settings:
    return override_settings(OAUTH_TOKEN={"ISSUER": ISSUER, "KEY_ENCRYPTION_KEY": KEK, **extra})


def key_states() -> list[tuple[str, str]]:
    return sorted(SigningKey.objects.values_list("alg", "state"))


# --- 3. the first signing key comes with `migrate` -----------------------------------------


def test_fresh_project_migrate_creates_the_first_key_and_second_migrate_passes(tmp_path):
    first = manage(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert "created the first RS256 signing key" in first.stdout
    keys = json.loads(manage(tmp_path, "oauth_keys", "list", "--json").stdout)
    assert sorted((k["alg"], k["state"]) for k in keys) == [("RS256", "current"), ("RS256", "next")]

    again = manage(tmp_path, "migrate")
    assert again.returncode == 0, again.stderr
    assert "signing key" not in again.stdout
    check = manage(tmp_path, "check")
    assert check.returncode == 0, check.stderr
    assert "E010" not in check.stderr
    assert len(json.loads(manage(tmp_path, "oauth_keys", "list", "--json").stdout)) == 2


@pytest.mark.django_db
def test_migrate_creates_keys_once_and_quietly_at_verbosity_zero(capsys):
    with oauth_settings():
        call_command("migrate", verbosity=0)
        call_command("migrate", verbosity=0)
    assert key_states() == [("RS256", "current"), ("RS256", "next")]
    assert capsys.readouterr().out == ""


@pytest.mark.django_db
def test_migrate_never_replaces_keys_that_were_all_revoked(signing_keys):
    SigningKey.objects.update(state="revoked")
    with oauth_settings():
        call_command("migrate", verbosity=0)
        with pytest.raises(SystemCheckError, match=r"oauth_token\.E010"):
            call_command("check")
    assert key_states() == [("RS256", "revoked"), ("RS256", "revoked")]


@pytest.mark.django_db
def test_migrate_under_a_wrong_key_encryption_key_creates_no_key(capsys):
    provisioning.create_client(name="HMAC", auth_method="client_secret_jwt")
    with oauth_settings(KEY_ENCRYPTION_KEY=WRONG_KEK):
        call_command("migrate", verbosity=0)
    assert not SigningKey.objects.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no signing key was created" in err[0]
    assert "oauth_keys reseal" in err[0]


@pytest.mark.django_db
def test_migrate_without_a_key_encryption_key_outside_debug_creates_no_key(capsys):
    """``migrate`` runs the checks (E002) first; with --skip-checks the receiver still refuses."""
    with override_settings(DEBUG=False, OAUTH_TOKEN={"ISSUER": ISSUER}):
        call_command("migrate", verbosity=0, skip_checks=True)
    assert not SigningKey.objects.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "KEY_ENCRYPTION_KEY'] is required" in err[0]


# --- 5. a wrong OAUTH_KEY_ENCRYPTION_KEY ---------------------------------------------------


def seal_under(key: SigningKey, kek: str) -> None:
    """What a process configured with another key-encryption key would have stored."""
    pem = jose.unseal(key.private_key_sealed, [KEK], aad=key.kid.encode())
    SigningKey.objects.filter(pk=key.pk).update(
        private_key_sealed=jose.seal(pem, kek, aad=key.kid.encode())
    )


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["current", "next"])
def test_check_errors_when_current_or_next_key_cannot_be_decrypted(signing_keys, state):
    broken = getattr(signing_keys, state)
    seal_under(broken, WRONG_KEK)
    with oauth_settings(), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    report = str(raised.value)
    assert "oauth_token.E130" in report and f"{broken.kid} ({state})" in report
    assert KEK not in report and WRONG_KEK not in report


@pytest.mark.django_db
def test_check_errors_when_the_key_encryption_key_is_wrong(signing_keys):
    with oauth_settings(KEY_ENCRYPTION_KEY=WRONG_KEK), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    report = str(raised.value)
    assert "oauth_token.E130" in report
    assert signing_keys.current.kid in report and signing_keys.next.kid in report
    assert KEK not in report and WRONG_KEK not in report


@pytest.mark.django_db
def test_check_errors_when_a_client_secret_cannot_be_decrypted(signing_keys):
    client = provisioning.create_client(name="HMAC", auth_method="client_secret_jwt").client
    Client.objects.filter(pk=client.pk).update(
        secret_sealed=jose.seal(b"x" * 64, WRONG_KEK, aad=client.client_id.encode())
    )
    with oauth_settings(), pytest.raises(SystemCheckError, match=r"oauth_token\.E131"):
        call_command("check")


@pytest.mark.django_db
def test_rotate_under_a_wrong_key_encryption_key_refuses_in_one_line(signing_keys):
    before = sorted(SigningKey.objects.values_list("kid", "state"))
    with oauth_settings(KEY_ENCRYPTION_KEY=WRONG_KEK):
        result = run("oauth_keys", "rotate", "--json")
    assert result.code == 1 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot decrypt" in result.err and "oauth_keys reseal" in result.err
    assert sorted(SigningKey.objects.values_list("kid", "state")) == before


@pytest.mark.django_db
def test_reseal_moves_keys_and_secrets_to_a_new_key_encryption_key(
    signing_keys, token_request, api
):
    created = provisioning.create_client(
        name="HMAC", auth_method="client_secret_jwt", grant_types=["client_credentials"]
    )
    provisioning.grant(created.client, api, ["read:things"])
    m2m = provisioning.create_client(name="M2M", grant_types=["client_credentials"])
    provisioning.grant(m2m.client, api, ["read:things"])

    with oauth_settings(KEY_ENCRYPTION_KEY=NEW_KEK):
        refused = run("oauth_keys", "reseal")
    assert refused.code == 1 and len(refused.err.strip().splitlines()) == 1
    assert "OLD_KEY_ENCRYPTION_KEYS" in refused.err

    with oauth_settings(KEY_ENCRYPTION_KEY=NEW_KEK, OLD_KEY_ENCRYPTION_KEYS=[KEK]):
        doc = run("oauth_keys", "reseal", "--json").json()
    resealed = {(r["kind"], r["name"]) for r in doc["resealed"]}
    assert resealed == {
        ("signing key", signing_keys.current.kid),
        ("signing key", signing_keys.next.kid),
        ("client secret", created.client.client_id),
    }
    assert KEK not in json.dumps(doc) and NEW_KEK not in json.dumps(doc)

    keyring._private_keys.clear()
    with oauth_settings(KEY_ENCRYPTION_KEY=NEW_KEK):
        call_command("check")
        response = token_request(
            {"grant_type": "client_credentials", "audience": api.identifier},
            auth=(m2m.client.client_id, m2m.secret),
        )
        assert response.status_code == 200, response.content
        assert run("oauth_keys", "rotate").code == 0


# --- 7. `quickstart --port` moves the issuer too ---------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The example project started as the README says, ``quickstart --port N`` with no
    OAUTH_ISSUER: (base URL, its directory, the printed credentials)."""
    tmp = tmp_path_factory.mktemp("firstday-example")
    with quickstart_server(tmp, set_issuer=False) as (base, log):
        yield base, tmp, credentials(log.read_text())


def test_quickstart_port_option_moves_issuer_discovery_iss_and_verification_uri(example):
    base, tmp_path, creds = example
    with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=10) as r:
        metadata = json.loads(r.read())
    assert metadata["issuer"] == base + "/"
    assert metadata["token_endpoint"] == base + "/oauth/token"
    token = _post(
        base + "/oauth/token",
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["iss"] == (
        base + "/"
    )
    tv = json.loads(
        manage(
            tmp_path,
            "oauth_client",
            "create",
            "--name",
            "TV",
            "--grant-type",
            "urn:ietf:params:oauth:grant-type:device_code",
            "--json",
        ).stdout
    )
    device = _post(
        base + "/oauth/device/code",
        {"scope": "openid"},
        auth=(tv["client_id"], tv["client_secret"]),
    )
    assert device["verification_uri"].startswith(base + "/")


def _post(url: str, data: dict[str, str], auth: tuple[str, str] | None = None) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(data).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# --- 11. resource-server errors are RFC 6750 -------------------------------------------


def _get(url: str, authorization: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_whoami_without_a_token_is_a_bare_rfc6750_challenge(example):
    base = example[0]
    status, headers, body = _get(base + "/api/whoami")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith('Bearer realm="oauth", DPoP realm="oauth"')
    assert "error=" not in headers["WWW-Authenticate"]
    assert json.loads(body) == {}  # RFC 6750 §3.1: no error information; not {"detail": ...}


@pytest.mark.parametrize(
    ("authorization", "description"),
    [
        ("Bearer not-a-jwt", "The access token is not a JWT."),
        ("Bearer", "The Authorization header is malformed."),
        ("Bearer a.b.c", None),
    ],
)
def test_whoami_with_a_bad_token_answers_invalid_token_in_header_and_body(
    example, authorization, description
):
    status, headers, body = _get(example[0] + "/api/whoami", authorization)
    assert status == 401
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    document = json.loads(body)
    assert document["error"] == "invalid_token" and "detail" not in document
    if description:
        assert document["error_description"] == description


class OnlyAuthenticated(APIView):
    """A view protected by DRF's own permission class, not this package's."""

    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [IsAuthenticated]
    token_audience = "https://api.example.com"

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


urlpatterns = [path("only-authenticated", OnlyAuthenticated.as_view())]


@override_settings(
    ROOT_URLCONF=__name__,
    REST_FRAMEWORK={"EXCEPTION_HANDLER": "oauth_token.authentication.exception_handler"},
)
def test_drf_permission_classes_get_the_rfc6750_answer_with_the_exception_handler(client):
    response = client.get("/only-authenticated")
    assert response.status_code == 401
    assert response.json() == {}
    assert response["WWW-Authenticate"].startswith('Bearer realm="oauth"')


# --- 9. values that can never work are refused, naming the field ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["oauth_api", "create", "--identifier", "not a uri", "--name", "Inventory"],
            "CommandError: identifier: 'not a uri' is not an absolute URI",
        ),
        (
            ["oauth_api", "create", "--identifier", "https://inventory.example#x", "--name", "I"],
            "CommandError: identifier: ",
        ),
        (
            ["oauth_api", "create", "--identifier", "https://inventory.example", "--name", ""],
            "CommandError: name: This field cannot be blank.",
        ),
        (
            ["oauth_client", "create", "--name", ""],
            "CommandError: name: This field cannot be blank.",
        ),
        (
            ["oauth_client", "create", "--name", "Web", "--redirect-uri", "javascript:alert(1)"],
            "CommandError: redirect_uris: Redirect URI 'javascript:alert(1)' uses a scheme",
        ),
        (
            [
                "oauth_client",
                "create",
                "--name",
                "SPA",
                "--type",
                "public",
                "--grant-type",
                "client_credentials",
            ],
            "CommandError: grant_types: client_credentials is for confidential clients",
        ),
    ],
)
def test_commands_refuse_values_that_can_never_work_naming_the_field(argv, message):
    result = run(*argv)
    assert_one_line_failure(result, message)
    assert not Api.objects.exists() and not Client.objects.exists()


@pytest.mark.django_db
def test_urn_identifiers_stay_allowed():
    doc = run(
        "oauth_api", "create", "--identifier", "urn:example:inventory", "--name", "I", "--json"
    )
    assert doc.json()["identifier"] == "urn:example:inventory"


def test_admin_refuses_the_same_identifier_beside_its_field(admin_client):
    data = {
        "identifier": "not a uri",
        "name": "Inventory",
        "access_token_lifetime": "900",
        "signing_alg": "RS256",
        "scopes-TOTAL_FORMS": "0",
        "scopes-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:oauth_token_api_add"), data)
    assert response.status_code == 200
    assert "is not an absolute URI" in response.context["adminform"].form.errors["identifier"][0]
    assert not Api.objects.exists()


def test_admin_names_the_client_field_it_refuses(admin_client):
    data = {
        "name": "Web",
        "client_type": "public",
        "token_endpoint_auth_method": "none",
        "grant_types": ["client_credentials"],
        "redirect_uris": "",
        "exchange_audiences": "[]",
        "trusted_issuers": "[]",
    }
    response = admin_client.post(reverse("admin:oauth_token_client_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "client_credentials is for confidential clients" in errors["grant_types"][0], errors
    assert not Client.objects.exists()


# --- 6. `openid offline_access` with no API brings a refresh token, as at Auth0 -----------


def redeem(token_request: Any, obtain_code: Any, client: Client, secret: str, scope: str) -> Any:
    code, verifier = obtain_code(client, scope=scope)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    return token_request(data, auth=(client.client_id, secret))


@pytest.mark.django_db
def test_openid_offline_access_without_audience_gives_a_refresh_token_serving_userinfo(
    signing_keys, first_party_app, obtain_code, token_request, api_client
):
    client, secret = first_party_app
    first = redeem(token_request, obtain_code, client, secret, "openid profile offline_access")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["scope"].split() == ["openid", "profile", "offline_access"]
    assert body["refresh_token"] and body["id_token"]

    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=(client.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.content
    access = refreshed.json()["access_token"]
    userinfo = api_client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert userinfo.status_code == 200, userinfo.content
    assert userinfo.json()["preferred_username"] == "alice"


@pytest.mark.django_db
def test_offline_access_without_audience_still_needs_the_refresh_grant(
    signing_keys, obtain_code, token_request
):
    created = provisioning.create_client(
        name="No refresh",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK],
        first_party=True,
    )
    assert created.secret
    response = redeem(
        token_request, obtain_code, created.client, created.secret, "openid offline_access"
    )
    assert response.status_code == 200, response.content
    assert "refresh_token" not in response.json()
    assert response.json()["scope"] == "openid"


# --- 12. operations: a health endpoint and `check --deploy` for the checklist --------------


@pytest.mark.django_db
def test_health_is_200_with_fixed_words_and_nothing_secret(signing_keys, client):
    response = client.get("/oauth/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "signing_key": "ok"},
    }
    assert response["Cache-Control"] == "no-store"
    assert signing_keys.current.kid not in response.content.decode()


@pytest.mark.django_db
def test_health_is_503_without_a_current_key(client):
    response = client.get("/oauth/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["signing_key"] == "missing"


@pytest.mark.django_db
def test_health_is_503_when_the_key_encryption_key_is_wrong(signing_keys, client):
    with oauth_settings(KEY_ENCRYPTION_KEY=WRONG_KEK):
        response = client.get("/oauth/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "signing_key": "undecryptable",
    }
    assert WRONG_KEK not in response.content.decode() and KEK not in response.content.decode()


@pytest.mark.django_db
def test_health_is_503_when_redis_is_unreachable(signing_keys, client):
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "oauth": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    with override_settings(CACHES=caches), oauth_settings(CACHE_ALIAS="oauth"):
        response = client.get("/oauth/health")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"
    assert str(port) not in response.content.decode()


@pytest.mark.django_db
def test_check_deploy_asks_for_oauth_cleanup_when_expired_rows_pile_up(signing_keys, capsys):
    RevokedAccessToken.objects.create(
        jti="expired-long-ago", expires_at=timezone.now() - timedelta(days=2)
    )
    call_command("check", "--deploy")
    assert "oauth_token.W134" in capsys.readouterr().err
    call_command("oauth_cleanup")
    call_command("check", "--deploy")
    assert "oauth_token.W134" not in capsys.readouterr().err


def test_check_deploy_names_the_checklist_lines_a_production_config_misses(tmp_path):
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/wt_firstday_not_created",
        CONN_MAX_AGE="0",  # a connection per request
        CACHE_URL="redis://127.0.0.1:6379/0",
        OAUTH_KEY_ENCRYPTION_KEY="django-insecure-example-project-development-only-0123456789",
        SECRET_KEY="django-insecure-example-project-development-only-0123456789",
    )
    for warning in ("oauth_token.W132", "oauth_token.W133", "oauth_token.W135"):
        assert warning in result.stderr, result.stderr
    sqlite = manage(tmp_path, "check", "--deploy")
    assert "oauth_token.W131" in sqlite.stderr
    kept = manage(
        tmp_path,
        "check",
        "--deploy",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/wt_firstday_not_created",
    )
    assert "oauth_token.W132" not in kept.stderr  # the example keeps connections open
