"""Statements of the write paths, compiled once per process instead of once per request.

Django's ORM builds every statement's SQL anew each time it runs it. For most of this package
that cost does not matter; for the statements every refresh and every code redemption runs it
is the largest single cost after the signature: compiling the ``select_related`` SELECT that
finds and locks a refresh token with its family and user (about forty columns over three
tables) takes about 1 ms of CPU, ten times what PostgreSQL needs to answer it, and a
conditional UPDATE through a queryset about 0.4 ms against 0.08 ms for the statement itself
(``bench/PROFILE.md``).

So the few statements on those paths are written here from the models' own metadata (table
and column names, join columns, nullability), quoted by the connection, cached per database
alias, and their rows turned back into model instances the way the ORM does it:
``Model.from_db`` after the backend's and each field's database converters. Parameters go
through each field's ``get_db_prep_value``, as the ORM's would. Nothing else of the ORM is
bypassed: signals are not sent by these statements in the ORM either (``update()`` sends
none; SELECTs none), and every statement runs on the connection of the current transaction.

Only what the hot paths need: one row by one column, following foreign keys; an UPDATE of one
row by primary key, guarded by columns that must still be NULL (and, optionally, by its parent
row's); an INSERT of one row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


def _field(model: type[Model], name: str) -> Any:
    """A concrete field (typed loosely: django-stubs' union with reverse relations has none of
    the attributes used here)."""
    return model._meta.get_field(name)


def _pk(model: type[Model]) -> Any:
    return model._meta.pk


@dataclass(frozen=True)
class _Part:
    """One model in the SELECT: its table alias, the path it was reached by, the fields it
    loads (in the model's field order), and where they sit in a row."""

    model: type[Model]
    alias: str
    path: tuple[str, ...]
    fields: tuple[Any, ...]
    start: int
    attnames: tuple[str, ...]
    pk_index: int
    # The foreign key of the part this one was reached from (None for the root).
    link: Any

    @property
    def stop(self) -> int:
        return self.start + len(self.fields)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    parts: tuple[_Part, ...]
    # (column index, its converters, the expression they are called with), for the columns
    # that have any: most have none on PostgreSQL, where the driver already loaded the value.
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]


