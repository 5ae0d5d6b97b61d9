from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from oauth_token.core import secrets
from oauth_token.models import Client, ClientGrant

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def _public_jwks() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    return {"keys": [ECAlgorithm.to_jwk(key.public_key(), as_dict=True)]}


def test_create_confidential_defaults_and_secret_shown_once(manage):
    doc = manage("oauth_client", "create", "--name", "Web app", "--json").json()
    assert doc["name"] == "Web app"
    assert doc["type"] == "confidential"
    assert doc["auth_method"] == "client_secret_basic"
    assert doc["grant_types"] == ["authorization_code", "refresh_token"]
    client = Client.objects.get(client_id=doc["client_id"])
    assert len(doc["client_secret"]) >= 43  # 256 bits, base64url
    assert client.secret_digest == secrets.digest(doc["client_secret"])
    assert doc["client_secret"] not in json.dumps(
        [client.name, client.secret_digest, client.secret_sealed]
    )
    shown = manage("oauth_client", "show", client.client_id, "--json")
    listed = manage("oauth_client", "list", "--json")
    for result in (shown, listed):
        assert doc["client_secret"] not in result.out
        assert client.secret_digest not in result.out


def test_create_with_every_flag(manage, tmp_path):
    jwks = _public_jwks()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    doc = manage(
        "oauth_client",
        "create",
        "--name",
        "Backend",
        "--type",
        "confidential",
        "--grant-type",
        "client_credentials",
        "authorization_code",
        "--grant-type",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "--redirect-uri",
        "https://app.example/cb",
        "--redirect-uri",
        "https://app.example/cb2",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(path),
        "--first-party",
        "--can-introspect",
        "--require-dpop",
        "--require-par",
        "--json",
    ).json()
    assert "client_secret" not in doc
    assert doc["grant_types"] == [
        "client_credentials",
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ]
    assert doc["redirect_uris"] == ["https://app.example/cb", "https://app.example/cb2"]
    client = Client.objects.get(client_id=doc["client_id"])
    assert client.token_endpoint_auth_method == "private_key_jwt"
    assert client.jwks == jwks
    assert client.secret_digest == ""
    assert (client.first_party, client.can_introspect, client.require_dpop, client.require_par) == (
        True,
        True,
        True,
        True,
    )


def test_create_public_client_has_no_secret(manage):
    doc = manage(
        "oauth_client",
        "create",
        "--name",
        "SPA",
        "--type",
        "public",
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--json",
    ).json()
    assert doc["auth_method"] == "none"
    assert "client_secret" not in doc
    assert Client.objects.get(client_id=doc["client_id"]).secret_digest == ""


def test_create_with_jwks_uri_and_client_secret_jwt(manage):
    doc = manage(
        "oauth_client",
        "create",
        "--name",
        "Remote keys",
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        "https://keys.example/jwks.json",
        "--json",
    ).json()
    assert doc["jwks_uri"] == "https://keys.example/jwks.json"
    hmac = manage(
        "oauth_client", "create", "--name", "HMAC", "--auth-method", "client_secret_jwt", "--json"
    ).json()
    client = Client.objects.get(client_id=hmac["client_id"])
    assert client.secret_sealed and hmac["client_secret"] not in client.secret_sealed


def test_human_output_shows_secret_with_warning(manage):
    result = manage("oauth_client", "create", "--name", "Human")
    assert result.code == 0
    assert "client_secret:" in result.out and "shown only this once" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grant-type", "implicit"], "Unknown grant type"),
        (["--type", "public", "--auth-method", "client_secret_basic"], "public client"),
        (["--auth-method", "none"], "confidential client"),
        (["--auth-method", "private_key_jwt"], "private_key_jwt needs"),
        (["--type", "public", "--grant-type", "client_credentials"], "confidential clients"),
        (["--redirect-uri", "/relative"], "absolute URI"),
        (["--redirect-uri", "https://a.example/cb#frag"], "fragment"),
        (["--jwks-uri", "not a url", "--auth-method", "private_key_jwt"], "URL"),
    ],
)
def test_create_refuses_bad_registration(manage, argv, message):
    result = manage("oauth_client", "create", "--name", "Bad", *argv, "--json")
    assert_one_line_failure(result, message)
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read JWKS file"),
        ("{not json", "not valid JSON"),
        ('{"keys": []}', "non-empty 'keys'"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "public key"),
    ],
)
def test_create_refuses_bad_jwks_file(manage, tmp_path, content, message):
    path = tmp_path / "jwks.json"
    if content is not None:
        path.write_text(content)
    result = manage(
        "oauth_client",
        "create",
        "--name",
        "K",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(path),
    )
    assert_one_line_failure(result, message)
    assert not Client.objects.exists()


