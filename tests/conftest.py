"""Shared fixtures: real objects built through the same functions the commands use."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from oauth_token.models import Api, Client
from oauth_token.registry import keyring, provisioning
from tests import kit
from tests.stub_server import LocalSite

pytest_plugins = ["tests.refresh.fixtures"]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The suite runs in parallel by default (pytest-xdist, one worker per core, each with its
    own test database): ``-n 0`` or ``-p no:xdist`` runs it in one process, ``-n N`` on N.
    Set here rather than in ``addopts`` so that ``-p no:xdist`` still parses. Modules stay
    whole on one worker (``--dist loadscope``): their module-scoped servers start once."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.option.numprocesses is None and not config.option.usepdb:
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "loadscope"


@pytest.fixture(autouse=True)
def _pooled_rsa_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """RSA keys, the client's and the server's, come from per-process pools (tests/kit.py,
    ``KeyPool``): distinct within a test, generated once per process. A test marked
    ``fresh_keys`` has the server generate its own, as in production."""
    kit.CLIENT_KEYS.rewind()
    kit.SERVER_KEYS.rewind()
    if request.node.get_closest_marker("fresh_keys") is None:
        kit.pooled_server_keys(monkeypatch)


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    caches["default"].clear()
    keyring._private_keys.clear()
    yield
    caches["default"].clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def signing_keys(db: None) -> keyring.Ring:
    return keyring.rotate("RS256")


@pytest.fixture
def api(db: None) -> Api:
    return provisioning.create_api(
        identifier="https://api.example.com",
        name="Example API",
        scopes=["read:things", "write:things", "delete:things"],
    )


class ClientFactory:
    def __call__(self, **kwargs: Any) -> tuple[Client, str | None]:
        kwargs.setdefault("name", "Test client")
        kwargs.setdefault("grant_types", ["client_credentials"])
        created = provisioning.create_client(**kwargs)
        return created.client, created.secret


@pytest.fixture
def make_client(db: None) -> ClientFactory:
    return ClientFactory()


@pytest.fixture
def m2m_client(make_client: ClientFactory, api: Api) -> tuple[Client, str]:
    """A confidential client_credentials client granted read and write on the example API."""
    client, secret = make_client(name="Machine")
    provisioning.grant(client, api, ["read:things", "write:things"])
    assert secret is not None
    return client, secret


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def token_request(api_client: APIClient) -> Callable[..., Any]:
    """POST /oauth/token as form data; ``auth=(id, secret)`` adds a Basic header."""

    def post(
        data: dict[str, Any] | None = None,
        *,
        auth: tuple[str, str] | None = None,
        json: bool = False,
        **headers: Any,
    ) -> Any:
        if auth:
            headers["HTTP_AUTHORIZATION"] = basic(*auth)
        if json:
            return api_client.post("/oauth/token", data or {}, format="json", **headers)
        return api_client.generic(
            "POST",
            "/oauth/token",
            _urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )

    return post


def _urlencode(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)


# --- client authentication with assertions (RFC 7523) ------------------------------------


@dataclass
class JwtClient:
    """A private_key_jwt or client_secret_jwt client and what it signs its assertions with."""

    client: Client
    key: Any  # private key object, or the shared secret (bytes) for client_secret_jwt
    alg: str
    kid: str | None = None

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def assertion(self, **claims: Any) -> str:
        return kit.sign_assertion(self.client_id, self.key, self.alg, kid=self.kid, **claims)

    def params(self, assertion: str | None = None, **extra: str) -> dict[str, str]:
        """Form parameters of a client_credentials request authenticated by an assertion."""
        return {
            "grant_type": "client_credentials",
            "audience": "https://api.example.com",
            **kit.assertion_params(assertion or self.assertion()),
            **extra,
        }


@pytest.fixture
def make_jwt_client(make_client: ClientFactory, api: Api) -> Callable[..., JwtClient]:
    """``make_jwt_client("RS256")``: a private_key_jwt client with a fresh key in its inline
    JWK Set (or served at ``jwks_uri=``); ``make_jwt_client("HS256")``: client_secret_jwt.
    Either way granted read:things on the example API."""

    def make(alg: str = "RS256", *, jwks_uri: str = "", kid: str | None = "key-1") -> JwtClient:
        if alg.startswith("HS"):
            client, secret = make_client(name="HMAC client", auth_method="client_secret_jwt")
            assert secret is not None
            provisioning.grant(client, api, ["read:things"])
            return JwtClient(client, secret.encode(), alg)
        private = kit.generate_key(alg)
        jwks = {"keys": [kit.public_jwk(private, kid, alg)]}
        client, _ = make_client(
            name="Key client",
            auth_method="private_key_jwt",
            jwks=None if jwks_uri else jwks,
            jwks_uri=jwks_uri,
        )
        provisioning.grant(client, api, ["read:things"])
        return JwtClient(client, private, alg, kid)

    return make


@pytest.fixture
def jwks_server() -> Iterator[LocalSite]:
    """A JWK Set served at ``jwks_server.url`` on 127.0.0.1 (set ``jwks_server.jwks``)."""
    with LocalSite() as site:
        yield site


@pytest.fixture
def m2m_token(
    signing_keys: keyring.Ring, m2m_client: tuple[Client, str], token_request: Callable[..., Any]
) -> str:
    """A client_credentials token obtained from the token endpoint."""
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


@pytest.fixture
def post_raw(api_client: APIClient) -> Callable[..., Any]:
    """POST /oauth/token with a body sent byte for byte (for malformed requests)."""

    def post(body: bytes | str, content_type: str, **headers: Any) -> Any:
        return api_client.generic(
            "POST", "/oauth/token", body, content_type=content_type, **headers
        )

    return post


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of every oauth_token model: compare before and after a refused request."""
    from django.apps import apps

    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_app_config("oauth_token").get_models()
    }