class RowSelect:
    """``SELECT`` of ``model`` joined along foreign keys (``related``: paths such as
    ``"family"``, ``"family__user"``; a nullable key is a LEFT JOIN), one row where ``by``
    equals a value, optionally locked (``lock_of``: the paths whose rows ``FOR UPDATE OF``
    locks, ``""`` being ``model`` itself; where the database has no row locks, as SQLite,
    the transaction's own write lock serialises instead, as with the ORM).

    ``only`` names, per path, the fields a caller reads; the others are deferred, as with
    ``QuerySet.only()``: not selected, and loaded by a query of their own if something reads
    them after all (so a missing name costs a statement, never a wrong value). Every
    primary key and every foreign key a join follows is always loaded. A path not named
    loads all its fields."""

    def __init__(
        self,
        model: type[Model],
        *,
        by: str,
        related: Sequence[str] = (),
        lock_of: Sequence[str] | None = None,
        only: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.model, self.by, self.related = model, by, tuple(related)
        self.lock_of = None if lock_of is None else tuple(lock_of)
        self.only = {path: tuple(names) for path, names in (only or {}).items()}
        unknown = set(self.only) - {"", *self.related}
        if unknown:
            raise ValueError(f"only names paths that are not selected: {sorted(unknown)}")
        self._compiled: dict[str, _Compiled] = {}

    def get(self, value: Any) -> Model | None:
        """The row (with its related rows cached on it, as ``select_related`` does) or None."""
        using = router.db_for_read(self.model)
        compiled = self._compiled.get(using) or self._compile(using)
        connection = connections[using]
        by_field = _field(self.model, self.by)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [by_field.get_db_prep_value(value, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters, expression in compiled.converters:
            converted = values[index]
            for converter in converters:
                converted = converter(converted, expression, connection)
            values[index] = converted
        return self._hydrate(compiled.parts, values, using)

    @staticmethod
    def _hydrate(parts: Sequence[_Part], values: list[Any], using: str) -> Model:
        instances: dict[tuple[str, ...], Model | None] = {}
        for part in parts:
            chunk = values[part.start : part.stop]
            instance = (
                None
                if chunk[part.pk_index] is None
                else part.model.from_db(using, part.attnames, chunk)
            )
            instances[part.path] = instance
            if part.link is not None:
                parent = instances[part.path[:-1]]
                if parent is not None:
                    part.link.set_cached_value(parent, instance)
        root = instances[()]
        assert root is not None  # the root's primary key is never NULL
        return root

    def _loaded(self, model: type[Model], path: tuple[str, ...]) -> tuple[Any, ...]:
        """The fields of ``model`` selected for ``path``, in the model's order."""
        fields = tuple(model._meta.concrete_fields)
        names = self.only.get("__".join(path))
        if names is None:
            return fields
        wanted = {_field(model, name) for name in names} | {_pk(model)}
        # The foreign keys the joins follow from this part.
        for dotted in self.related:
            steps = tuple(dotted.split("__"))
            if steps[:-1] == path:
                wanted.add(_field(model, steps[-1]))
        return tuple(f for f in fields if f in wanted)

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        quote = connection.ops.quote_name
        parts: list[_Part] = []
        joins: list[str] = []
        by_path: dict[tuple[str, ...], _Part] = {}

        def add(model: type[Model], path: tuple[str, ...], link: Any) -> _Part:
            fields = self._loaded(model, path)
            start = parts[-1].stop if parts else 0
            part = _Part(
                model,
                f"r{len(parts)}",
                path,
                fields,
                start,
                tuple(f.attname for f in fields),
                next(i for i, f in enumerate(fields) if f.primary_key),
                link,
            )
            parts.append(part)
            by_path[path] = part
            return part

        add(self.model, (), None)
        for dotted in self.related:
            path = tuple(dotted.split("__"))
            parent = by_path[path[:-1]]
            fk = _field(parent.model, path[-1])
            target = fk.related_model
            assert isinstance(target, type) and issubclass(target, Model)
            part = add(target, path, fk)
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            target_column = fk.target_field.column
            joins.append(
                f"{kind} {quote(target._meta.db_table)} {part.alias} ON "
                f"{part.alias}.{quote(target_column)} = {parent.alias}.{quote(fk.column)}"
            )
        columns = [f"{p.alias}.{quote(f.column)}" for p in parts for f in p.fields]
        by_column = quote(_field(self.model, self.by).column)
        sql = (
            # Identifiers from the models' metadata, quoted; the value is a parameter.
            f"SELECT {', '.join(columns)} FROM {quote(self.model._meta.db_table)} r0 "  # noqa: S608
            f"{' '.join(joins)} WHERE r0.{by_column} = %s"
        )
        if self.lock_of is not None and connection.features.has_select_for_update:
            sql += " FOR UPDATE"
            if connection.features.has_select_for_update_of:
                locked = [by_path[tuple(p.split("__")) if p else ()].alias for p in self.lock_of]
                sql += " OF " + ", ".join(locked)
        converters = []
        for part in parts:
            for offset, field in enumerate(part.fields):
                expression = field.get_col(part.alias)
                found = tuple(
                    connection.ops.get_db_converters(expression)
                    + field.get_db_converters(connection)
                )
                if found:
                    converters.append((part.start + offset, found, expression))
        compiled = _Compiled(sql, tuple(parts), tuple(converters))
        self._compiled[using] = compiled
        return compiled


class Contended(Exception):
    """A guarded write matched no row: what was read before signing changed since (another
    request consumed it, or its parent was revoked). Not an error of the request: the caller
    decides again under lock, where the answer is certain."""


class GuardedUpdate:
    """``UPDATE`` of one row by primary key, only while every ``unset`` column is still NULL
    (the single-use consumption of a code or refresh token); returns how many rows changed,
    so 0 means another request consumed it first.

    ``live_parent`` (a foreign key and a column of the row it points to) adds: and only while
    that parent's column is NULL too (a refresh token's family not revoked), with the parent
    row share-locked (``FOR SHARE`` in the sub-select) until the transaction ends. A concurrent
    revocation, which locks the family first, therefore either waits for this transaction and
    then sees everything it wrote, or commits first and this UPDATE, re-checking the parent
    after the wait, changes nothing. Where the database has no row locks (SQLite) its single
    writer lock serialises the two instead."""

    def __init__(
        self,
        model: type[Model],
        *,
        assign: Sequence[str],
        unset: Sequence[str],
        live_parent: tuple[str, str] | None = None,
    ):
        self.model, self.assign, self.unset = model, tuple(assign), tuple(unset)
        self.live_parent = live_parent
        self._sql: dict[str, str] = {}

    def run(self, pk: Any, values: Mapping[str, Any], parent_pk: Any = None) -> int:
        using = router.db_for_write(self.model)
        connection = connections[using]
        sql = self._sql.get(using) or self._compile(using)
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params(connection, pk, values, parent_pk))
            return int(cursor.rowcount)

    def params(
        self, connection: Any, pk: Any, values: Mapping[str, Any], parent_pk: Any = None
    ) -> list[Any]:
        params = [
            _field(self.model, name).get_db_prep_save(values[name], connection)
            for name in self.assign
        ]
        params.append(_pk(self.model).get_db_prep_value(pk, connection))
        if self.live_parent is not None:
            if parent_pk is None:
                raise TypeError("parent_pk is required by a live_parent guard")
            parent = _field(self.model, self.live_parent[0]).related_model
            params.append(_pk(parent).get_db_prep_value(parent_pk, connection))
        return params

    def sql(self, using: str) -> str:
        return self._sql.get(using) or self._compile(using)

    def _compile(self, using: str) -> str:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = self.model._meta
        assignments = ", ".join(f"{quote(_field(self.model, n).column)} = %s" for n in self.assign)
        guards = "".join(f" AND {quote(_field(self.model, n).column)} IS NULL" for n in self.unset)
        if self.live_parent is not None:
            fk_name, parent_column = self.live_parent
            fk = _field(self.model, fk_name)
            parent = fk.related_model
            parent_pk = quote(_pk(parent).column)
            lock = _share_lock(connection)
            # Equality with a scalar sub-select rather than ``IN (…)``: the sub-select has no
            # reference to the updated row, so it is planned and run once (PostgreSQL's
            # InitPlan; no row: NULL, which matches nothing), where ``IN`` made the planner
            # weigh a semi-join on every execution: ~40 % more planning for the rotation's
            # statement, ~50 µs of server CPU per rotation (bench/PROFILE.md, fifth pass).
            guards += (
                f" AND {quote(fk.column)} = (SELECT {parent_pk} FROM "  # noqa: S608
                f"{quote(parent._meta.db_table)} WHERE {parent_pk} = %s AND "
                f"{quote(_field(parent, parent_column).column)} IS NULL{lock})"
            )
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
            f"WHERE {quote(_pk(self.model).column)} = %s{guards}"
        )
        self._sql[using] = sql
        return sql


def _share_lock(connection: Any) -> str:
    """The sub-select's lock: shared where the database has one, so concurrent claims of one
    family's tokens never wait for each other (an exclusive lock taken in the sub-select
    before the claimed row's own lock would deadlock against the claim that holds that row);
    only a revocation's exclusive ``FOR UPDATE`` waits for them, and they for it."""
    if not connection.features.has_select_for_update:
        return ""
    return " FOR SHARE" if connection.vendor in ("postgresql", "mysql") else " FOR UPDATE"


class RowInsert:
    """``INSERT`` of one ``model`` row from a mapping of field names to values (a field left
    out takes its model default), like ``bulk_create`` of one object: no ``save()`` signals
    (nothing in this package listens to them for these models), and the primary key is
    returned when ``returning_pk`` (``RETURNING`` where the database has it, else the
    cursor's last row id)."""

    def __init__(self, model: type[Model], *, returning_pk: bool = False) -> None:
        self.model, self.returning_pk = model, returning_pk
        self.fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
        self._sql: dict[str, str] = {}

    def run(self, values: Mapping[str, Any]) -> Any:
        unknown = set(values) - {f.name for f in self.fields} - {f.attname for f in self.fields}
        if unknown:
            raise TypeError(f"{self.model.__name__} has no field(s) {sorted(unknown)}")
        using = router.db_for_write(self.model)
        connection = connections[using]
        sql = self._sql.get(using) or self._compile(using)
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params(connection, values))
            if not self.returning_pk:
                return None
            if connection.features.can_return_columns_from_insert:
                return cursor.fetchone()[0]
            return connection.ops.last_insert_id(
                cursor,
                self.model._meta.db_table,
                _pk(self.model).column,
            )

    def params(self, connection: Any, values: Mapping[str, Any]) -> list[Any]:
        return [
            field.get_db_prep_save(_value_for(field, values), connection) for field in self.fields
        ]

    def save_new(self, instance: Model) -> Model:
        """INSERT an unsaved ``instance`` (its defaults already applied by its constructor)
        and mark it saved, with its new primary key, as ``save()`` would."""
        pk = self.run({f.attname: getattr(instance, f.attname) for f in self.fields})
        if self.returning_pk:
            instance.pk = pk
        instance._state.adding = False
        instance._state.db = router.db_for_write(self.model)
        return instance

    def _compile(self, using: str) -> str:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = self.model._meta
        columns = ", ".join(quote(str(f.column)) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        sql = f"INSERT INTO {quote(str(meta.db_table))} ({columns}) VALUES ({placeholders})"  # noqa: S608
        if self.returning_pk and connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(_pk(self.model).column)}"
        self._sql[using] = sql
        return sql


