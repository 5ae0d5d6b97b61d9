"""The demo data the quickstart command provisions, idempotently.

Each start leaves exactly one demo API, one demo client (with a client grant) and one demo user,
and returns usable credentials: the demo client's secret is rotated on every start, because
only its digest is stored and a secret cannot be shown twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from oauth_token.conf import oauth_settings
from oauth_token.models import Api, Client, SigningKey
from oauth_token.registry import keyring, provisioning

DEMO_AUDIENCE = "https://api.example.com"
DEMO_SCOPES = ("read:things", "write:things")
# What the consent page tells people each scope allows (editable in the admin, under APIs).
DEMO_SCOPE_DESCRIPTIONS = {"read:things": "See your things", "write:things": "Change your things"}
DEMO_CLIENT_NAME = "Demo machine-to-machine client"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"  # documented in README.md; development only


@dataclass(frozen=True)
class DemoCredentials:
    client_id: str
    client_secret: str
    audience: str
    scopes: tuple[str, ...]
    username: str
    created_key: bool


def ensure_signing_key() -> bool:
    """Create the first key ring if there is no current key (True when it did)."""
    alg = oauth_settings.DEFAULT_SIGNING_ALGORITHM
    if SigningKey.objects.filter(alg=alg, state="current").exists():
        return False
    keyring.rotate(alg)
    return True


def ensure_api() -> Api:
    api = Api.objects.filter(identifier=DEMO_AUDIENCE).first()
    if api is None:
        api = provisioning.create_api(
            identifier=DEMO_AUDIENCE,
            name="Example API",
            scopes=DEMO_SCOPES,
            allow_offline_access=True,
        )
        for scope in api.scopes.all():
            scope.description = DEMO_SCOPE_DESCRIPTIONS.get(scope.name, "")
            scope.save()
    return api


def ensure_client(api: Api) -> tuple[Client, str]:
    client = Client.objects.filter(name=DEMO_CLIENT_NAME).order_by("pk").first()
    if client is None:
        created = provisioning.create_client(
            name=DEMO_CLIENT_NAME, grant_types=["client_credentials"]
        )
        client, secret = created.client, created.secret
    else:
        secret = provisioning.rotate_secret(client)
    assert secret is not None
    provisioning.grant(client, api, DEMO_SCOPES)
    return client, secret


def ensure_user() -> str:
    user_model = get_user_model()
    if not user_model._default_manager.filter(username=DEMO_USERNAME).exists():
        user_model._default_manager.create_user(  # type: ignore[attr-defined]
            username=DEMO_USERNAME, password=DEMO_PASSWORD, email="demo@example.com"
        )
    return DEMO_USERNAME


def provision() -> DemoCredentials:
    created_key = ensure_signing_key()
    api = ensure_api()
    client, secret = ensure_client(api)
    return DemoCredentials(
        client_id=client.client_id,
        client_secret=secret,
        audience=api.identifier,
        scopes=DEMO_SCOPES,
        username=ensure_user(),
        created_key=created_key,
    )
