"""Synthetic district rosters: a OneRoster 1.2 CSV bundle of fictitious people.

For demos, tests and benchmarks (``manage.py make_demo_roster``, ``bench/people_import.py``).
Everything is invented: names drawn by Faker from several locales (so accented names occur),
identifiers prefixed ``DEMO``, addresses at the reserved ``example.org`` domain, orgs named
"(fictitious)". The same seed gives the same bundle, byte for byte.

What is in it: a district with elementary, middle and high schools (and one department), a school
year with two semesters, courses and classes; students in families that share one or two
guardians (linked both ways through ``agentSourcedIds``); staff (teachers, aides, counselors,
administrators, a principal per school); roles.csv with each user's primary role; enrolments
in several classes each, including transfers (an enrolment ended at the old school, new ones at
the new school); preferred names and pronouns for some; demographics.csv with birth dates.

Rows are written as they are made (one zip member at a time), so memory stays small at any size.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker import Faker

LOCALES = (("en_US", 55), ("es_MX", 20), ("fr_FR", 7), ("vi_VN", 6), ("de_DE", 5), ("pt_BR", 4), ("pl_PL", 3))
POOL_SIZE = 400
MODIFIED = "2025-08-01T12:00:00.000Z"
YEAR_START = dt.date(2025, 8, 25)
TRANSFER_DAY = dt.date(2026, 1, 12)
YEAR_END = dt.date(2026, 6, 12)
CLASSES_PER_STUDENT = 5
CLASS_SIZE = 25
BANDS = {
    "elementary": ["KG", "01", "02", "03", "04", "05"],
    "middle": ["06", "07", "08"],
    "high": ["09", "10", "11", "12"],
}
SUBJECTS = {
    "elementary": ["Reading, Writing", "Mathematics", "Science", "Art", "Music", "Physical Education"],
    "middle": ["English", "Mathematics", "Science, Life", "Social Studies", "Spanish", "Band"],
    "high": ["English", "Algebra", "Biology", "US History", "Chemistry", "Spanish", "Physics, AP", "Art, Studio"],
}
STAFF_ROLES = (("teacher", 75), ("aide", 9), ("counselor", 6), ("administrator", 10))
GUARDIAN_ROLES = (("parent", 80), ("guardian", 15), ("relative", 5))
PRONOUNS = ("she/her", "he/him", "they/them")
NICKNAMES = {"William": "Will", "Elizabeth": "Liz", "Robert": "Bob", "Katherine": "Kate", "Alejandro": "Alex"}

USERS_HEADER = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName", "familyName",
    "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password",
    "userMasterIdentifier", "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
    "primaryOrgSourcedId", "pronouns",
]  # fmt: skip
DEMOGRAPHICS_HEADER = [
    "sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
    "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
    "publicSchoolResidenceStatus",
]  # fmt: skip
ENROLLMENTS_HEADER = [
    "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role",
    "primary", "beginDate", "endDate",
]  # fmt: skip
ROLES_HEADER = [
    "sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate",
    "orgSourcedId", "userProfileSourcedId",
]  # fmt: skip


@dataclass
class RosterStats:
    """What was written: rows per file, and a few facts the tests check."""

    rows: dict[str, int] = field(default_factory=dict)
    students: int = 0
    staff: int = 0
    guardians: int = 0
    schools: int = 0
    transfers: int = 0
    guardian_links: int = 0


@dataclass
class _School:
    sid: str
    name: str
    level: str
    classes: list[str] = field(default_factory=list)
    teachers: list[str] = field(default_factory=list)
    students: int = 0


class _Names:
    """Pools of Faker names per locale, drawn once (Faker per row would be slow at 100,000 rows)."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.locales = [name for name, _w in LOCALES]
        self.weights = [w for _n, w in LOCALES]
        self.first: dict[str, list[str]] = {}
        self.last: dict[str, list[str]] = {}
        for i, locale in enumerate(self.locales):
            fake = Faker(locale)
            fake.seed_instance(seed + i)
            self.first[locale] = sorted({fake.first_name() for _ in range(POOL_SIZE)})
            self.last[locale] = sorted({fake.last_name() for _ in range(POOL_SIZE)})

    def locale(self) -> str:
        return self.rng.choices(self.locales, self.weights)[0]

    def given(self, locale: str) -> str:
        return self.rng.choice(self.first[locale])

    def family(self, locale: str) -> str:
        return self.rng.choice(self.last[locale])


