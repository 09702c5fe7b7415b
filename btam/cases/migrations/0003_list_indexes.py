# Covering index for the case list on PostgreSQL (bench/cases.py, 200,000 cases).
#
# The list counts the open cases a user may see and picks a page of ids in order of last
# activity; both read status, restricted and manager_id besides the district and the order. With
# these columns in the index, PostgreSQL answers from the index alone (an index-only scan):
# otherwise counting the first 10,000 open cases (the list's limit) read 10,000 case rows, and
# page 200 read the 5,000 rows it skips.
#
# A PostgreSQL-only feature (INCLUDE); SQLite needs no such index at its scale. Django's state
# does not know this index (no model change): it is the database's own, like the search index of
# 0002.

from django.db import migrations

PG_INSTALL = [
    "CREATE INDEX IF NOT EXISTS case_list_recent_cover_idx ON cases_case "
    "(district_id, updated_at DESC, id DESC) INCLUDE (status, restricted, manager_id)",
]
PG_UNINSTALL = ["DROP INDEX IF EXISTS case_list_recent_cover_idx"]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_INSTALL:
            schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_UNINSTALL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_search_index"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
