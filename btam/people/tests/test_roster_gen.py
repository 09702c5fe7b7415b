"""The synthetic roster: fictitious, complete enough to exercise the importer, and reproducible."""

from __future__ import annotations

import csv
import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from btam.orgs.models import District
from btam.people.importers import run_import
from btam.people.models import Demographics, Enrollment, GuardianLink, ImportRun, Person
from btam.people.roster_gen import write_bundle
from btam.testing import DistrictFactory


def read(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as bundle, bundle.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("roster") / "roster.zip"
    stats = write_bundle(path, students=300, staff=40, schools=4, seed=7)
    return path, stats


def test_it_writes_a_oneroster_12_bundle_of_fictitious_people(bundle: tuple[Path, object]) -> None:
    path, _stats = bundle
    manifest = dict((r["propertyName"], r["value"]) for r in read(path, "manifest.csv"))
    assert manifest["oneroster.version"] == "1.2"
    assert manifest["file.users"] == manifest["file.demographics"] == manifest["file.roles"] == "bulk"
    users = read(path, "users.csv")
    assert all(u["email"].endswith("@example.org") and u["identifier"].startswith("DEMO-") for u in users)
    assert all(not u["password"] for u in users)
    assert "role" not in users[0]  # 1.2: roles.csv says who is what
    orgs = read(path, "orgs.csv")
    assert all("(fictitious)" in o["name"] for o in orgs if o["type"] in ("school", "district"))


def test_it_has_staff_guardians_preferred_names_accents_and_transfers(bundle: tuple[Path, object]) -> None:
    path, stats = bundle
    users = read(path, "users.csv")
    roles = {r["userSourcedId"]: r["role"] for r in read(path, "roles.csv")}
    assert sum(1 for r in roles.values() if r == "student") == 300
    assert {r for r in roles.values() if r not in ("student", "parent", "guardian", "relative")} >= {"teacher"}
    assert any(r in ("parent", "guardian", "relative") for r in roles.values())
    students = [u for u in users if roles[u["sourcedId"]] == "student"]
    assert all(u["agentSourcedIds"] for u in students)  # guardians through agentSourcedIds
    assert any(u["preferredGivenName"] for u in students)
    assert any(not (u["givenName"] + u["familyName"]).isascii() for u in users)  # accented names
    schools = {e["schoolSourcedId"] for e in read(path, "enrollments.csv")}
    assert len(schools) == 4
    ended = [e for e in read(path, "enrollments.csv") if e["endDate"]]
    assert ended and len(ended) == getattr(stats, "transfers", 0)
    assert len(read(path, "demographics.csv")) == 300


def test_the_same_seed_gives_the_same_bundle(tmp_path: Path) -> None:
    write_bundle(tmp_path / "a.zip", students=40, seed=3)
    write_bundle(tmp_path / "b.zip", students=40, seed=3)
    write_bundle(tmp_path / "c.zip", students=40, seed=4)

    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "a.zip").read_bytes() != (tmp_path / "c.zip").read_bytes()


@pytest.mark.django_db
def test_it_imports_cleanly_with_the_counts_it_wrote(bundle: tuple[Path, object]) -> None:
    path, stats = bundle
    district: District = DistrictFactory.create(store_demographics=True)
    run = ImportRun.objects.create(district=district)

    run_import(run, path, actor=None)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert not run.warnings
    people = Person.objects.filter(district=district)
    assert people.filter(kind="student").count() == getattr(stats, "students", None)
    assert people.filter(kind="staff").count() == getattr(stats, "staff", None)
    assert people.filter(kind="guardian").count() == getattr(stats, "guardians", None)
    assert GuardianLink.objects.filter(district=district).count() == getattr(stats, "guardian_links", None)
    assert Enrollment.objects.filter(district=district).count() == getattr(stats, "rows", {})["enrollments.csv"]
    assert Demographics.objects.filter(district=district).count() == 300
    assert not people.filter(kind="student", birth_date__isnull=True).exists()
    assert district.schools.count() == 4


def test_the_command_writes_a_bundle(tmp_path: Path) -> None:
    out = StringIO()

    call_command("make_demo_roster", "--students", "25", "--output", str(tmp_path / "demo"), stdout=out)

    assert "25 students" in out.getvalue() and "fictitious" in out.getvalue()
    assert (tmp_path / "demo" / "users.csv").is_file()
    assert (tmp_path / "demo" / "manifest.csv").is_file()