def test_create_refuses_private_jwk(manage, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [ECAlgorithm.to_jwk(key, as_dict=True)]}))
    result = manage(
        "oauth_client",
        "create",
        "--name",
        "K",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(path),
    )
    assert_one_line_failure(result, "public key")
    assert not Client.objects.exists()


def test_jwks_file_and_uri_are_exclusive(manage, tmp_path):
    result = manage(
        "oauth_client", "create", "--name", "K", "--jwks-file", "x", "--jwks-uri", "https://a/b"
    )
    assert result.code == 2
    assert_one_line_failure(result, "not allowed with")


def test_list_and_show(manage, make_client, api):
    from oauth_token.registry import provisioning

    a, _ = make_client(name="Alpha")
    b, _ = make_client(name="Beta", grant_types=["client_credentials", "password"])
    provisioning.grant(b, api, ["read:things"])
    rows = manage("oauth_client", "list", "--json").json()
    assert [(r["client_id"], r["name"]) for r in rows] == [
        (a.client_id, "Alpha"),
        (b.client_id, "Beta"),
    ]
    assert all("client_secret" not in r for r in rows)
    shown = manage("oauth_client", "show", b.client_id, "--json").json()
    assert shown["client_id"] == b.client_id
    assert shown["grant_types"] == ["client_credentials", "password"]
    assert shown["grants"] == [{"audience": api.identifier, "scopes": ["read:things"]}]


def test_rotate_secret_invalidates_old_secret_at_once(
    manage, m2m_client, signing_keys, token_request
):
    client, old_secret = m2m_client
    data = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
    assert token_request(data, auth=(client.client_id, old_secret)).status_code == 200
    doc = manage("oauth_client", "rotate-secret", client.client_id, "--json").json()
    assert set(doc) == {"client_id", "client_secret"}
    assert doc["client_secret"] != old_secret
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(doc["client_secret"])
    refused = token_request(data, auth=(client.client_id, old_secret))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert token_request(data, auth=(client.client_id, doc["client_secret"])).status_code == 200


def test_rotate_secret_of_client_without_secret_fails(manage, make_client):
    client, _ = make_client(client_type="public", grant_types=["authorization_code"])
    result = manage("oauth_client", "rotate-secret", client.client_id, "--json")
    assert_one_line_failure(result, "has no secret")
    client.refresh_from_db()
    assert client.secret_digest == ""


def test_delete_removes_client_and_grants_and_its_requests_fail(
    manage, m2m_client, signing_keys, token_request
):
    client, secret = m2m_client
    data = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
    assert token_request(data, auth=(client.client_id, secret)).status_code == 200
    doc = manage("oauth_client", "delete", client.client_id, "--json").json()
    assert doc == {"client_id": client.client_id, "deleted": True}
    assert not Client.objects.filter(client_id=client.client_id).exists()
    assert not ClientGrant.objects.exists()
    refused = token_request(data, auth=(client.client_id, secret))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


@pytest.mark.parametrize("action", ["show", "rotate-secret", "delete"])
def test_unknown_client_fails_in_one_line(manage, make_client, action):
    make_client()
    result = manage("oauth_client", action, "no-such-client", "--json")
    assert_one_line_failure(result, "No client", "no-such-client")
    assert Client.objects.count() == 1
