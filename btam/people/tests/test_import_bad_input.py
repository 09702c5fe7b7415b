"""Bad bundles: a clear error naming the place, nothing imported, never an exception."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from btam.audit.models import AuditEvent
from btam.orgs.models import District
from btam.people.importers import base, format_issue
from btam.people.models import ImportRun
from btam.people.tests.test_import_oneroster import (
    ENROLLMENTS,
    USERS_11,
    counts,
    do_import,
    manifest,
    small_bundle_11,
    write_bundle,
)
from btam.testing import DistrictFactory


@pytest.fixture
def district(db: None) -> District:
    return DistrictFactory.create(name="Bad Input Test District (fictitious)")


def rejected(district: District, path: Path) -> ImportRun:
    """Import ``path`` and check that it was rejected with nothing imported."""
    before = counts(district)
    run = do_import(district, path)
    assert run.status == ImportRun.Status.REJECTED, run.summary
    assert run.errors
    assert counts(district) == before
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REJECTED
    return run


def places(run: ImportRun) -> list[tuple[str, int, str]]:
    return [(e["file"], e["line"], e["column"]) for e in run.errors]


def test_a_missing_required_column_is_named(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["users.csv"] = files["users.csv"].replace(",givenName,", ",firstName,", 1)

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 1, "givenName")]
    assert run.errors[0]["reason"] == "required column missing"


def test_a_duplicate_sourced_id_names_the_line(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["users.csv"] += "s-1,active,2024-05-01,TRUE,sch-n,student,dup,,Dee,Dupe,,S9,,,,,10,\n"

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 6, "sourcedId")]
    assert "duplicate sourcedId 's-1'" in run.errors[0]["reason"]
    assert run.summary["users.csv"]["rejected"] == 1


def test_bad_dates_are_listed_every_one(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["enrollments.csv"] = (
        ENROLLMENTS
        + "e-1,active,2024-05-01,c-1,sch-n,t-1,teacher,true,2024-13-01,\n"
        + "e-2,active,yesterday,c-1,sch-n,s-1,student,false,2024-08-20,20/06/2025\n"
        + "e-3,active,2024-05-01,c-1,sch-n,s-2,student,false,2024-08-20,2024-08-01\n"
    )

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [
        ("enrollments.csv", 2, "beginDate"),
        ("enrollments.csv", 3, "dateLastModified"),
        ("enrollments.csv", 3, "endDate"),
        ("enrollments.csv", 4, "endDate"),
    ]
    assert format_issue(run.errors[0]) == "enrollments.csv:2:beginDate: '2024-13-01' is not a date (YYYY-MM-DD)"
    assert run.summary["enrollments.csv"]["rejected"] == 3


def test_an_unknown_org_and_an_unknown_user_are_errors(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["enrollments.csv"] += "e-8,active,2024-05-01,c-1,sch-x,s-1,student,false,,\n"
    files["enrollments.csv"] += "e-9,active,2024-05-01,c-1,sch-n,s-404,student,false,,\n"
    files["users.csv"] = files["users.csv"].replace("t-1,active,2024-05-01,TRUE,sch-n,", "t-1,active,,TRUE,sch-q,")

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [
        ("users.csv", 2, "orgSourcedIds"),
        ("enrollments.csv", 6, "schoolSourcedId"),
        ("enrollments.csv", 7, "userSourcedId"),
    ]
    assert "unknown org 'sch-x'" in run.errors[1]["reason"]
    assert "unknown user 's-404'" in run.errors[2]["reason"]


def test_a_missing_parent_org_is_only_a_warning(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["orgs.csv"] = files["orgs.csv"].replace(
        "dep-sci,active,2024-05-01,Science,department,,sch-n", "dep-sci,active,2024-05-01,Science,department,,gone"
    )

    run = do_import(district, write_bundle(tmp_path, files))

    assert run.status == ImportRun.Status.SUCCEEDED
    assert ("orgs.csv", 5, "parentSourcedId") in [(w["file"], w["line"], w["column"]) for w in run.warnings]


def test_bad_vocabulary_and_blank_required_values(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["users.csv"] += "s-7,deleted,2024-05-01,TRUE,sch-n,wizard,w,,,Merlin,,S7,,,,,,\n"

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 6, "status"), ("users.csv", 6, "givenName"), ("users.csv", 6, "role")]


def test_a_delta_row_needs_a_status_and_a_date(district: District, tmp_path: Path) -> None:
    files = {
        "manifest.csv": manifest("1.1", users="delta"),
        "users.csv": USERS_11 + "s-1,,,TRUE,,student,ess,,Sam,Student,,S1,,,,,10,\n",
    }

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 2, "status"), ("users.csv", 2, "dateLastModified")]


def test_a_file_the_manifest_lists_must_be_there(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    del files["enrollments.csv"]

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("enrollments.csv", 0, "")]


def test_an_unsupported_version_is_refused(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["manifest.csv"] = files["manifest.csv"].replace("oneroster.version,1.1", "oneroster.version,2.0")

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("manifest.csv", 3, "value")]


def test_a_non_csv_file_in_the_bundle_is_refused(district: District, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**small_bundle_11(), "report.pdf": b"%PDF-1.4 binary"}

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("report.pdf", 0, "")]
    assert "not a CSV file" in run.errors[0]["reason"]


def test_binary_data_named_csv_is_refused(district: District, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**small_bundle_11(), "users.csv": USERS_11.encode() + b"\x00\x01\x02PK\x03\x04"}

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run)[0][:2] == ("users.csv", 2)


def test_invalid_utf8_names_the_file_line_and_column(district: District, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**small_bundle_11()}
    text = files["users.csv"]
    assert isinstance(text, str)
    files["users.csv"] = text.replace("Ana,Núñez", "Ana,N\udcfa\udcf1ez").encode("utf-8", "surrogateescape")

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 4, "familyName")]
    assert "UTF-8" in run.errors[0]["reason"]


def test_a_file_that_is_not_a_zip_is_refused(district: District, tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"this is not a zip at all" * 100)

    run = rejected(district, path)

    assert run.errors[0]["reason"] == "not a zip file or a folder of CSV files"


def test_a_zip_bomb_is_refused_before_reading(district: District, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for name, text in small_bundle_11().items():
            bundle.writestr(name, text)
        with bundle.open("classes.csv", "w") as member:
            chunk = b"0" * (1 << 20)
            for _ in range(50):
                member.write(chunk)

    run = rejected(district, path)

    assert places(run) == [("classes.csv", 0, "")]
    assert "zip bomb" in run.errors[0]["reason"]


def test_a_zip_that_lies_about_its_sizes_is_refused(district: District, tmp_path: Path) -> None:
    path = write_bundle(tmp_path, small_bundle_11())
    data = bytearray(path.read_bytes())
    # Declare users.csv smaller than it is, in both the local and the central header.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + 9] == b"users.csv":
                struct.pack_into("<I", data, start + offset, 10)
            start += 4
    path.write_bytes(bytes(data))

    run = rejected(district, path)

    assert run.errors[0]["file"] == "users.csv"


def test_a_2gb_upload_is_refused_without_reading_it(district: District, tmp_path: Path) -> None:
    path = tmp_path / "huge.zip"
    with path.open("wb") as sparse:
        sparse.truncate(2 * 1024**3)  # a sparse file: 2 GB on paper, nothing on disk

    run = rejected(district, path)

    assert run.errors[0]["reason"] == "the file is 2.0 GB; the limit is 1.0 GB"


def test_too_much_uncompressed_data_is_refused(
    district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_UNCOMPRESSED_BYTES", 500)

    run = rejected(district, write_bundle(tmp_path, small_bundle_11()))

    assert "the limit is" in run.errors[0]["reason"]


def test_unsafe_paths_and_too_many_members_are_refused(district: District, tmp_path: Path) -> None:
    evil = write_bundle(tmp_path / "a", {**small_bundle_11(), "../../etc/users.csv": "x"})
    assert "unsafe path" in rejected(district, evil).errors[0]["reason"]

    crowd = write_bundle(tmp_path / "b", {f"f{i}.csv": "sourcedId\n" for i in range(base.MAX_MEMBERS + 1)})
    assert "the limit is 100" in rejected(district, crowd).errors[0]["reason"]


def test_a_line_past_the_limit_is_refused(district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MAX_LINE_CHARS", 200)
    files = small_bundle_11()
    files["users.csv"] += "s-9,active,,TRUE,sch-n,student," + "x" * 500 + ",,A,B,,,,,,,,\n"

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 6, "")]


def test_an_empty_file_and_a_short_row_are_errors(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["orgs.csv"] = ""
    files["users.csv"] += "s-9,active,,TRUE\n"

    run = rejected(district, write_bundle(tmp_path, files))

    assert ("orgs.csv", 1, "") in places(run)
    assert ("users.csv", 6, "") in places(run)


def test_a_missing_path_is_an_error(district: District, tmp_path: Path) -> None:
    run = rejected(district, tmp_path / "nowhere.zip")

    assert run.errors[0]["reason"] == "no such file or folder"


def test_a_rejection_is_audited_with_the_error_count(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    files["users.csv"] += "s-1,active,,TRUE,sch-n,student,dup,,Dee,Dupe,,S9,,,,,10,\n"

    run = rejected(district, write_bundle(tmp_path, files))

    event = AuditEvent.objects.get(target_type="people.importrun", target_id=str(run.pk))
    assert event.reason == "roster import rejected"
    assert event.detail["errors"] == 1
    assert event.detail["status"] == "rejected"


def test_errors_past_the_cap_are_counted(district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MAX_ERRORS", 3)
    files = small_bundle_11()
    files["users.csv"] += "".join(f"x-{i},bad,,TRUE,sch-n,student,u,,A,B,,,,,,,,\n" for i in range(10))

    run = rejected(district, write_bundle(tmp_path, files))

    assert len(run.errors) == 4
    assert run.errors[-1]["reason"] == "... and 7 more not listed"


def test_invalid_utf8_far_into_a_large_file_is_placed_exactly(district: District, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**small_bundle_11()}
    rows = "".join(f"x-{i},active,,TRUE,sch-n,student,u{i},,Al,Bo,,,,,,,,\n" for i in range(2000))
    files["users.csv"] = (
        str(files["users.csv"]) + rows
    ).encode() + b"x-bad,active,,TRUE,sch-n,student,u,,A\xff,B,,,,,,,,\n"

    run = rejected(district, write_bundle(tmp_path, files))

    assert places(run) == [("users.csv", 2006, "givenName")]
