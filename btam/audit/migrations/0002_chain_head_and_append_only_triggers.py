"""The chain head (one row, locked by the sealer) and the triggers that make the trail append-only.

The database refuses DELETE (and TRUNCATE on PostgreSQL) of audit events, and every UPDATE except
the one-time seal: an unsealed event (seq IS NULL) may get its seq, prev_hash and hash set once,
with every other column unchanged. The chain head may only move forward and is never deleted.

The SQL is written out here, not imported, so that this migration keeps doing what it did when it
was applied. A later migration that rebuilds audit_auditevent on SQLite (which drops a table's
triggers) must create them again: btam/audit/tests/test_triggers.py checks that they exist.
"""

from django.db import migrations, models

# Every column of audit_auditevent except the seal (seq, prev_hash, hash). SQLite has no row
# comparison helper, so an unchanged row is spelled out column by column (IS: NULL-safe equality).
CONTENT_COLUMNS = [
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "actor_email",
    "district_id",
    "verb",
    "target_type",
    "target_id",
    "reason",
    "before",
    "after",
    "detail",
    "ip_address",
    "request_id",
]
_UNCHANGED = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in CONTENT_COLUMNS)

SQLITE_INSTALL = [
    """
    CREATE TRIGGER audit_event_refuse_delete BEFORE DELETE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused');
    END
    """,
    f"""
    CREATE TRIGGER audit_event_refuse_update BEFORE UPDATE ON audit_auditevent
    WHEN NOT (
        OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash <> '' AND NEW.hash <> ''
        AND {_UNCHANGED}
    )
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused (only the one-time seal is allowed)');
    END
    """,
    """
    CREATE TRIGGER audit_chainhead_refuse_delete BEFORE DELETE ON audit_chainhead
    BEGIN
        SELECT RAISE(ABORT, 'the audit chain head is append-only: DELETE refused');
    END
    """,
    """
    CREATE TRIGGER audit_chainhead_refuse_rewind BEFORE UPDATE ON audit_chainhead
    WHEN NEW.id IS NOT OLD.id OR NEW.last_seq < OLD.last_seq
    BEGIN
        SELECT RAISE(ABORT, 'the audit chain head only moves forward: UPDATE refused');
    END
    """,
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_event_refuse_delete",
    "DROP TRIGGER IF EXISTS audit_event_refuse_update",
    "DROP TRIGGER IF EXISTS audit_chainhead_refuse_delete",
    "DROP TRIGGER IF EXISTS audit_chainhead_refuse_rewind",
]

# The errors use SQLSTATE 23000 (integrity constraint violation), so that Django raises
# IntegrityError on both databases.
POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash <> '' AND NEW.hash <> ''
               AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash')
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit events are append-only: UPDATE refused (only the one-time seal is allowed)'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION audit_chainhead_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.id = OLD.id AND NEW.last_seq >= OLD.last_seq THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'the audit chain head only moves forward: UPDATE refused'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION 'the audit chain head is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_refuse_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_refuse_delete BEFORE DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_refuse_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_chainhead_refuse_rewind BEFORE UPDATE ON audit_chainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chainhead_forward_only()
    """,
    """
    CREATE TRIGGER audit_chainhead_refuse_delete BEFORE DELETE ON audit_chainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chainhead_forward_only()
    """,
    """
    CREATE TRIGGER audit_chainhead_refuse_truncate BEFORE TRUNCATE ON audit_chainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chainhead_forward_only()
    """,
]
POSTGRES_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_event_refuse_update ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_refuse_delete ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_refuse_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_chainhead_refuse_rewind ON audit_chainhead",
    "DROP TRIGGER IF EXISTS audit_chainhead_refuse_delete ON audit_chainhead",
    "DROP TRIGGER IF EXISTS audit_chainhead_refuse_truncate ON audit_chainhead",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
    "DROP FUNCTION IF EXISTS audit_chainhead_forward_only()",
]

_STATEMENTS = {
    "sqlite": (SQLITE_INSTALL, SQLITE_UNINSTALL),
    "postgresql": (POSTGRES_INSTALL, POSTGRES_UNINSTALL),
}


def _run(schema_editor, install: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in _STATEMENTS:
        raise NotImplementedError(f"No append-only triggers for the {vendor} database: use PostgreSQL or SQLite.")
    for statement in _STATEMENTS[vendor][0 if install else 1]:
        schema_editor.execute(statement, params=None)


def install_triggers(apps, schema_editor) -> None:
    _run(schema_editor, install=True)


def uninstall_triggers(apps, schema_editor) -> None:
    _run(schema_editor, install=False)


def create_chain_head(apps, schema_editor) -> None:
    ChainHead = apps.get_model("audit", "ChainHead")
    ChainHead.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(blank=True, max_length=64)),
                ("sealed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "audit chain head",
            },
        ),
        migrations.RunPython(create_chain_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
