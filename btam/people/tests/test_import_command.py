"""`manage.py import_oneroster`: the summary table, every error as file:line:column, the exit status."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from btam.orgs.models import District
from btam.people.models import ImportRun, Person
from btam.people.tests.test_import_oneroster import small_bundle_11, write_bundle
from btam.testing import DistrictFactory


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_oneroster", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def district(db: None) -> District:
    return DistrictFactory.create(slug="cedar", name="Cedar Command District (fictitious)")


def test_it_prints_a_summary_per_file_and_says_when_nothing_changed(district: District, tmp_path: Path) -> None:
    path = write_bundle(tmp_path, small_bundle_11())

    out, _err = run_command(str(path))

    lines = out.splitlines()
    assert lines[0].split() == [
        "file", "rows", "created", "updated", "deactivated", "unchanged", "rejected", "not", "in", "file",
    ]  # fmt: skip
    assert lines[2].split()[:8] == ["users.csv", "4", "4", "0", "0", "0", "0", "0"]
    assert "Imported: OneRoster 1.1" in out
    assert Person.objects.filter(district=district).count() == 4

    again, _err = run_command(str(path), "--district", "cedar")

    assert "Nothing changed" in again


def test_errors_are_listed_as_file_line_column_and_the_exit_status_is_1(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["users.csv"] += "s-1,active,,TRUE,sch-n,student,dup,,Dee,Dupe,,S9,,,,,10,\n"
    files["enrollments.csv"] += "e-9,active,,c-1,sch-n,s-2,student,false,2024-02-30,\n"
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"Rejected: 2 error\(s\)") as caught:
        call_command("import_oneroster", str(write_bundle(tmp_path, files)), stdout=out, stderr=err)

    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "users.csv:6:sourcedId: duplicate sourcedId 's-1' (also on an earlier line)",
        "enrollments.csv:6:beginDate: '2024-02-30' is not a date (YYYY-MM-DD)",
    ]
    assert not Person.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.REJECTED


def test_a_dry_run_writes_nothing(district: District, tmp_path: Path) -> None:
    out, _err = run_command(str(write_bundle(tmp_path, small_bundle_11())), "--dry-run")

    assert "dry run, nothing written" in out
    assert not Person.objects.exists()
    assert ImportRun.objects.get().dry_run


def test_it_needs_the_district_when_there_are_several(district: District, tmp_path: Path) -> None:
    DistrictFactory.create()
    path = str(write_bundle(tmp_path, small_bundle_11()))

    with pytest.raises(CommandError, match="--district"):
        run_command(path)
    with pytest.raises(CommandError, match="No district with the short name 'nope'"):
        run_command(path, "--district", "nope")


def test_a_bad_upload_is_a_clear_error_not_a_traceback(district: District, tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"\x89PNG not a roster")
    err = StringIO()

    with pytest.raises(CommandError, match="Rejected: 1 error"):
        call_command("import_oneroster", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().strip() == "bundle: not a zip file or a folder of CSV files"
