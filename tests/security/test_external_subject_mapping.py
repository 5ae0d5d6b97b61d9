"""A trusted issuer naming this site's superuser (issue 12, suspected item): the former default
``EXTERNAL_USER_LOOKUP`` mapped any trusted issuer's ``sub`` to the local user of that name,
so an issuer a client trusts could mint tokens for ``sub=admin``. Now nothing maps unless the
client's entry for that issuer says how (``"subject_mapping": "username"``), or the operator
names a lookup explicitly (the old dotted paths still work when named)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from oauth_token.registry import provisioning
from tests import kit
from tests.grants.trusted_idp import Idp

pytestmark = pytest.mark.django_db

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT = "urn:ietf:params:oauth:token-type:jwt"


@pytest.fixture
def superuser(db: None) -> Any:
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")


def _integration(make_client: Any, api: Any, entry: dict[str, Any]) -> tuple[str, str]:
    client, secret = make_client(
        name="Partner integration",
        grant_types=[JWT_BEARER, EXCHANGE],
        trusted_issuers=[entry],
        exchange_audiences=[api.identifier],
    )
    provisioning.grant(client, api, ["read:things"])
    return client.client_id, secret


def _bearer(token_request: Any, auth: tuple[str, str], assertion: str) -> Any:
    return token_request(
        {"grant_type": JWT_BEARER, "assertion": assertion, "audience": kit.AUDIENCE}, auth=auth
    )


def _unmapped_entry(idp: Idp) -> dict[str, Any]:
    return {"issuer": idp.issuer, "jwks": idp.jwks}


def test_unmapped_issuer_cannot_name_the_superuser_in_a_jwt_bearer_assertion(
    signing_keys, api, make_client, token_request, superuser, unchanged
):
    idp = Idp()
    auth = _integration(make_client, api, _unmapped_entry(idp))
    unchanged()
    body = kit.assert_oauth_error(
        _bearer(token_request, auth, idp.sign(sub="admin")), 400, "invalid_grant"
    )
    assert "not a known, active user" in body["error_description"]


def test_unmapped_issuer_cannot_name_the_superuser_as_a_token_exchange_subject(
    signing_keys, api, make_client, token_request, superuser, unchanged
):
    idp = Idp()
    auth = _integration(make_client, api, _unmapped_entry(idp))
    unchanged()
    response = token_request(
        {
            "grant_type": EXCHANGE,
            "subject_token": idp.sign(sub="admin"),
            "subject_token_type": JWT,
            "audience": kit.AUDIENCE,
        },
        auth=auth,
    )
    kit.assert_oauth_error(response, 400, "invalid_grant")


def test_an_explicit_username_mapping_for_that_issuer_maps_its_subjects(
    signing_keys, api, make_client, token_request, superuser
):
    idp = Idp()
    auth = _integration(make_client, api, {**_unmapped_entry(idp), "subject_mapping": "username"})
    response = _bearer(token_request, auth, idp.sign(sub="admin"))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "path",
    [
        "oauth_token.registry.trusted_issuers.user_by_username",
        "oauth_token.trusted_issuers.user_by_username",
    ],
)
def test_the_former_default_still_works_when_named_explicitly(
    signing_keys, api, make_client, token_request, superuser, settings, path
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "EXTERNAL_USER_LOOKUP": path}
    idp = Idp()
    auth = _integration(make_client, api, _unmapped_entry(idp))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        response = _bearer(token_request, auth, idp.sign(sub="admin"))
    assert response.status_code == 200, response.content


def test_an_unknown_subject_mapping_is_refused_at_registration(make_client):
    from django.core.exceptions import ValidationError

    from oauth_token.models.policies import validate_trusted_issuers

    entry = {**_unmapped_entry(Idp()), "subject_mapping": "email-or-whatever"}
    with pytest.raises(ValidationError):
        validate_trusted_issuers([entry])
