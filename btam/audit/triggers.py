"""The append-only triggers (installed by migration 0002): which are present, and suspending them.

Suspending is for tests only (emptying the test database between tests, and tampering with the
trail on purpose to show that ``verify_audit`` notices). Production code never calls it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

TABLES = ("audit_auditevent", "audit_chainhead")

EXPECTED = {
    "sqlite": frozenset(
        {
            "audit_event_refuse_delete",
            "audit_event_refuse_update",
            "audit_chainhead_refuse_delete",
            "audit_chainhead_refuse_rewind",
        }
    ),
    "postgresql": frozenset(
        {
            "audit_event_refuse_update",
            "audit_event_refuse_delete",
            "audit_event_refuse_truncate",
            "audit_chainhead_refuse_rewind",
            "audit_chainhead_refuse_delete",
            "audit_chainhead_refuse_truncate",
        }
    ),
}


def installed(using: str = DEFAULT_DB_ALIAS) -> frozenset[str]:
    """Names of the enabled triggers on the audit tables."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgrelid IN ('audit_auditevent'::regclass, 'audit_chainhead'::regclass)"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
        return frozenset(row[0] for row in cursor.fetchall())


def missing(using: str = DEFAULT_DB_ALIAS) -> frozenset[str]:
    """Expected triggers that are absent or disabled (empty when the trail is protected)."""
    return EXPECTED.get(connections[using].vendor, frozenset()) - installed(using)


@contextmanager
def suspended(using: str = DEFAULT_DB_ALIAS, tables: tuple[str, ...] = TABLES) -> Iterator[None]:
    """Run the block with the triggers off, in one transaction: other connections never see them off.

    PostgreSQL disables them (ALTER TABLE holds its lock until commit); SQLite drops them and
    creates them again from their stored definitions.
    """
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            yield
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            return
        placeholders = ", ".join(["%s"] * len(tables))
        cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders})",  # noqa: S608
            list(tables),
        )
        definitions = cursor.fetchall()
        for name, _sql in definitions:
            cursor.execute(f'DROP TRIGGER "{name}"')
        yield
        for _name, sql in definitions:
            cursor.execute(sql)