class ClaimThenInsert:
    """A :class:`GuardedUpdate` and, only when it changed its row, a :class:`RowInsert`, as
    one statement where the database can say so (PostgreSQL's data-modifying ``WITH``): a
    single statement is atomic on its own, so a refresh rotation needs no BEGIN and COMMIT
    around its claim and its successor, two round trips instead of four. Elsewhere (SQLite)
    the two statements run one after the other and the caller holds a transaction.

    Returns how many rows were inserted: 0 means the claim matched nothing and nothing was
    written."""

    def __init__(self, claim: GuardedUpdate, insert: RowInsert) -> None:
        if insert.returning_pk:
            raise TypeError("ClaimThenInsert inserts without returning the primary key")
        self.claim, self.insert = claim, insert
        self._sql: dict[str, str] = {}

    @staticmethod
    def one_statement(using: str | None = None) -> bool:
        """Whether claim and insert are one statement on this database (then they need no
        transaction around them)."""
        return connections[using or "default"].vendor == "postgresql"

    def run(
        self,
        pk: Any,
        values: Mapping[str, Any],
        insert_values: Mapping[str, Any],
        parent_pk: Any = None,
    ) -> int:
        using = router.db_for_write(self.claim.model)
        if not self.one_statement(using):
            if self.claim.run(pk, values, parent_pk) != 1:
                return 0
            self.insert.run(insert_values)
            return 1
        connection = connections[using]
        sql = self._sql.get(using) or self._compile(using)
        params = self.claim.params(connection, pk, values, parent_pk)
        params += self.insert.params(connection, insert_values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)

    def _compile(self, using: str) -> str:
        connection = connections[using]
        quote = connection.ops.quote_name
        insert = self.insert
        columns = ", ".join(quote(str(f.column)) for f in insert.fields)
        # Each parameter cast to its column's type: in a SELECT list PostgreSQL cannot infer
        # it from the target column as it does for VALUES.
        values = ", ".join(f"%s::{_cast_type(f, connection)}" for f in insert.fields)
        sql = (
            f"WITH claimed AS ({self.claim.sql(using)} "  # noqa: S608
            f"RETURNING {quote(_pk(self.claim.model).column)}) "
            f"INSERT INTO {quote(str(insert.model._meta.db_table))} ({columns}) "
            f"SELECT {values} FROM claimed"
        )
        self._sql[using] = sql
        return sql


def _cast_type(field: Any, connection: Any) -> str:
    """The column's type for a cast, without a ``varchar`` length: an explicit cast to
    ``varchar(n)`` would silently truncate, where the INSERT's own assignment refuses an
    over-long value as a VALUES insert does."""
    db_type = str(field.db_type(connection))
    return "varchar" if db_type.startswith("varchar(") else db_type


def _value_for(field: Any, values: Mapping[str, Any]) -> Any:
    if field.attname in values:
        return values[field.attname]
    if field.name in values:
        value = values[field.name]
        return value.pk if isinstance(value, Model) else value
    return field.get_default()
