"""Person search: an index for username lookups and, on PostgreSQL only, a trigram index on
``search_name`` (pg_trgm) for word-prefix and typo-tolerant name search. SQLite skips the latter."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

TRIGRAM_INDEX = "people_person_search_name_trgm"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON people_person USING gin (search_name gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_importrun_progress_at_person_account"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["district", "username"], name="people_pers_distric_013f10_idx"),
        ),
        # CREATE EXTENSION pg_trgm (a no-op on other databases; pg_trgm is a trusted extension, so the
        # database owner may create it without superuser rights).
        TrigramExtension(),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
