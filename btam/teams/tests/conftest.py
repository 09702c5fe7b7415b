from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.lib import clock as clock_module
from btam.orgs.models import District, School
from btam.teams import actions
from btam.teams.models import Team
from btam.testing import DistrictFactory, SchoolFactory, make_member

# A Wednesday morning, in the site's time zone or not: dates below are relative to it.
T0 = dt.datetime(2030, 3, 6, 15, 0, tzinfo=dt.UTC)


@dataclass
class Staff:
    district: District
    school: School  # "Lincoln Test High": its team is ``team``
    other_school: School
    other_district: District
    team: Team
    dbm: User  # database manager (whole district)
    backup_admin: User
    district_leader: User  # team leader for the whole district
    leader: User  # team leader named on the school
    counselor: User
    teacher: User
    sro: User  # rapid response named on the school
    psychologist: User
    nurse: User
    other_school_member: User
    other_district_leader: User
    referring: User  # referring staff: no case role


def _member(role: str, district: District, schools: list[School] | None = None, **kwargs: Any) -> User:
    return make_member(role, district, schools, totp=True, **kwargs)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen(clock: Any) -> Iterator[Any]:
    clock_module.freeze(T0)
    yield clock_module


@pytest.fixture
def staff(db: None, frozen: Any) -> Staff:
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    school = SchoolFactory.create(district=district, name="Lincoln Test High")
    other_school = SchoolFactory.create(district=district, name="Maple Test Middle")
    other_district = DistrictFactory.create(name="Other Test District (fictitious)")
    elsewhere = SchoolFactory.create(district=other_district, name="Elsewhere Test High")
    dbm = _member(Role.DATABASE_MANAGER, district, full_name="Dora Database")
    team = actions.do_create_team(actor=dbm, district=district, school=school)
    return Staff(
        district=district,
        school=school,
        other_school=other_school,
        other_district=other_district,
        team=team,
        dbm=dbm,
        backup_admin=_member(Role.BACKUP_ADMIN, district, full_name="Bea Backup"),
        district_leader=_member(Role.TEAM_LEADER, district, full_name="Dale Districtlead"),
        leader=_member(Role.TEAM_LEADER, district, [school], full_name="Lena Leader"),
        counselor=_member(Role.TEAM_MEMBER, district, [school], full_name="Cole Counselor"),
        teacher=_member(Role.TEAM_MEMBER, district, [school], full_name="Tara Teacher"),
        sro=_member(Role.RAPID_RESPONSE, district, [school], full_name="Sam Sro"),
        psychologist=_member(Role.TEAM_MEMBER, district, [school], full_name="Pia Psychologist"),
        nurse=_member(Role.TEAM_MEMBER, district, [school], full_name="Nell Nurse"),
        other_school_member=_member(Role.TEAM_MEMBER, district, [other_school], full_name="Otto Otherschool"),
        other_district_leader=_member(Role.TEAM_LEADER, other_district, [elsewhere], full_name="Ezra Elsewhere"),
        referring=_member(Role.REFERRING_STAFF, district, [school], full_name="Rita Referring"),
    )
