"""Registry records for the search, page and merge tests (fictitious people)."""

from __future__ import annotations

import datetime as dt
from itertools import count
from typing import Any

import pytest
from django.db import connection

from btam.orgs.models import District, School
from btam.people.models import Demographics, Enrollment, GuardianLink, Person

_ids = count(1)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="trigram similarity (pg_trgm) is PostgreSQL only; SQLite's fallback is tested separately",
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback of the typo search")


def person(district: District, given: str, family: str, **fields: Any) -> Person:
    n = next(_ids)
    fields.setdefault("source_id", f"src-{n}")
    fields.setdefault("local_id", f"L{n:05d}")
    return Person.objects.create(district=district, given_name=given, family_name=family, **fields)


def enrol(p: Person, school: School, *, ended: bool = False, **fields: Any) -> Enrollment:
    fields.setdefault("role", "student")
    fields.setdefault("begin_date", dt.date(2024, 8, 20))
    if ended:
        fields.setdefault("end_date", dt.date(2025, 6, 15))
        fields.setdefault("status", "inactive")
    return Enrollment.objects.create(district_id=p.district_id, person=p, school=school, **fields)


def guardian_link(guardian: Person, student: Person, relationship: str = "parent") -> GuardianLink:
    return GuardianLink.objects.create(
        district_id=student.district_id, guardian=guardian, student=student, relationship=relationship
    )


def demographics(p: Person, **data: Any) -> Demographics:
    return Demographics.objects.create(district_id=p.district_id, person=p, data=data)
