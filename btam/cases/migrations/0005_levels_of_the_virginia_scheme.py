"""Levels recorded before level schemes existed were the Virginia scheme's (the only one then): give
them their scheme and rank, and a first row in the case's level history, so that they read, sort and
chart like levels decided since."""

from django.db import migrations

VIRGINIA = {"low": 0, "moderate": 1, "high": 2, "imminent": 3}


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    LevelChange = apps.get_model("assessments", "LevelChange")
    legacy = Case.objects.filter(risk_scheme="").exclude(risk_level="")
    for case in legacy.iterator():
        rank = VIRGINIA.get(case.risk_level)
        if rank is None:
            continue
        Case.objects.filter(pk=case.pk).update(risk_scheme="virginia", risk_rank=rank)
        if case.risk_set_at and case.risk_set_by_id and not LevelChange.objects.filter(case_id=case.pk).exists():
            LevelChange.objects.create(
                case_id=case.pk,
                scheme_id="virginia",
                scheme_version=1,
                level=case.risk_level,
                rank=rank,
                set_by_id=case.risk_set_by_id,
                set_at=case.risk_set_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_reassess_due_on_case_risk_rank_case_risk_scheme_and_more"),
        ("assessments", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
