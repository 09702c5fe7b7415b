"""New rows of several tables written together: on PostgreSQL in one round trip, one transaction.

An action that writes a handful of rows for one event (a public report: the report, its audit
event, its outbox message and the task that delivers it) spends more time in the ORM's per-row
machinery and in round trips (BEGIN, one INSERT each, COMMIT) than the database spends storing the
rows. :func:`insert_together` writes model instances the caller built, with their primary keys
already reserved by :func:`reserve_ids`, as one multi-statement query, which PostgreSQL runs as a
single implicit transaction: all of the rows are stored, or none (an integrity error rolls every
one of them back and is raised as Django's ``IntegrityError``).

The values are the ones ``Model.save(force_insert=True)`` would write, and the same signals are
sent: ``pre_save`` (receivers may still change the instance), then each concrete field's
``pre_save`` (defaults were applied when the instance was made) and ``get_db_prep_save`` (so
encrypted fields are encrypted, JSON is adapted), and ``post_save`` (``created=True``) once every
row is stored. What is skipped is the ORM's per-row query building and a round trip per row.
Differences from saving one by one: every ``pre_save`` is sent before the first row is written,
and outside a transaction ``post_save`` comes after the commit (a receiver that fails then cannot
undo the rows). Models whose rows span tables (multi-table inheritance) and values that are
expressions (``F()``, ``db_default``) are refused with ValueError: save those the usual way.

Other databases (SQLite, the embedded default) have no sequences to reserve keys from:
:func:`reserve_ids` returns None there and callers save the usual way.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, transaction
from django.db.models import Field
from django.db.models.signals import post_save, pre_save

SUPPORTED_VENDOR = "postgresql"

# psycopg, binding parameters client-side, keeps how it splits a query at its placeholders (an LRU
# of 128 queries) only for queries of at most 50 parameters; a report's rows take about 80, and
# splitting them again on every report cost 0.15 ms of its 3.5 ms. The limit is raised for every
# query of this process: the cache stays 128 entries. (tests/test_rows.py checks it takes effect.)
MAX_CACHED_QUERY_PARAMS = 256
try:
    from psycopg import _queries as _psycopg_queries
except ImportError:  # no psycopg: SQLite only
    pass
else:
    if getattr(_psycopg_queries, "MAX_CACHED_STATEMENT_PARAMS", MAX_CACHED_QUERY_PARAMS) < MAX_CACHED_QUERY_PARAMS:
        _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = MAX_CACHED_QUERY_PARAMS


def supported(using: str = "default") -> bool:
    """Whether rows can be written together on this database: PostgreSQL with client-side binding
    of parameters (Django's default; server-side binding takes one statement per query)."""
    connection = connections[using]
    return connection.vendor == SUPPORTED_VENDOR and not connection.settings_dict.get("OPTIONS", {}).get(
        "server_side_binding"
    )


def reserve_ids(
    *model_types: type[models.Model], exists: tuple[str, Sequence[Any]] | None = None, using: str = "default"
) -> list[int] | None:
    """A new primary key for each of the models (their sequences advanced, in one query), or None
    where rows cannot be written together (see :func:`supported`).

    With ``exists``, (a SELECT's SQL, its parameters), the same query also asks whether that finds a
    row: when it does not, the keys are not wanted and :class:`NotFound` is raised (the sequences
    skip a number).
    """
    if not supported(using):
        return None
    select = [f"nextval({_sequence(model, using)})" for model in model_types]
    params: Sequence[Any] = ()
    if exists is not None:
        inner, params = exists
        select.append(f"EXISTS ({inner})")
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(select)}", params)  # noqa: S608 (sequence names from the models)
        row = cursor.fetchone()
    if exists is not None and not row[-1]:
        raise NotFound
    return [int(value) for value in row[: len(model_types)]]


class NotFound(Exception):
    """The ``exists`` queryset of :func:`reserve_ids` found nothing."""


@functools.cache
def _sequence(model: type[models.Model], using: str) -> str:
    """The quoted name of the sequence behind the model's primary key, as a SQL literal."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
        (name,) = cursor.fetchone()
    if not name:
        raise ValueError(f"{model._meta.label}'s primary key has no sequence.")
    return "'" + name.replace("'", "''") + "'::regclass"


@functools.cache
def _insert_sql(model: type[models.Model], using: str, with_pk: bool) -> tuple[str, tuple[Field[object, object], ...]]:
    connection = connections[using]
    quote = connection.ops.quote_name
    if model._meta.parents:
        raise ValueError(f"{model._meta.label} inherits from another model's table: save it the usual way.")
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if (with_pk or not f.primary_key) and not getattr(f, "generated", False)  # GeneratedField: the database's
    )
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})", fields  # noqa: S608


def insert_together(objects: Sequence[models.Model], *, using: str = "default") -> None:
    """Insert the new ``objects`` in one round trip and one transaction. Only where
    :func:`supported`. A row whose key nobody needs yet may leave it unset (the database numbers
    it, and the instance keeps ``pk`` None); the instances are marked saved afterwards."""
    if not supported(using):
        raise ValueError("insert_together needs PostgreSQL with client-side binding.")
    connection = connections[using]
    statements: list[str] = []
    params: list[Any] = []
    for obj in objects:
        pre_save.send(sender=type(obj), instance=obj, raw=False, using=using, update_fields=None)
        with_pk = obj.pk is not None
        if not with_pk and not isinstance(obj._meta.pk, models.AutoField):
            raise ValueError(f"A {obj._meta.label} written with insert_together needs its primary key set.")
        sql, fields = _insert_sql(type(obj), using, with_pk)
        statements.append(sql)
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):  # an expression or db_default: the ORM's to compile
                raise ValueError(f"{obj._meta.label}.{field.name} holds an expression: save it the usual way.")
            params.append(field.get_db_prep_save(value, connection))
    if connection.in_atomic_block:
        # Inside the caller's transaction the statements join it; a savepoint keeps a failure
        # (a unique key taken) from aborting the caller's transaction, as save() in atomic() would.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("; ".join(statements), params)
    else:
        with connection.cursor() as cursor:
            cursor.execute("; ".join(statements), params)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = using
        post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using)
