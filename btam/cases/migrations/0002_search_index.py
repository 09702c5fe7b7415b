# The full-text index over the cases' search words (keyed hashes, see btam/cases/search.py).
#
# PostgreSQL: a GIN index over to_tsvector('simple', tokens), kept as a stored generated column
# (search_vector, without positions: a search only asks for words) so that a search never parses
# the tokens again: with an expression index, every match is re-parsed when the index leaves the
# choice to a scan (a word found in most cases: 0.6 ms per case, minutes at 200,000 cases).
# The column is the database's own (Django never reads or writes it); the search repeats its name.
# SQLite: an FTS5 table whose content is cases_casesearchdoc (external content: the tokens are
# not stored twice), kept in sync by triggers.
#
# Note for later migrations on SQLite: altering cases_casesearchdoc makes Django rebuild the table,
# which drops these triggers; such a migration must run install_sqlite_fts again (the search tests
# would fail otherwise: they search right after index_case()).

from django.db import migrations

PG_INDEX = "cases_casesearchdoc_vector_gin"
FTS_TABLE = "cases_casesearch_fts"

PG_INSTALL = [
    "ALTER TABLE cases_casesearchdoc ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (strip(to_tsvector('simple'::regconfig, tokens))) STORED",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases_casesearchdoc USING gin (search_vector)",
]
PG_UNINSTALL = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    "ALTER TABLE cases_casesearchdoc DROP COLUMN IF EXISTS search_vector",
]

SQLITE_INSTALL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "tokens, content='cases_casesearchdoc', content_rowid='case_id', tokenize='unicode61')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON cases_casesearchdoc BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (new.case_id, new.tokens); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON cases_casesearchdoc BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, tokens) VALUES ('delete', old.case_id, old.tokens); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE ON cases_casesearchdoc BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, tokens) VALUES ('delete', old.case_id, old.tokens); "
    f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (new.case_id, new.tokens); END",
    # Rows written before this migration (none on a new database).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def install_sqlite_fts(schema_editor):
    _run(schema_editor, SQLITE_INSTALL)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_INSTALL)
    elif vendor == "sqlite":
        install_sqlite_fts(schema_editor)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_UNINSTALL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
