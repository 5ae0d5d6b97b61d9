"""The token endpoint's device_code grant (RFC 8628 §3.4-3.5): the polling state machine.

Time never passes by sleeping: ``elapse`` moves the device code's timestamps back."""

from __future__ import annotations

import jwt
import pytest

from oauth_token.models import DeviceCodeStatus
from oauth_token.registry import keyring

from .conftest import DEVICE_GRANT, approve, deny, elapse, row_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(tv_client, device_code_request):
    """A pending device code of the confidential TV client, for openid + an API scope."""
    client, secret = tv_client
    body = device_code_request(
        {"scope": "openid read:things", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()
    return body["device_code"]


@pytest.fixture
def poll(tv_client, token_request):
    client, secret = tv_client

    def _poll(device_code, auth=(client.client_id, secret)):
        return token_request({"grant_type": DEVICE_GRANT, "device_code": device_code}, auth=auth)

    return _poll


def assert_json_error(response):
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()["error"]


def test_first_poll_is_authorization_pending_and_recorded(signing_keys, started, poll):
    assert assert_json_error(poll(started)) == (400, "authorization_pending")
    row = row_for(started)
    assert row.last_polled_at is not None
    assert row.interval == 5
    assert row.status == DeviceCodeStatus.PENDING


def test_polling_at_the_interval_stays_pending(signing_keys, started, poll):
    for _ in range(3):
        assert assert_json_error(poll(started)) == (400, "authorization_pending")
        elapse(started, 5)
    assert row_for(started).interval == 5


def test_polling_too_fast_is_slow_down_and_interval_grows_by_five(signing_keys, started, poll):
    poll(started)
    elapse(started, 2)
    response = poll(started)
    assert assert_json_error(response) == (400, "slow_down")
    assert "10 seconds" in response.json()["error_description"]
    assert row_for(started).interval == 10


def test_grown_interval_applies_to_every_later_poll(signing_keys, started, poll):
    poll(started)
    elapse(started, 1)
    assert assert_json_error(poll(started)) == (400, "slow_down")  # interval now 10
    elapse(started, 6)  # enough under the old interval, too fast under the new one
    assert assert_json_error(poll(started)) == (400, "slow_down")
    assert row_for(started).interval == 15
    elapse(started, 15)
    assert assert_json_error(poll(started)) == (400, "authorization_pending")
    assert row_for(started).interval == 15


def test_approved_code_yields_tokens_for_the_person(signing_keys, started, poll, person):
    approve(started, person)
    response = poll(started)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid read:things"
    assert response["Cache-Control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    alg, key = keyring.verification_key(header["kid"])
    claims = jwt.decode(
        body["access_token"],
        key,
        algorithms=[alg],
        audience="https://api.example.com",
        options={"verify_aud": False},
    )
    assert claims["sub"] == str(person.pk)
    assert claims["client_id"] == row_for(started).client.client_id
    assert claims["scope"] == "openid read:things"
    row = row_for(started)
    assert row.status == DeviceCodeStatus.CONSUMED
    assert row.consumed_at is not None


def test_approved_code_is_single_use(signing_keys, started, poll, person):
    approve(started, person)
    assert poll(started).status_code == 200
    assert assert_json_error(poll(started)) == (400, "invalid_grant")
    assert row_for(started).status == DeviceCodeStatus.CONSUMED


def test_approval_is_honoured_even_when_polled_fast(signing_keys, started, poll, person):
    poll(started)
    approve(started, person)
    assert poll(started).status_code == 200


def test_denied_code_is_access_denied(signing_keys, started, poll, person):
    poll(started)
    deny(started, person)
    elapse(started, 5)
    assert assert_json_error(poll(started)) == (400, "access_denied")
    assert row_for(started).status == DeviceCodeStatus.DENIED


def test_expired_code_is_expired_token(signing_keys, started, poll):
    elapse(started, 900)
    assert assert_json_error(poll(started)) == (400, "expired_token")


def test_code_approved_but_redeemed_after_expiry_is_expired_token(
    signing_keys, started, poll, person
):
    approve(started, person)
    elapse(started, 901)
    assert assert_json_error(poll(started)) == (400, "expired_token")
    assert row_for(started).status == DeviceCodeStatus.APPROVED


def test_code_just_before_expiry_still_answers_pending(signing_keys, started, poll):
    elapse(started, 899)
    assert assert_json_error(poll(started)) == (400, "authorization_pending")


def test_unknown_device_code_is_invalid_grant(signing_keys, started, poll):
    assert assert_json_error(poll("not-a-device-code")) == (400, "invalid_grant")


def test_missing_device_code_is_invalid_request(signing_keys, tv_client, token_request):
    client, secret = tv_client
    response = token_request({"grant_type": DEVICE_GRANT}, auth=(client.client_id, secret))
    assert assert_json_error(response) == (400, "invalid_request")


def test_another_clients_device_code_is_invalid_grant(
    signing_keys, started, poll, make_client, person
):
    other, other_secret = make_client(name="Other TV", grant_types=[DEVICE_GRANT])
    approve(started, person)
    assert assert_json_error(poll(started, auth=(other.client_id, other_secret))) == (
        400,
        "invalid_grant",
    )
    assert row_for(started).status == DeviceCodeStatus.APPROVED


def test_client_not_allowed_the_grant_is_unauthorized_client(
    signing_keys, started, poll, m2m_client
):
    client, secret = m2m_client
    assert assert_json_error(poll(started, auth=(client.client_id, secret))) == (
        400,
        "unauthorized_client",
    )


def test_inactive_person_gets_no_tokens(signing_keys, started, poll, person):
    approve(started, person)
    person.is_active = False
    person.save()
    assert assert_json_error(poll(started)) == (400, "invalid_grant")
    assert row_for(started).status == DeviceCodeStatus.APPROVED


def test_public_client_polls_with_client_id(
    signing_keys, public_tv, device_code_request, token_request, person
):
    body = device_code_request({"client_id": public_tv.client_id, "scope": "openid"}).json()
    data = {
        "grant_type": DEVICE_GRANT,
        "device_code": body["device_code"],
        "client_id": public_tv.client_id,
    }
    assert assert_json_error(token_request(data)) == (400, "authorization_pending")
    approve(body["device_code"], person)
    response = token_request(data)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "openid"


def test_scope_removed_from_api_after_consent_is_not_issued(
    signing_keys, started, poll, person, api
):
    approve(started, person)
    api.scopes.filter(name="read:things").delete()
    body = poll(started).json()
    assert body["scope"] == "openid"


def test_pending_poll_changes_nothing_but_the_poll_record(signing_keys, started, poll):
    before = row_for(started)
    poll(started)
    after = row_for(started)
    assert (after.status, after.interval, after.user_id, after.expires_at) == (
        before.status,
        before.interval,
        before.user_id,
        before.expires_at,
    )


def test_offline_access_yields_a_working_refresh_token(
    signing_keys, make_client, offline_api, device_code_request, token_request, person
):
    client, secret = make_client(name="TV", grant_types=[DEVICE_GRANT, "refresh_token"])
    started = device_code_request(
        {"scope": "openid offline_access watch", "audience": offline_api.identifier},
        auth=(client.client_id, secret),
    ).json()["device_code"]
    approve(started, person)
    body = token_request(
        {"grant_type": DEVICE_GRANT, "device_code": started}, auth=(client.client_id, secret)
    ).json()
    assert body["scope"] == "openid offline_access watch"
    assert body["refresh_token"]
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=(client.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.content
    header = jwt.get_unverified_header(refreshed.json()["access_token"])
    alg, key = keyring.verification_key(header["kid"])
    claims = jwt.decode(
        refreshed.json()["access_token"], key, algorithms=[alg], audience=offline_api.identifier
    )
    assert claims["sub"] == str(person.pk)


def test_without_offline_access_there_is_no_refresh_token(signing_keys, started, poll, person):
    approve(started, person)
    assert "refresh_token" not in poll(started).json()


def test_openid_yields_an_id_token_for_the_person(
    signing_keys, tv_client, device_code_request, token_request, person
):
    client, secret = tv_client
    started = device_code_request(
        {"scope": "openid email", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()["device_code"]
    approve(started, person)
    body = token_request(
        {"grant_type": DEVICE_GRANT, "device_code": started}, auth=(client.client_id, secret)
    ).json()
    header = jwt.get_unverified_header(body["id_token"])
    alg, key = keyring.verification_key(header["kid"])
    claims = jwt.decode(
        body["id_token"],
        key,
        algorithms=[alg],
        audience=client.client_id,
        issuer="https://auth.example.test/",
    )
    assert claims["sub"] == str(person.pk)
    assert claims["email"] == "alice@example.com"
    assert claims["auth_time"] == int(row_for(started).auth_time.timestamp())
    assert "nonce" not in claims


def test_without_openid_there_is_no_id_token(
    signing_keys, tv_client, device_code_request, token_request, person
):
    client, secret = tv_client
    started = device_code_request(
        {"scope": "read:things", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()["device_code"]
    approve(started, person)
    body = token_request(
        {"grant_type": DEVICE_GRANT, "device_code": started}, auth=(client.client_id, secret)
    ).json()
    assert "id_token" not in body
    assert body["scope"] == "read:things"
