"""``core/rows.py``: the write paths' statements compiled once. What they return and change
must be exactly what the ORM's querysets would have returned and changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauth_token.authorize import codes
from oauth_token.core import rows, secrets
from oauth_token.models import (
    AuthorizationCode,
    RefreshFamilyAccessToken,
    RefreshToken,
    RefreshTokenFamily,
)
from oauth_token.tokens import refresh_tokens

pytestmark = pytest.mark.django_db

FIND = rows.RowSelect(
    RefreshToken, by="token_digest", related=("family", "family__user"), lock_of=("", "family")
)


def _family(client, user, **extra) -> RefreshTokenFamily:
    return RefreshTokenFamily.objects.create(
        client=client,
        user=user,
        subject=f"auth0|{user.pk}" if user else "client",
        audience="https://api.example.com",
        scopes=["read:things", "offline_access"],
        extra_claims={"tenant": "ünïcode", "n": 1},
        auth_time=timezone.now() - timedelta(minutes=5),
        grant_type="password",
        **extra,
    )


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_row_select_returns_what_select_related_returns(rt_client, resource_owner):
    client, _ = rt_client
    family = _family(client, resource_owner)
    token = RefreshToken.objects.create(
        family=family, token_digest=secrets.digest("value"), idle_expires_at=timezone.now()
    )
    expected = RefreshToken.objects.select_related("family", "family__user").get(pk=token.pk)

    with transaction.atomic():
        found = FIND.get(secrets.digest("value"))

    assert _fields(found) == _fields(expected)
    assert _fields(found.family) == _fields(expected.family)
    assert _fields(found.family.user) == _fields(expected.family.user)
    assert found.family.extra_claims == {"tenant": "ünïcode", "n": 1}  # JSON decoded
    assert timezone.is_aware(found.created_at)
    assert not found._state.adding


def _loaded(instance) -> dict:
    deferred = instance.get_deferred_fields()
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in deferred
    }


@pytest.mark.parametrize(
    "select",
    [refresh_tokens._FIND_FOR_GRANT, refresh_tokens._FIND_AND_LOCK],
    ids=["read", "locked"],
)
def test_the_grants_column_subset_loads_what_the_full_select_loads(
    select, rt_client, resource_owner
):
    """The refresh grant's SELECT loads only some columns: each one it loads holds what the
    ORM loads, the user is whole, and the rest is deferred (read on demand, correctly)."""
    client, _ = rt_client
    family = _family(client, resource_owner, dpop_jkt="jkt", sid="s-1")
    token = RefreshToken.objects.create(
        family=family, token_digest=secrets.digest("sub"), idle_expires_at=timezone.now()
    )
    expected = RefreshToken.objects.select_related("family", "family__user").get(pk=token.pk)

    with transaction.atomic():
        found = select.get(secrets.digest("sub"))

    assert found.get_deferred_fields() == {
        "token_digest",
        "parent_id",
        "created_at",
        "last_used_at",
        "access_token_jti",
        "access_token_expires_at",
    }
    assert found.family.get_deferred_fields() == {"created_at", "grant_type", "revoked_reason"}
    assert found.family.user.get_deferred_fields() == set()
    full, family_fields = _fields(expected), _fields(expected.family)
    assert _loaded(found) == {k: full[k] for k in _loaded(found)}
    assert _loaded(found.family) == {k: family_fields[k] for k in _loaded(found.family)}
    assert _fields(found.family.user) == _fields(expected.family.user)
    assert found.family.extra_claims == {"tenant": "ünïcode", "n": 1}
    # A deferred column is read by a query of its own, never guessed.
    with CaptureQueriesContext(connection) as queries:
        assert found.family.grant_type == "password"
        assert found.created_at == expected.created_at
    assert len(queries) == 2


def test_the_code_grants_column_subset_loads_what_the_full_select_loads(rt_client, resource_owner):
    client, _ = rt_client
    row = AuthorizationCode.objects.create(
        code_digest=secrets.digest("code"),
        client=client,
        user=resource_owner,
        redirect_uri="https://app.example.com/cb",
        scopes=["openid", "read:things"],
        audience="https://api.example.com",
        resources=["https://api.example.com"],
        nonce="n-1",
        code_challenge="c" * 43,
        code_challenge_method="S256",
        dpop_jkt="jkt",
        auth_time=timezone.now(),
        sid="s-1",
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    expected = AuthorizationCode.objects.select_related("user").get(pk=row.pk)

    found = codes.find("code")

    assert found.get_deferred_fields() == {
        "code_digest",
        "created_at",
        "access_token_jti",
        "access_token_expires_at",
        "refresh_family_id",
    }
    full = _fields(expected)
    assert _loaded(found) == {k: full[k] for k in _loaded(found)}
    assert _fields(found.user) == _fields(expected.user)


def test_row_select_only_always_loads_keys_and_refuses_unknown_paths(rt_client, resource_owner):
    client, _ = rt_client
    family = _family(client, resource_owner)
    RefreshToken.objects.create(family=family, token_digest=secrets.digest("k"))
    narrow = rows.RowSelect(
        RefreshToken, by="token_digest", related=("family",), only={"": (), "family": ("scopes",)}
    )
    found = narrow.get(secrets.digest("k"))
    assert found.pk is not None and found.family_id == family.pk  # the join's key
    assert found.family.pk == family.pk and found.family.scopes == family.scopes
    assert "client_id" in found.family.get_deferred_fields()
    with pytest.raises(ValueError):
        rows.RowSelect(RefreshToken, by="token_digest", only={"family": ("scopes",)})


def test_row_select_of_a_family_without_user_joins_none(rt_client):
    client, _ = rt_client
    family = _family(client, None)
    RefreshToken.objects.create(family=family, token_digest=secrets.digest("v2"))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        found = FIND.get(secrets.digest("v2"))
        assert found.family.user is None  # cached: no further query
    assert len([q for q in queries if q["sql"].startswith("SELECT")]) == 1


def test_row_select_of_an_unknown_value_is_none(db):
    with transaction.atomic():
        assert FIND.get(secrets.digest("nobody")) is None


def test_row_select_locks_token_and_family_where_the_database_can():
    with transaction.atomic():
        sql = FIND._compile(connection.alias).sql
    if connection.features.has_select_for_update_of:
        assert sql.endswith("FOR UPDATE OF r0, r1")
    else:
        assert "FOR UPDATE" not in sql


def test_guarded_update_consumes_once(rt_client, resource_owner):
    client, _ = rt_client
    token = RefreshToken.objects.create(
        family=_family(client, resource_owner), token_digest=secrets.digest("once")
    )
    now = timezone.now()
    consume = rows.GuardedUpdate(
        RefreshToken, assign=("used_at", "last_used_at"), unset=("used_at",)
    )
    assert consume.run(token.pk, {"used_at": now, "last_used_at": now}) == 1
    assert consume.run(token.pk, {"used_at": now, "last_used_at": now}) == 0
    token.refresh_from_db()
    assert token.used_at == now and token.last_used_at == now


def test_row_insert_stores_what_create_stores(rt_client, resource_owner):
    client, _ = rt_client
    insert = rows.RowInsert(RefreshTokenFamily, returning_pk=True)
    family = insert.save_new(
        RefreshTokenFamily(
            client=client,
            user=resource_owner,
            subject="auth0|1",
            scopes=["a", "b"],
            extra_claims={"k": [1, 2]},
            grant_type="password",
        )
    )
    assert family.pk is not None and not family._state.adding
    stored = RefreshTokenFamily.objects.get(pk=family.pk)
    assert _fields(stored) == _fields(family)

    rows.RowInsert(RefreshFamilyAccessToken).run(
        {"family_id": family.pk, "jti": "j-1", "expires_at": timezone.now()}
    )
    record = RefreshFamilyAccessToken.objects.get(jti="j-1")
    assert record.family_id == family.pk
    assert record.created_at is not None  # the model default applied


def test_row_insert_keeps_the_database_constraints(rt_client, resource_owner):
    client, _ = rt_client
    family = _family(client, resource_owner)
    insert = rows.RowInsert(RefreshFamilyAccessToken)
    insert.run({"family_id": family.pk, "jti": "dup", "expires_at": timezone.now()})
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.run({"family_id": family.pk, "jti": "dup", "expires_at": timezone.now()})
    with pytest.raises(TypeError):
        insert.run({"family_id": family.pk, "jti": "x", "expires_at": timezone.now(), "nope": 1})


CLAIM = rows.GuardedUpdate(
    RefreshToken,
    assign=("used_at", "last_used_at"),
    unset=("used_at",),
    live_parent=("family", "revoked_at"),
)
ROTATE = rows.ClaimThenInsert(CLAIM, rows.RowInsert(RefreshToken))


def _successor(family, parent, digest: str, **extra) -> dict:
    return {
        "family_id": family.pk,
        "parent_id": parent.pk,
        "token_digest": digest,
        "created_at": timezone.now(),
        "idle_expires_at": None,
        "access_token_jti": "jti-1",
        "access_token_expires_at": timezone.now() + timedelta(minutes=5),
        **extra,
    }


def test_claim_then_insert_stores_the_successor_only_once(rt_client, resource_owner):
    client, _ = rt_client
    family = _family(client, resource_owner)
    parent = RefreshToken.objects.create(family=family, token_digest=secrets.digest("p"))
    now = timezone.now()
    row = _successor(family, parent, secrets.digest("s1"))

    with CaptureQueriesContext(connection) as captured:
        assert ROTATE.run(parent.pk, {"used_at": now, "last_used_at": now}, row, family.pk) == 1
    # One statement on PostgreSQL (a data-modifying WITH); the claim then the INSERT elsewhere.
    assert len(captured) == (1 if connection.vendor == "postgresql" else 2)
    stored = RefreshToken.objects.get(token_digest=secrets.digest("s1"))
    assert stored.parent_id == parent.pk and stored.family_id == family.pk
    assert stored.access_token_jti == "jti-1"
    assert stored.access_token_expires_at == row["access_token_expires_at"]
    assert stored.used_at is None and stored.idle_expires_at is None  # NULLs typed correctly
    parent.refresh_from_db()
    assert parent.used_at == now

    again = _successor(family, parent, secrets.digest("s2"))
    assert ROTATE.run(parent.pk, {"used_at": now, "last_used_at": now}, again, family.pk) == 0
    assert not RefreshToken.objects.filter(token_digest=secrets.digest("s2")).exists()


def test_claim_then_insert_of_a_revoked_family_writes_nothing(rt_client, resource_owner):
    client, _ = rt_client
    family = _family(client, resource_owner, revoked_at=timezone.now())
    parent = RefreshToken.objects.create(family=family, token_digest=secrets.digest("r"))
    now = timezone.now()

    row = _successor(family, parent, secrets.digest("r2"))
    assert ROTATE.run(parent.pk, {"used_at": now, "last_used_at": now}, row, family.pk) == 0
    parent.refresh_from_db()
    assert parent.used_at is None
    assert RefreshToken.objects.filter(family=family).count() == 1


def test_claim_then_insert_never_truncates_an_over_long_value(rt_client, resource_owner):
    """The values are cast to their columns' types for the SELECT list; a cast to
    ``varchar(n)`` would cut a value silently. PostgreSQL must refuse it as a VALUES insert
    does (and consume nothing); SQLite, which enforces no varchar length at all, stores it
    whole."""
    client, _ = rt_client
    family = _family(client, resource_owner)
    parent = RefreshToken.objects.create(family=family, token_digest=secrets.digest("t"))
    now = timezone.now()
    row = _successor(family, parent, secrets.digest("t2"), access_token_jti="j" * 500)
    claim = {"used_at": now, "last_used_at": now}

    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            ROTATE.run(parent.pk, claim, row, family.pk)
        parent.refresh_from_db()
        assert parent.used_at is None
    else:
        assert ROTATE.run(parent.pk, claim, row, family.pk) == 1
        stored = RefreshToken.objects.get(token_digest=secrets.digest("t2"))
        assert stored.access_token_jti == "j" * 500