class _Writer:
    """One bundle being written: a folder, or (path ends in .zip) a zip made from a scratch folder
    at the end, since several files are written at once and a zip takes one member at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_zip = path.suffix.lower() == ".zip"
        if self.is_zip:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix="roster-", dir=path.parent))
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.folder = path
        self.names: list[str] = []

    @contextmanager
    def csv(self, name: str, header: list[str]) -> Iterator[Any]:
        self.names.append(name)
        with (self.folder / name).open("w", encoding="utf-8", newline="") as text:
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(header)
            yield writer

    def close(self, *, ok: bool = True) -> None:
        if not self.is_zip:
            return
        try:
            if ok:
                with zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
                    for name in sorted(self.names):
                        info = zipfile.ZipInfo(name, date_time=(2025, 8, 1, 12, 0, 0))
                        info.compress_type = zipfile.ZIP_DEFLATED
                        with (self.folder / name).open("rb") as source, bundle.open(info, "w") as target:
                            shutil.copyfileobj(source, target, 1 << 20)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def write_bundle(
    path: Path,
    *,
    students: int,
    staff: int | None = None,
    schools: int | None = None,
    seed: int = 2025,
) -> RosterStats:
    """Write a OneRoster 1.2 bulk bundle of ``students`` fictitious students (and staff, guardians)."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    names = _Names(rng, seed)
    staff = max(3, students // 10) if staff is None else staff
    school_count = schools or max(3, min(400, students // 800))
    stats = RosterStats(schools=school_count)
    out = _Writer(path)
    ok = False
    try:
        the_schools = _write_orgs(out, stats, school_count)
        _write_sessions_and_courses(out, stats, the_schools, students)
        users = _UsersWriter(out, rng, names, stats, the_schools)
        users.write(students, staff)
        _write_manifest(out)
        ok = True
    finally:
        out.close(ok=ok)
    return stats


def _write_manifest(out: _Writer) -> None:
    files = {
        "academicSessions": "bulk", "categories": "absent", "classes": "bulk", "classResources": "absent",
        "courses": "bulk", "courseResources": "absent", "demographics": "bulk", "enrollments": "bulk",
        "lineItemLearningObjectiveIds": "absent", "lineItems": "absent", "lineItemScoreScales": "absent",
        "orgs": "bulk", "resources": "absent", "resultLearningObjectiveIds": "absent", "results": "absent",
        "resultScoreScales": "absent", "roles": "bulk", "scoreScales": "absent", "userProfiles": "absent",
        "userResources": "absent", "users": "bulk",
    }  # fmt: skip
    with out.csv("manifest.csv", ["propertyName", "value"]) as w:
        w.writerow(["manifest.version", "1.0"])
        w.writerow(["oneroster.version", "1.2"])
        for name, mode in files.items():
            w.writerow([f"file.{name}", mode])
        w.writerow(["source.systemName", "OpenBTAM synthetic roster (fictitious)"])
        w.writerow(["source.systemCode", "openbtam-roster-gen"])


def _write_orgs(out: _Writer, stats: RosterStats, count: int) -> list[_School]:
    levels = ["elementary"] * 3 + ["middle"] + ["high"]
    towns = ["Cedar", "Maple", "Willow", "Aspen", "Birch", "Juniper", "Alder", "Hazel", "Linden", "Rowan"]
    result = []
    with out.csv("orgs.csv", ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                              "parentSourcedId"]) as w:  # fmt: skip
        w.writerow(["org-district", "active", MODIFIED, "Cedar Valley Unified (fictitious)", "district", "DEMO-D1", ""])
        for i in range(count):
            level = levels[i % len(levels)] if count >= len(levels) else ("elementary", "middle", "high")[i % 3]
            town = towns[i % len(towns)]
            label = {"elementary": "Elementary School", "middle": "Middle School", "high": "High School"}[level]
            number = f" No. {i // len(towns) + 1}" if i >= len(towns) else ""
            school = _School(f"org-sch-{i + 1:04d}", f"{town}{number} {label} (fictitious)", level)
            w.writerow([school.sid, "active", MODIFIED, school.name, "school", f"DEMO-S{i + 1:04d}", "org-district"])
            result.append(school)
        high = next(s for s in result if s.level == "high")
        w.writerow(["org-dept-0001", "active", MODIFIED, "Science Department", "department", "", high.sid])
    stats.rows["orgs.csv"] = count + 2
    return result


def _write_sessions_and_courses(out: _Writer, stats: RosterStats, schools: list[_School], students: int) -> None:
    with out.csv("academicSessions.csv", ["sourcedId", "status", "dateLastModified", "title", "type", "startDate",
                                          "endDate", "parentSourcedId", "schoolYear"]) as w:  # fmt: skip
        w.writerow(["as-2026", "active", MODIFIED, "2025-2026", "schoolYear", YEAR_START, YEAR_END, "", "2026"])
        w.writerow(
            ["as-2026-s1", "active", MODIFIED, "Fall 2025", "semester", YEAR_START, TRANSFER_DAY, "as-2026", "2026"]
        )
        w.writerow(
            ["as-2026-s2", "active", MODIFIED, "Spring 2026", "semester", TRANSFER_DAY, YEAR_END, "as-2026", "2026"]
        )
    stats.rows["academicSessions.csv"] = 3
    # Students are spread evenly; every school gets enough classes for its students.
    per_school = -(-students // len(schools))
    class_count = max(CLASSES_PER_STUDENT + 1, -(-per_school * CLASSES_PER_STUDENT // CLASS_SIZE))
    courses = classes = 0
    with (
        out.csv("courses.csv", ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title",
                                "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"]) as wc,
        out.csv("classes.csv", ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
                                "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds",
                                "subjects", "subjectCodes", "periods"]) as wk,
    ):  # fmt: skip
        for school in schools:
            subjects = SUBJECTS[school.level]
            grades = ",".join(BANDS[school.level])
            for k, subject in enumerate(subjects):
                course = f"crs-{school.sid[8:]}-{k + 1:02d}"
                wc.writerow([course, "active", MODIFIED, "as-2026", subject, f"C{k + 1:02d}", grades, school.sid,
                             subject, ""])  # fmt: skip
                courses += 1
            for c in range(class_count):
                k = c % len(subjects)
                klass = f"cls-{school.sid[8:]}-{c + 1:04d}"
                wk.writerow([klass, "active", MODIFIED, f"{subjects[k]} - section {c // len(subjects) + 1}", grades,
                             f"crs-{school.sid[8:]}-{k + 1:02d}", f"{k + 1:02d}-{c + 1}", "scheduled",
                             f"Room {100 + c % 60}", school.sid, "as-2026-s1,as-2026-s2", subjects[k], "",
                             str(c % 7 + 1)])  # fmt: skip
                school.classes.append(klass)
                classes += 1
    stats.rows["courses.csv"] = courses
    stats.rows["classes.csv"] = classes


class _UsersWriter:
    """users.csv, roles.csv, enrollments.csv and demographics.csv, written together row by row."""

    def __init__(
        self, out: _Writer, rng: random.Random, names: _Names, stats: RosterStats, schools: list[_School]
    ) -> None:
        self.out = out
        self.rng = rng
        self.names = names
        self.stats = stats
        self.schools = schools
        self.rows = {"users.csv": 0, "roles.csv": 0, "enrollments.csv": 0, "demographics.csv": 0}

    def write(self, students: int, staff: int) -> None:
        out = self.out
        with (
            out.csv("users.csv", USERS_HEADER) as self.users,
            out.csv("roles.csv", ROLES_HEADER) as self.roles,
            out.csv("enrollments.csv", ENROLLMENTS_HEADER) as self.enrollments,
            out.csv("demographics.csv", DEMOGRAPHICS_HEADER) as self.demographics,
        ):
            self._staff(staff)
            self._families(students)
        self.stats.rows.update(self.rows)

    def _user(
        self,
        sid: str,
        given: str,
        family: str,
        *,
        number: str,
        grades: str = "",
        agents: list[str] | None = None,
        org: str,
        state_id: str = "",
        preferred: str = "",
        pronouns: str = "",
        middle: str = "",
    ) -> None:
        username = f"{_ascii(given)}.{_ascii(family)}{sid[-6:]}".lower()
        self.users.writerow([
            sid, "active", MODIFIED, "true", username, f"{{LDAP:{sid[4:]}}},{{SIS:{number}}}", given, family,
            middle, number, f"{username}@example.org", "", "", ",".join(agents or []), grades, "", state_id,
            preferred, "", "", org, pronouns,
        ])  # fmt: skip
        self.rows["users.csv"] += 1

    def _role(self, user: str, role: str, org: str) -> None:
        self.roles.writerow([f"role-{user}", "active", MODIFIED, user, "primary", role, YEAR_START, "", org, ""])
        self.rows["roles.csv"] += 1

    def _enrol(self, user: str, klass: str, school: str, role: str, begin: dt.date, end: dt.date | str) -> None:
        self.enrollments.writerow([
            f"enr-{user[4:]}-{klass[4:]}", "active", MODIFIED, klass, school, user, role,
            "true" if role == "teacher" else "false", begin, end,
        ])  # fmt: skip
        self.rows["enrollments.csv"] += 1

    def _staff(self, count: int) -> None:
        rng = self.rng
        roles = [r for r, _w in STAFF_ROLES]
        weights = [w for _r, w in STAFF_ROLES]
        for n in range(count):
            school = self.schools[n % len(self.schools)]
            role = "principal" if n < len(self.schools) else rng.choices(roles, weights)[0]
            locale = self.names.locale()
            given, family = self.names.given(locale), self.names.family(locale)
            sid = f"usr-t-{n + 1:07d}"
            self._user(sid, given, family, number=f"DEMO-T{n + 1:07d}", org=school.sid)
            self._role(sid, role, school.sid)
            if role == "teacher":
                school.teachers.append(sid)
            self.stats.staff += 1
        # Every class gets a teacher from its school (round robin).
        for school in self.schools:
            teachers = school.teachers or [f"usr-t-{self.schools.index(school) + 1:07d}"]
            for i, klass in enumerate(school.classes):
                self._enrol(teachers[i % len(teachers)], klass, school.sid, "teacher", YEAR_START, "")

    def _families(self, students: int) -> None:
        rng = self.rng
        made = 0
        family_no = 0
        per_school = -(-students // len(self.schools))
        while made < students:
            family_no += 1
            locale = self.names.locale()
            family = self.names.family(locale)
            kids = min(students - made, rng.choices((1, 2, 3), (55, 35, 10))[0])
            kid_ids = [f"usr-s-{made + k + 1:07d}" for k in range(kids)]
            guardian_ids = [f"usr-g-{family_no:07d}-{g + 1}" for g in range(rng.choices((1, 2), (40, 60))[0])]
            first_school = None
            for k, sid in enumerate(kid_ids):
                school = self.schools[min((made + k) // per_school, len(self.schools) - 1)]
                first_school = first_school or school
                self._student(sid, made + k + 1, locale, family, school, guardian_ids)
            for g, sid in enumerate(guardian_ids):
                g_locale = locale if g == 0 else self.names.locale()
                g_family = family if g == 0 or rng.random() < 0.6 else self.names.family(g_locale)
                role = rng.choices([r for r, _w in GUARDIAN_ROLES], [w for _r, w in GUARDIAN_ROLES])[0]
                assert first_school is not None
                self._user(sid, self.names.given(g_locale), g_family, number=f"DEMO-G{family_no:07d}{g + 1}",
                           agents=kid_ids, org=first_school.sid)  # fmt: skip
                self._role(sid, role, first_school.sid)
                self.stats.guardians += 1
                self.stats.guardian_links += len(kid_ids)
            made += kids

    def _student(self, sid: str, number: int, locale: str, family: str, school: _School, guardians: list[str]) -> None:
        rng = self.rng
        given = self.names.given(locale)
        grade_index = rng.randrange(len(BANDS[school.level]))
        grade = BANDS[school.level][grade_index]
        preferred = ""
        if rng.random() < 0.05:
            preferred = NICKNAMES.get(given) or self.names.given(self.names.locale())
        pronouns = rng.choice(PRONOUNS) if rng.random() < 0.1 else ""
        middle = self.names.given(locale) if rng.random() < 0.4 else ""
        self._user(
            sid, given, family, number=f"DEMO-S{number:07d}", grades=grade, agents=guardians, org=school.sid,
            state_id=f"DEMO-ST{number:08d}", preferred=preferred, pronouns=pronouns, middle=middle,
        )  # fmt: skip
        self._role(sid, "student", school.sid)
        begin = YEAR_START
        if rng.random() < 0.03 and len(self.schools) > 1:  # a transfer in January: the old enrolment ends
            old = self.schools[(self.schools.index(school) + 1) % len(self.schools)]
            self._enrol(sid, rng.choice(old.classes), old.sid, "student", YEAR_START, TRANSFER_DAY - dt.timedelta(1))
            begin = TRANSFER_DAY
            self.stats.transfers += 1
        for klass in rng.sample(school.classes, CLASSES_PER_STUDENT):
            self._enrol(sid, klass, school.sid, "student", begin, "")
        school.students += 1
        self.stats.students += 1
        age = 5 + (grade_index + {"elementary": 0, "middle": 6, "high": 9}[school.level])
        born = dt.date(2025 - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        races = [rng.random() < p for p in (0.01, 0.06, 0.13, 0.005, 0.6)]
        self.demographics.writerow([
            sid, "active", MODIFIED, born, rng.choice(("male", "female")), *map(_flag, races),
            _flag(sum(races) > 1), _flag(locale in ("es_MX", "pt_BR")), "US", "", "", "",
        ])  # fmt: skip
        self.rows["demographics.csv"] += 1


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _ascii(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and ord(ch) < 128) or "user"
