"""load_demo fills the demo district through the real roster importer, once."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from btam.core.demo import DEMO_STUDENTS, SCHOOLS
from btam.orgs.models import District
from btam.people.models import Enrollment, ImportRun, Person

pytestmark = pytest.mark.django_db


def load_demo(**options: Any) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_load_demo_imports_about_3000_students_into_the_demo_schools_once(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    output = load_demo()
    district = District.objects.get(slug="cedar-ridge-demo")
    run = ImportRun.objects.get(district=district)
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.created_by is None and not run.dry_run
    assert "Imported the demo roster" in output
    students = Person.objects.filter(district=district, kind=Person.Kind.STUDENT)
    assert students.count() == DEMO_STUDENTS == 3000
    # The roster's schools are the demo district's four, under their demo names: none added.
    assert sorted(district.schools.values_list("name", flat=True)) == sorted(name for _slug, name, _lvl in SCHOOLS)
    enrolled = set(
        Enrollment.objects.filter(district=district, role="student", status="active").values_list(
            "school__slug", flat=True
        )
    )
    assert enrolled == {slug for slug, _name, _level in SCHOOLS}

    people = Person.objects.filter(district=district).count()
    output = load_demo()
    assert "Demo roster already imported." in output
    assert ImportRun.objects.filter(district=district).count() == 1
    assert Person.objects.filter(district=district).count() == people
    assert district.schools.count() == len(SCHOOLS)


def test_the_demo_roster_size_is_a_parameter(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo(students=40)
    assert Person.objects.filter(kind=Person.Kind.STUDENT).count() == 40
