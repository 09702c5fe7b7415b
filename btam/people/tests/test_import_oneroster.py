"""OneRoster import: the public conformance bundles, idempotence, deltas, demographics, messy files."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District, School
from btam.people.importers import detect_format, run_import
from btam.people.models import Demographics, Enrollment, GuardianLink, ImportRun, Person, SourceOrg
from btam.testing import DistrictFactory

CONFORMANCE = Path(settings.BASE_DIR).parent / "shared" / "conformance" / "oneroster"
needs_conformance = pytest.mark.skipif(
    not CONFORMANCE.is_dir(), reason=f"the public OneRoster sample bundles are not at {CONFORMANCE}"
)

MANIFEST_11 = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
MANIFEST_12 = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
)
USERS_12 = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,"
    "email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,"
    "preferredFamilyName,primaryOrgSourcedId,pronouns\n"
)
ENROLLMENTS = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n"
)
ROLES = (
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId\n"
)
DEMOGRAPHICS = (
    "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
    "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,"
    "countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus\n"
)


def manifest(version: str = "1.1", **modes: str) -> str:
    text = MANIFEST_11 if version == "1.1" else MANIFEST_12
    return text + "".join(f"file.{name},{mode}\n" for name, mode in modes.items())


def small_bundle_11(mode: str = "bulk") -> dict[str, str]:
    """Two schools, a department, a teacher, two students (one with a transfer), a parent."""
    return {
        "manifest.csv": manifest("1.1", orgs=mode, users=mode, enrollments=mode, demographics="absent"),
        "orgs.csv": ORGS
        + "dist-1,active,2024-05-01,Fictitious District,district,,\n"
        + "sch-n,active,2024-05-01,North Fictitious High,school,NCES-1,dist-1\n"
        + "sch-s,active,2024-05-01,South Fictitious Middle,school,,dist-1\n"
        + "dep-sci,active,2024-05-01,Science,department,,sch-n\n",
        "users.csv": USERS_11
        + "t-1,active,2024-05-01,TRUE,sch-n,teacher,tee,,Tara,Teach,,T1,tara@example.org,,,,,secret-pass\n"
        + "s-1,active,2024-05-01,TRUE,sch-n,student,ess,{LDAP:12},Sam,Student,,S1,,,,p-1,10,\n"
        + "s-2,active,2024-05-01,TRUE,sch-s,student,ess2,,Ana,Núñez,,S2,,,,,07,\n"
        + "p-1,active,2024-05-01,TRUE,sch-n,parent,pea,,Pat,Student,,P1,,,,s-1,,\n",
        "enrollments.csv": ENROLLMENTS
        + "e-1,active,2024-05-01,c-1,sch-n,t-1,teacher,true,2024-08-20,\n"
        + "e-2,active,2024-05-01,c-1,sch-n,s-1,student,false,2024-08-20,\n"
        + "e-3,active,2024-05-01,c-2,sch-s,s-2,student,false,2023-08-20,2024-01-10\n"
        + "e-4,active,2024-05-01,c-1,dep-sci,s-2,student,false,2024-01-11,\n",
    }


def write_bundle(folder: Path, files: Mapping[str, str | bytes], *, as_zip: bool = True, name: str = "bundle") -> Path:
    """A zip (or a folder) holding exactly these files, byte for byte."""
    folder.mkdir(parents=True, exist_ok=True)
    if as_zip:
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for member, content in files.items():
                bundle.writestr(member, content.encode("utf-8") if isinstance(content, str) else content)
        return path
    path = folder / name
    path.mkdir()
    for member, content in files.items():
        (path / member).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def do_import(district: District, path: Path, **kwargs: Any) -> ImportRun:
    run = ImportRun.objects.create(district=district, dry_run=kwargs.pop("dry_run", False))
    return run_import(run, path, actor=None, **kwargs)


def counts(district: District) -> dict[str, int]:
    return {
        "people": Person.objects.filter(district=district).count(),
        "enrollments": Enrollment.objects.filter(district=district).count(),
        "orgs": SourceOrg.objects.filter(district=district).count(),
        "schools": School.objects.filter(district=district).count(),
        "links": GuardianLink.objects.filter(district=district).count(),
        "demographics": Demographics.objects.filter(district=district).count(),
    }


def snapshot(district: District) -> list[tuple[Any, ...]]:
    """Every imported row, as stored, to prove that a re-import changed nothing."""
    rows: list[tuple[Any, ...]] = []
    for model in (Person, Enrollment, SourceOrg, GuardianLink, Demographics, School):
        rows.extend(tuple(r.values()) for r in model.objects.filter(district=district).order_by("pk").values())
    return rows


def file_counts(run: ImportRun, name: str) -> dict[str, int]:
    keys = ("created", "updated", "deactivated", "unchanged", "rejected")
    return {k: run.summary[name][k] for k in keys}


def ok(**kw: int) -> dict[str, int]:
    return {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0, "rejected": 0, **kw}


@pytest.fixture
def district(db: None) -> District:
    return DistrictFactory.create(name="Import Test District (fictitious)")


# The public conformance bundles ----------------------------------------------------------------------


@needs_conformance
def test_full_conformance_bundle_imports_with_exact_counts(district: District) -> None:
    run = do_import(district, CONFORMANCE / "Test_full_data_set.zip")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.source_version == "1.1"
    assert file_counts(run, "orgs.csv") == ok(created=1)
    assert file_counts(run, "users.csv") == ok(created=6)
    assert file_counts(run, "enrollments.csv") == ok(created=6)
    assert file_counts(run, "users.csv (guardian links)") == ok(created=1)
    assert run.summary["academicSessions.csv"]["rows"] == 5
    assert run.summary["classes.csv"]["rows"] == 2
    assert counts(district) == {
        "people": 6, "enrollments": 6, "orgs": 1, "schools": 0, "links": 1, "demographics": 0,
    }  # fmt: skip
    people = {p.source_id: p for p in Person.objects.filter(district=district)}
    kinds = sorted((sid, p.kind) for sid, p in people.items())
    assert kinds == [
        ("usr-222-123456", "staff"),
        ("usr-222-1234561", "guardian"),
        ("usr-222-1234561232", "student"),
        ("usr-222-567891", "student"),
        ("usr-222-66778899", "student"),  # blank status in a bulk file: active
        ("usr-222-987654", "staff"),
    ]
    assert people["usr-222-66778899"].status == "active"
    thomas = people["usr-222-1234561"]
    assert thomas.other_ids == [{"type": "LDAP", "id": "12"}, {"type": "LTI", "id": "15"}, {"type": "Fed", "id": "23"}]
    assert thomas.local_id == "thomas.joness"
    assert thomas.search_name == "thomas paul jones"
    link = GuardianLink.objects.get(district=district)
    assert (link.guardian.source_id, link.student.source_id, link.relationship) == (
        "usr-222-1234561",
        "usr-222-66778899",
        "parent",
    )
    # The only org is a department whose parent is missing: kept, without a school (warnings).
    org = SourceOrg.objects.get(district=district)
    assert (org.type, org.parent_source_id, org.school_id) == ("department", "org-sch-222-3456", None)
    warnings = {(w["file"], w["column"]) for w in run.warnings}
    assert ("orgs.csv", "parentSourcedId") in warnings
    assert ("academicSessions.csv", "status") in warnings  # 'inactive' read as tobedeleted
    enrollments = Enrollment.objects.filter(district=district)
    assert {e.org_source_id for e in enrollments} == {"org-sch-222-456"}
    assert all(e.school_id is None for e in enrollments)
    assert all(e.status == "inactive" for e in enrollments)  # ended 2022-06-15
    assert sorted(e.role for e in enrollments) == ["student"] * 4 + ["teacher"] * 2
    assert not Person.objects.filter(district=district, email__contains="Password").exists()
    assert "Password1-" not in str(snapshot(district))


@needs_conformance
def test_minimal_conformance_bundle_with_blank_statuses_and_dates(district: District) -> None:
    run = do_import(district, CONFORMANCE / "Test_minimal_data_set.zip")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert file_counts(run, "users.csv") == ok(created=6)
    assert file_counts(run, "enrollments.csv") == ok(created=6)
    assert counts(district)["links"] == 0
    assert Person.objects.get(district=district, source_id="usr-222-123456").local_id == "jogn.doe"
    assert set(Enrollment.objects.filter(district=district).values_list("status", flat=True)) == {"active"}
    assert set(Enrollment.objects.values_list("begin_date", flat=True)) == {None}


@needs_conformance
def test_delta_12_conformance_bundle(district: District) -> None:
    run = do_import(district, CONFORMANCE / "oneroster_test_data.zip")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.source_version == "1.2"
    assert file_counts(run, "orgs.csv") == ok(created=1)
    assert run.summary["orgs.csv"]["schools_created"] == 1
    assert "not_in_file" not in run.summary["orgs.csv"]  # delta: says nothing about other rows
    assert file_counts(run, "users.csv") == ok(created=1)
    assert file_counts(run, "demographics.csv") == ok(created=1)
    assert file_counts(run, "enrollments.csv") == ok(created=1)
    for name in ("academicSessions.csv", "classes.csv", "courses.csv", "userProfiles.csv", "roles.csv"):
        assert run.summary[name]["rows"] == 1
    school = School.objects.get(district=district)
    assert (school.name, school.slug, school.source_id, school.level) == (
        "Gotham High School",
        "gotham-high-school",
        "ORG_1",
        "high",
    )
    bruce = Person.objects.get(district=district)
    assert (bruce.kind, bruce.source_role, bruce.given_name, bruce.local_id) == (
        "student",
        "student",  # from roles.csv: 1.2 users.csv has no role
        "Bruce",
        "bruce.wayne",
    )
    assert bruce.birth_date == dt.date(2010, 4, 17)
    assert bruce.source_modified == dt.datetime(2023, 10, 2, tzinfo=dt.UTC)
    assert not Demographics.objects.exists()  # the district does not store demographics
    enrollment = Enrollment.objects.get(district=district)
    assert (enrollment.school_id, enrollment.person_id, enrollment.status) == (school.pk, bruce.pk, "active")
    assert "Batman" not in str(snapshot(district))  # passwords are never stored


@needs_conformance
@pytest.mark.parametrize("bundle", ["Test_full_data_set.zip", "Test_minimal_data_set.zip", "oneroster_test_data.zip"])
def test_the_same_conformance_bundle_twice_changes_nothing(district: District, bundle: str) -> None:
    first = do_import(district, CONFORMANCE / bundle)
    before = snapshot(district)

    second = do_import(district, CONFORMANCE / bundle)

    assert second.status == ImportRun.Status.SUCCEEDED
    assert snapshot(district) == before
    for name, summary in second.summary.items():
        assert summary["created"] == summary["updated"] == summary["deactivated"] == 0, name
        assert summary["unchanged"] == first.summary[name]["created"], name


# Behaviour, on our own fixtures ------------------------------------------------------------------------


def test_it_imports_schools_departments_transfers_and_guardians(district: District, tmp_path: Path) -> None:
    run = do_import(district, write_bundle(tmp_path, small_bundle_11()))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.summary["orgs.csv"]["schools_created"] == 2
    north = School.objects.get(district=district, source_id="sch-n")
    assert (north.name, north.identifier, north.level) == ("North Fictitious High", "NCES-1", "high")
    assert School.objects.get(district=district, source_id="sch-s").level == "middle"
    assert SourceOrg.objects.get(source_id="dep-sci").school == north  # a department maps to its parent school
    assert SourceOrg.objects.get(source_id="dist-1").school is None
    ana = Person.objects.get(source_id="s-2")
    history = list(ana.enrollments.order_by("begin_date").values_list("school__source_id", "status", "end_date"))
    assert history == [("sch-s", "inactive", dt.date(2024, 1, 10)), ("sch-n", "active", None)]
    assert ana.search_name == "ana nunez"
    assert GuardianLink.objects.filter(guardian__source_id="p-1", student__source_id="s-1").count() == 1
    assert Person.objects.get(source_id="s-1").other_ids == [{"type": "LDAP", "id": "12"}]
    assert "secret-pass" not in str(snapshot(district))


def test_a_folder_works_like_a_zip(district: District, tmp_path: Path) -> None:
    run = do_import(district, write_bundle(tmp_path, small_bundle_11(), as_zip=False))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert counts(district)["people"] == 4


def test_a_zip_with_its_files_in_one_folder_is_read(district: District, tmp_path: Path) -> None:
    files = {f"export-2024/{name}": text for name, text in small_bundle_11().items()}
    run = do_import(district, write_bundle(tmp_path, files))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert counts(district)["people"] == 4


def test_a_second_import_of_the_same_bundle_reports_everything_unchanged(district: District, tmp_path: Path) -> None:
    path = write_bundle(tmp_path, small_bundle_11())
    do_import(district, path)
    before = snapshot(district)

    run = do_import(district, path)

    assert snapshot(district) == before
    assert file_counts(run, "users.csv") == ok(unchanged=4)
    assert file_counts(run, "enrollments.csv") == ok(unchanged=4)
    assert file_counts(run, "orgs.csv") == ok(unchanged=4)
    assert file_counts(run, "users.csv (guardian links)") == ok(unchanged=1)
    assert run.summary["orgs.csv"]["schools_created"] == 0


def test_a_changed_row_is_updated_and_the_rest_unchanged(district: District, tmp_path: Path) -> None:
    files = small_bundle_11()
    do_import(district, write_bundle(tmp_path / "a", files))
    files["users.csv"] = files["users.csv"].replace("Sam,Student", "Samuel,Student")

    run = do_import(district, write_bundle(tmp_path / "b", files))

    assert file_counts(run, "users.csv") == ok(updated=1, unchanged=3)
    sam = Person.objects.get(source_id="s-1")
    assert (sam.given_name, sam.search_name) == ("Samuel", "samuel student")


def test_a_delta_tobedeleted_deactivates_and_keeps_the_rest(district: District, tmp_path: Path) -> None:
    do_import(district, write_bundle(tmp_path / "bulk", small_bundle_11()))
    delta = {
        "manifest.csv": manifest("1.1", users="delta", enrollments="delta"),
        "users.csv": USERS_11 + "s-1,tobedeleted,2024-06-01T10:00:00Z,TRUE,sch-n,student,ess,,Sam,Student,,S1,,,,,,\n",
        "enrollments.csv": ENROLLMENTS
        + "e-2,tobedeleted,2024-06-01T10:00:00Z,c-1,sch-n,s-1,student,false,2024-08-20,\n"
        + "e-9,active,2024-06-01T10:00:00Z,c-3,sch-s,t-1,teacher,false,2024-06-01,\n",  # t-1 only in the database
    }

    run = do_import(district, write_bundle(tmp_path / "delta", delta))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert file_counts(run, "users.csv") == ok(deactivated=1)
    assert file_counts(run, "enrollments.csv") == ok(deactivated=1, created=1)
    assert Person.objects.get(source_id="s-1").status == "inactive"
    assert Person.objects.get(source_id="s-2").status == "active"
    assert Enrollment.objects.get(source_id="e-2").status == "inactive"
    assert Enrollment.objects.get(source_id="e-9").person == Person.objects.get(source_id="t-1")
    # Sam is tobedeleted: his guardian link goes inactive with him (it is kept, as history).
    assert GuardianLink.objects.get(student__source_id="s-1").status == "inactive"
    again = do_import(district, write_bundle(tmp_path / "delta2", delta))
    assert file_counts(again, "users.csv") == ok(unchanged=1)


def test_a_bulk_file_keeps_rows_it_leaves_out_and_says_how_many(district: District, tmp_path: Path) -> None:
    do_import(district, write_bundle(tmp_path / "a", small_bundle_11()))
    files = small_bundle_11()
    files["users.csv"] = (
        "\n".join(line for line in files["users.csv"].splitlines() if not line.startswith("p-1")) + "\n"
    )
    files["users.csv"] = files["users.csv"].replace(",p-1,10,", ",,10,")

    run = do_import(district, write_bundle(tmp_path / "b", files))

    assert run.summary["users.csv"]["not_in_file"] == 1
    assert Person.objects.get(source_id="p-1").status == "active"
    assert GuardianLink.objects.get().status == "inactive"  # s-1's row no longer names a guardian


def test_messy_files_are_read(district: District, tmp_path: Path) -> None:
    """BOM, CRLF, a quoted field with commas and a newline, extra columns, odd header case and spaces."""
    users = (
        "\ufeffsourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
        " familyName ,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,favouriteColour\r\n"
        's-1,active,2024-05-01T10:00:00.000Z,TRUE,sch-n,student,ess,"{LDAP:12},{LTI:15}","Mary, Jo",'
        '"O\'Brien-\r\nNúñez",,S1,,,,,10,,teal\r\n'
        "s-2,,,TRUE,sch-n,STUDENT,ess2,,José,Álvarez,,S2,,,,,09,,\r\n"
    )
    files = {
        "manifest.csv": "\ufeff" + manifest("1.1", orgs="bulk", users="bulk").replace("\n", "\r\n"),
        "orgs.csv": "\ufeff" + (ORGS + "sch-n,active,2024-05-01,North,school,,\n").replace("\n", "\r\n"),
        "users.csv": users,
    }

    run = do_import(district, write_bundle(tmp_path, files))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    mary = Person.objects.get(source_id="s-1")
    assert mary.given_name == "Mary, Jo"
    assert mary.family_name == "O'Brien-\r\nNúñez"
    assert mary.other_ids == [{"type": "LDAP", "id": "12"}, {"type": "LTI", "id": "15"}]
    assert Person.objects.get(source_id="s-2").search_name == "jose alvarez"


def test_a_12_bundle_without_roles_takes_the_role_from_enrollments(district: District, tmp_path: Path) -> None:
    files = {
        "manifest.csv": manifest("1.2", orgs="bulk", users="bulk", enrollments="bulk"),
        "orgs.csv": ORGS + "sch-n,active,,North,school,,\n",
        "users.csv": USERS_12
        + "t-1,active,,true,tee,,Tara,Teach,,T1,,,,,,,,,,,sch-n,\n"
        + "s-1,active,,true,ess,,Samantha,Smith,,S1,,,,,,,ST-99,Sam,,,sch-n,she/her\n"
        + "x-1,active,,true,ex,,Alex,Nobody,,X1,,,,,,,,,,,sch-n,\n",
        "enrollments.csv": ENROLLMENTS
        + "e-1,active,,c-1,sch-n,t-1,teacher,,,\n"
        + "e-2,active,,c-1,sch-n,s-1,student,,,\n",
    }

    run = do_import(district, write_bundle(tmp_path, files))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    kinds = dict(Person.objects.values_list("source_id", "kind"))
    assert kinds == {"t-1": "staff", "s-1": "student", "x-1": "student"}  # no role anywhere: a student
    sam = Person.objects.get(source_id="s-1")
    assert (sam.preferred_given_name, sam.pronouns, sam.state_id, sam.display_name) == (
        "Sam",
        "she/her",
        "ST-99",
        "Sam Smith",
    )
    assert sam.search_name == "samantha smith sam"


def test_roles_csv_gives_the_primary_role(district: District, tmp_path: Path) -> None:
    files = {
        "manifest.csv": manifest("1.2", orgs="bulk", users="bulk", roles="bulk"),
        "orgs.csv": ORGS + "sch-n,active,,North,school,,\n",
        "users.csv": USERS_12 + "u-1,active,,true,u,,Uma,User,,U1,,,,,,,,,,,,\n",
        "roles.csv": ROLES + "r-1,active,,u-1,secondary,teacher,,,sch-n,\nr-2,active,,u-1,primary,counselor,,,sch-n,\n",
    }

    run = do_import(district, write_bundle(tmp_path, files))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert Person.objects.values_list("kind", "source_role").get() == ("staff", "counselor")


def _demographics_bundle() -> dict[str, str]:
    return {
        "manifest.csv": manifest("1.2", orgs="bulk", users="bulk", demographics="bulk"),
        "orgs.csv": ORGS + "sch-n,active,,North,school,,\n",
        "users.csv": USERS_12 + "s-1,active,,true,ess,,Sam,Smith,,S1,,,,,,,,,,,sch-n,\n",
        "demographics.csv": DEMOGRAPHICS
        + "s-1,active,,2011-02-03,female,false,true,false,false,true,true,false,US,,,\n",
    }


def test_demographics_are_not_stored_unless_the_district_turns_them_on(district: District, tmp_path: Path) -> None:
    run = do_import(district, write_bundle(tmp_path, _demographics_bundle()))

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert Person.objects.get().birth_date == dt.date(2011, 2, 3)  # needed to tell people apart
    assert not Demographics.objects.exists()
    assert "does not store demographics" in run.summary["demographics.csv"]["note"]


def test_demographics_are_stored_where_the_district_turns_them_on(district: District, tmp_path: Path) -> None:
    district.store_demographics = True
    district.save()

    run = do_import(district, write_bundle(tmp_path, _demographics_bundle()))

    assert file_counts(run, "demographics.csv") == ok(created=1)
    stored = Demographics.objects.get()
    assert stored.person == Person.objects.get()
    assert stored.data == {
        "sex": "female",
        "americanIndianOrAlaskaNative": False,
        "asian": True,
        "blackOrAfricanAmerican": False,
        "nativeHawaiianOrOtherPacificIslander": False,
        "white": True,
        "demographicRaceTwoOrMoreRaces": True,
        "hispanicOrLatinoEthnicity": False,
        "countryOfBirthCode": "US",
    }
    again = do_import(district, write_bundle(tmp_path / "again", _demographics_bundle()))
    assert file_counts(again, "demographics.csv") == ok(unchanged=1)


def test_a_dry_run_computes_the_summary_and_writes_nothing(district: District, tmp_path: Path) -> None:
    before = counts(district)
    events = AuditEvent.objects.count()

    run = do_import(district, write_bundle(tmp_path, small_bundle_11()), dry_run=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert file_counts(run, "users.csv") == ok(created=4)
    assert counts(district) == before
    assert AuditEvent.objects.count() == events
    run.refresh_from_db()
    assert run.summary["users.csv"]["created"] == 4 and run.dry_run


def test_the_import_is_audited_with_counts_and_no_names(district: District, tmp_path: Path) -> None:
    run = do_import(district, write_bundle(tmp_path, small_bundle_11()), actor_label="test")

    event = AuditEvent.objects.get(target_type="people.importrun", target_id=str(run.pk))
    assert event.verb == Verb.UPDATED
    assert event.district_id == district.pk
    assert event.detail["files"]["users.csv"]["created"] == 4
    assert event.detail["errors"] == 0
    assert "Sam" not in str(event.detail) and "s-1" not in str(event.detail)


def test_progress_is_reported_with_phases(district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from btam.people.importers import base

    monkeypatch.setattr(base, "PROGRESS_EVERY", 2)
    calls: list[tuple[int, int, str]] = []

    run = do_import(district, write_bundle(tmp_path, small_bundle_11()), progress=lambda *a: calls.append(a))

    assert {phase for _d, _t, phase in calls} == {"validating", "importing"}
    importing = [(d, t) for d, t, phase in calls if phase == "importing"]
    assert importing[0] == (0, run.rows_total) and all(d <= t for d, t in importing)
    assert run.rows_done == run.rows_total > 0


def test_it_detects_the_format(tmp_path: Path) -> None:
    assert detect_format(write_bundle(tmp_path, small_bundle_11())) == "oneroster"
    assert detect_format(write_bundle(tmp_path, {"students.txt": "x"}, name="other")) is None
    (tmp_path / "not-a-zip.zip").write_bytes(b"hello")
    assert detect_format(tmp_path / "not-a-zip.zip") is None


def test_people_of_another_district_are_untouched(district: District, tmp_path: Path) -> None:
    other = DistrictFactory.create()
    path = write_bundle(tmp_path, small_bundle_11())
    do_import(other, path)

    run = do_import(district, path)

    assert file_counts(run, "users.csv") == ok(created=4)  # same source ids, another district
    assert Person.objects.filter(district=other).count() == Person.objects.filter(district=district).count() == 4
