"""OneRoster pass 2: write the bundle, in the import transaction, in dependency order (orgs,
users, guardian links, demographics, enrolments). Rows are batched; an unchanged row (same hash)
costs a dictionary look-up and no write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from btam.lib import clock
from btam.orgs.models import School
from btam.people.importers.base import (
    ImportContext,
    Upserter,
    insert_rows,
    parse_bool,
    parse_date,
    parse_datetime,
    row_hash,
    row_hash_text,
)
from btam.people.importers.oneroster.checks import Checker
from btam.people.importers.oneroster.spec import (
    DEMOGRAPHIC_COLUMNS,
    DEMOGRAPHIC_FLAGS,
    ENROLLMENT_FIELDS,
    LINKS,
    PERSON_FIELDS,
    SOURCEORG_FIELDS,
    STATE_ID_TYPES,
    USER_TEXT,
    Aggregate,
    get,
    kind_for_role,
    parse_user_ids,
)
from btam.people.models import Demographics, Enrollment, GuardianLink, Person, SourceOrg, SourceStatus
from btam.people.search import normalize


class Applier:
    def __init__(self, ctx: ImportContext, plan: Checker) -> None:
        self.ctx = ctx
        self.plan = plan
        self.person_ids: dict[str, int] = {}
        self.births_before: dict[str, dt.date | None] = {}
        self.now = clock.now()
        self.today = timezone.localtime(self.now).date()

    def apply(self) -> None:
        ctx = self.ctx
        total = sum(self.plan.row_counts.get(n, 0) for n in ("orgs.csv", "demographics.csv", "enrollments.csv"))
        total += 2 * self.plan.row_counts.get("users.csv", 0)  # users, then their guardian links
        ctx.start_phase("importing", total)
        if "demographics.csv" in self.plan.modes:  # before users.csv creates people with their birth dates
            births = Person.objects.filter(district=ctx.district, birth_date__isnull=False).exclude(source_id="")
            self.births_before = dict(births.values_list("source_id", "birth_date").iterator(chunk_size=20000))
        if "orgs.csv" in self.plan.modes:
            self._apply_orgs()
        if "users.csv" in self.plan.modes:
            self._apply_users()
        if "roles.csv" in self.plan.modes:
            ctx.file_summary("roles.csv").note = "read for each user's role"
        if self.plan.modes.keys() & {"users.csv", "demographics.csv", "enrollments.csv"}:
            self.person_ids = dict(
                Person.objects.filter(district=ctx.district).exclude(source_id="").values_list("source_id", "pk")
            )
        if "users.csv" in self.plan.modes:
            self._apply_guardian_links()
        if "demographics.csv" in self.plan.modes:
            self._apply_demographics()
        if "enrollments.csv" in self.plan.modes:
            self._apply_enrollments()

    def _org_rows(self, *, count: bool = True) -> Iterator[tuple[int, list[str], dict[str, Any]]]:
        with self.ctx.open("orgs.csv", count=count) as f:
            cols = {c: f.col(c) for c in ("sourcedId", "status", "name", "type", "identifier", "parentSourcedId")}
            for line, row in f.rows():
                yield line, row, cols

    @staticmethod
    def _status(value: str) -> tuple[str, bool]:
        """(stored status, is it a deactivation)."""
        if value.strip().lower() in ("tobedeleted", "inactive"):
            return SourceStatus.INACTIVE, True
        return SourceStatus.ACTIVE, False

    def _apply_orgs(self) -> None:
        ctx = self.ctx
        district = ctx.district
        name = "orgs.csv"
        summary = ctx.file_summary(name)
        schools = {s.source_id: s for s in School.objects.filter(district=district).exclude(source_id="")}
        slugs = set(School.objects.filter(district=district).values_list("slug", flat=True))
        created = 0
        # First the schools, so that a department can point to a parent listed after it.
        for _line, row, cols in self._org_rows(count=False):
            if row[cols["type"]].strip().lower() != "school":
                continue
            sid = row[cols["sourcedId"]].strip()
            title = row[cols["name"]].strip()[:200]
            identifier = get(row, cols["identifier"])[:60]
            gone = self._status(row[cols["status"]])[1]
            school = schools.get(sid)
            if school is None:
                if gone:
                    continue
                school = School(
                    district=district,
                    slug=_unique_slug(title, slugs),
                    name=title,
                    identifier=identifier,
                    level=_guess_level(title),
                    source_id=sid,
                )
                school.save()
                schools[sid] = school
                created += 1
            elif (school.name, school.identifier, school.is_active) != (title, identifier, not gone):
                school.name, school.identifier, school.is_active = title, identifier, not gone
                school.save(update_fields=["name", "identifier", "is_active"])
        school_of: dict[str, int | None] = {sid: s.pk for sid, s in schools.items()}
        for sid, known_school in SourceOrg.objects.filter(district=district).values_list("source_id", "school_id"):
            school_of.setdefault(sid, known_school)
        upsert = Upserter(SourceOrg, district_id=district.pk, fields=SOURCEORG_FIELDS, summary=summary)
        unmapped = 0
        for _line, row, cols in self._org_rows():
            sid = row[cols["sourcedId"]].strip()
            org_type = row[cols["type"]].strip()
            parent = get(row, cols["parentSourcedId"])
            status, gone = self._status(row[cols["status"]])
            school_id: int | None = None
            if org_type.lower() == "school":
                school_id = school_of.get(sid)
            elif org_type.lower() == "department":
                school_id = school_of.get(parent) if parent else None
                if school_id is None and not gone:
                    unmapped += 1
            values = {
                "name": row[cols["name"]].strip(),
                "type": org_type,
                "identifier": get(row, cols["identifier"]),
                "parent_source_id": parent,
                "school_id": school_id,
                "status": status,
            }
            upsert.add(sid, values, row_hash(*values.values()), deactivate=gone)
        upsert.flush()
        if self.plan.modes[name] == "bulk":
            summary.not_in_file = upsert.remaining
        summary.extra["schools_created"] = created
        if unmapped:
            ctx.warn(
                name,
                0,
                "parentSourcedId",
                f"{unmapped} department(s) whose parent is not a known school: kept without a school",
            )

    def _user_role(self, sid: str, row: list[str], i_role: int | None) -> str:
        if i_role is not None:
            role = row[i_role].strip()
            if role:
                return role
        return self.plan.roles.get(sid) or self.plan.enrollment_roles.get(sid) or "student"

    def _apply_users(self) -> None:
        ctx = self.ctx
        name = "users.csv"
        summary = ctx.file_summary(name)
        upsert = Upserter(Person, district_id=ctx.district.pk, fields=PERSON_FIELDS, summary=summary, batch_size=1000)
        now = self.now
        birth_dates = self.plan.birth_dates
        modified = _Cached(parse_datetime)
        with ctx.open(name) as f:
            i_sid, i_status, i_dlm = f.col("sourcedId"), f.col("status"), f.col("dateLastModified")
            assert i_sid is not None and i_status is not None and i_dlm is not None
            i_role, i_ids, i_grades = f.col("role"), f.col("userIds"), f.col("grades")
            text_cols = [(field, f.col(column)) for column, field, _limit in USER_TEXT]
            for _line, row in f.rows():
                sid = row[i_sid].strip()
                status, gone = self._status(row[i_status])
                role = self._user_role(sid, row, i_role)
                texts = [row[i].strip() if i is not None else "" for _field, i in text_cols]
                raw_ids = get(row, i_ids)
                grades = get(row, i_grades)
                # The hash is taken from the text as read: an unchanged row is skipped before any parsing.
                digest = row_hash_text("\x1f".join([role, status, raw_ids, grades, *texts]))
                if upsert.skip_unchanged(sid, digest):
                    continue
                values: dict[str, Any] = dict(zip([field for field, _i in text_cols], texts, strict=True))
                other_ids, _rest = parse_user_ids(raw_ids) if raw_ids else ([], "")
                if not values["state_id"]:
                    for item in other_ids:
                        if item["type"].lower() in STATE_ID_TYPES:
                            values["state_id"] = item["id"][:100]
                            break
                dlm = row[i_dlm].strip()
                values.update(
                    kind=kind_for_role(role),
                    source_role=role[:40],
                    other_ids=other_ids,
                    grade=grades if len(grades) <= 20 else grades.split(",")[0].strip()[:20],
                    status=status,
                    source_modified=modified(dlm) if dlm else None,
                    search_name=normalize(" ".join(values[k] for k in _NAME_FIELDS if values[k]))[:700],
                    updated_at=now,
                    birth_date=birth_dates.get(sid),  # used when the person is created (see demographics)
                )
                upsert.add(sid, values, digest, deactivate=gone)
        upsert.flush()
        if self.plan.modes[name] == "bulk":
            summary.not_in_file = upsert.remaining

    def _apply_guardian_links(self) -> None:
        """Links from agentSourcedIds (a student's guardians, or a guardian's students)."""
        ctx = self.ctx
        district = ctx.district
        person_ids = self.person_ids
        kinds = dict(
            Person.objects.filter(district=district, kind__in=[Person.Kind.STUDENT, Person.Kind.GUARDIAN])
            .exclude(source_id="")
            .values_list("pk", "kind")
        )
        wanted: dict[tuple[int, int], str] = {}
        described: set[int] = set()
        not_linked = Aggregate()
        with ctx.open("users.csv") as f:
            i_sid, i_status, i_agents = f.col("sourcedId"), f.col("status"), f.col("agentSourcedIds")
            assert i_sid is not None and i_status is not None
            for line, row in f.rows():
                pk = person_ids.get(row[i_sid].strip())
                if pk is None:
                    continue
                described.add(pk)
                if i_agents is None or self._status(row[i_status])[1]:
                    continue
                for agent in row[i_agents].split(","):
                    agent_pk = person_ids.get(agent.strip())
                    if agent_pk is None:
                        continue  # warned in pass 1
                    pair = _guardian_pair(pk, agent_pk, kinds)
                    if pair is None:
                        not_linked.hit(line)
                    else:
                        wanted[pair] = ""
        if not_linked.count:
            ctx.warn(
                "users.csv",
                not_linked.first,
                "agentSourcedIds",
                f"{not_linked.count} agent(s) that are not a parent, guardian or relative of a student: not linked",
            )
        roles = dict(
            Person.objects.filter(district=district, kind=Person.Kind.GUARDIAN).values_list("pk", "source_role")
        )
        summary = ctx.file_summary(LINKS)
        summary.rows = len(wanted)
        existing = {
            (g, s): (pk, status)
            for pk, g, s, status in GuardianLink.objects.filter(district=district).values_list(
                "pk", "guardian_id", "student_id", "status"
            )
        }
        creates: list[dict[str, Any]] = []
        reactivate: list[int] = []
        deactivate: list[int] = []
        for (g, s), _ in wanted.items():
            found = existing.get((g, s))
            if found is None:
                creates.append(
                    {
                        "district_id": district.pk,
                        "guardian_id": g,
                        "student_id": s,
                        "relationship": roles.get(g, "")[:40],
                    }
                )
            elif found[1] != SourceStatus.ACTIVE:
                reactivate.append(found[0])
            else:
                summary.unchanged += 1
        for pair, (pk, status) in existing.items():
            if status == SourceStatus.ACTIVE and pair not in wanted and (pair[0] in described or pair[1] in described):
                deactivate.append(pk)
        for start in range(0, len(creates), 5000):
            insert_rows(GuardianLink, creates[start : start + 5000])
        for chunk_start in range(0, len(reactivate), 2000):
            GuardianLink.objects.filter(pk__in=reactivate[chunk_start : chunk_start + 2000]).update(
                status=SourceStatus.ACTIVE
            )
        for chunk_start in range(0, len(deactivate), 2000):
            GuardianLink.objects.filter(pk__in=deactivate[chunk_start : chunk_start + 2000]).update(
                status=SourceStatus.INACTIVE
            )
        summary.created = len(creates)
        summary.updated = len(reactivate)
        summary.deactivated = len(deactivate)

    def _apply_demographics(self) -> None:
        """Birth dates (always: they tell people apart) and, where the district stores them, the rest.

        A new person got its birth date when it was created (users.csv); here only the birth dates
        of people who already existed are updated, and the Demographics rows are written.
        """
        ctx = self.ctx
        name = "demographics.csv"
        summary = ctx.file_summary(name)
        store = ctx.district.store_demographics
        if not store:
            summary.note = "birth dates only: this district does not store demographics"
        existing: dict[int, tuple[int, str]] = {}
        if store:
            rows = Demographics.objects.filter(district=ctx.district).values_list("person_id", "pk", "source_hash")
            existing = {person: (pk, digest) for person, pk, digest in rows.iterator(chunk_size=20000)}
        births_before = self.births_before
        births: list[Person] = []
        creates: list[dict[str, Any]] = []
        updates: list[Demographics] = []
        deletes: list[int] = []
        with ctx.open(name) as f:
            i_sid, i_status, i_birth = f.col("sourcedId"), f.col("status"), f.col("birthDate")
            assert i_sid is not None and i_status is not None
            cols = [(c, f.col(c)) for c in DEMOGRAPHIC_COLUMNS]
            for _line, row in f.rows():
                sid = row[i_sid].strip()
                person = self.person_ids.get(sid)
                if person is None:  # someone who is tobedeleted and was never imported
                    summary.unchanged += 1
                    continue
                gone = self._status(row[i_status])[1]
                birth_text = get(row, i_birth)
                birth = parse_date(birth_text) if birth_text and not gone else None
                outcome = "unchanged"
                old_birth = births_before.get(sid)
                if birth is not None and old_birth != birth:
                    outcome = "created" if old_birth is None else "updated"
                    if sid in births_before:  # an existing person: created ones already have it
                        births.append(Person(pk=person, birth_date=birth))
                if store:
                    raw = [get(row, index) for _column, index in cols]
                    digest = row_hash_text("\x1f".join(raw))
                    found = existing.get(person)
                    data: dict[str, Any] = {}
                    if found is None or found[1] != digest:
                        for (column, _index), value in zip(cols, raw, strict=True):
                            if value:
                                flag = parse_bool(value) if column in DEMOGRAPHIC_FLAGS else None
                                data[column] = flag if flag is not None else value
                    if gone:
                        if found is not None:
                            deletes.append(found[0])
                            outcome = "deactivated"
                    elif found is None:
                        creates.append(
                            {"district_id": ctx.district.pk, "person_id": person, "source_id": sid, "data": data,
                             "source_hash": digest}
                        )  # fmt: skip
                        outcome = "created"
                    elif found[1] != digest:
                        updates.append(Demographics(pk=found[0], data=data, source_id=sid, source_hash=digest))
                        if outcome == "unchanged":
                            outcome = "updated"
                setattr(summary, outcome, getattr(summary, outcome) + 1)
                if len(creates) >= 2000:
                    insert_rows(Demographics, creates)
                    creates = []
        Person.objects.bulk_update(births, ["birth_date"], batch_size=500)
        insert_rows(Demographics, creates)
        Demographics.objects.bulk_update(updates, ["data", "source_id", "source_hash"], batch_size=500)
        for start in range(0, len(deletes), 2000):
            Demographics.objects.filter(pk__in=deletes[start : start + 2000]).delete()

    def _apply_enrollments(self) -> None:
        ctx = self.ctx
        name = "enrollments.csv"
        summary = ctx.file_summary(name)
        school_of = dict(SourceOrg.objects.filter(district=ctx.district).values_list("source_id", "school_id"))
        person_ids = self.person_ids
        today = self.today.isoformat()
        dates = _Cached(parse_date)
        upsert = Upserter(Enrollment, district_id=ctx.district.pk, fields=ENROLLMENT_FIELDS, summary=summary)
        orphans = Aggregate()
        with ctx.open(name) as f:
            i_sid, i_status = f.col("sourcedId"), f.col("status")
            i_class, i_school = f.col("classSourcedId"), f.col("schoolSourcedId")
            i_user, i_role = f.col("userSourcedId"), f.col("role")
            i_primary, i_begin, i_end = f.col("primary"), f.col("beginDate"), f.col("endDate")
            assert i_sid is not None and i_status is not None and i_class is not None
            assert i_school is not None and i_user is not None and i_role is not None
            for line, row in f.rows():
                user = row[i_user].strip()
                status, gone = self._status(row[i_status])
                person_id = person_ids.get(user)
                if person_id is None:  # a user that is tobedeleted and was never imported
                    if gone:
                        summary.unchanged += 1
                    else:
                        summary.rejected += 1
                        orphans.hit(line)
                    continue
                org = row[i_school].strip()
                begin_text, end_text = get(row, i_begin), get(row, i_end)
                if end_text and end_text < today:  # ISO dates (checked in pass 1) compare as text
                    status = SourceStatus.INACTIVE
                school_id = school_of.get(org)
                klass = row[i_class].strip()
                role = row[i_role].strip()[:40]
                primary_text = get(row, i_primary).lower()
                sid = row[i_sid].strip()
                digest = row_hash_text(
                    "\x1f".join([user, str(school_id), org, klass, role, primary_text, begin_text, end_text, status])
                )
                if upsert.skip_unchanged(sid, digest):
                    continue
                values = {
                    "person_id": person_id,
                    "school_id": school_id,
                    "org_source_id": org,
                    "class_source_id": klass,
                    "role": role,
                    "primary": parse_bool(primary_text) or False,
                    "begin_date": dates(begin_text) if begin_text else None,
                    "end_date": dates(end_text) if end_text else None,
                    "status": status,
                }
                upsert.add(sid, values, digest, deactivate=gone)
        upsert.flush()
        if self.plan.modes[name] == "bulk":
            summary.not_in_file = upsert.remaining
        if orphans.count:
            ctx.warn(
                name,
                orphans.first,
                "userSourcedId",
                f"{orphans.count} enrolment(s) of a user who is tobedeleted and was never imported: skipped",
            )


_NAME_FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "preferred_given_name",
    "preferred_middle_name",
    "preferred_family_name",
)


class _Cached:
    """A parser with a memory: dates repeat a great deal in a roster."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self.parse = parse
        self.seen: dict[str, Any] = {}

    def __call__(self, text: str) -> Any:
        value = self.seen.get(text)
        if value is None:
            if len(self.seen) > 50_000:
                self.seen.clear()
            value = self.seen[text] = self.parse(text)
        return value


def _guardian_pair(a: int, b: int, kinds: dict[int, str]) -> tuple[int, int] | None:
    """(guardian, student) when one of the two is a guardian and the other a student."""
    kind_a, kind_b = kinds.get(a), kinds.get(b)
    if kind_a == Person.Kind.GUARDIAN and kind_b == Person.Kind.STUDENT:
        return a, b
    if kind_a == Person.Kind.STUDENT and kind_b == Person.Kind.GUARDIAN:
        return b, a
    return None


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:50] or "school"
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    return slug


def _guess_level(name: str) -> str:
    low = name.lower()
    if "elementary" in low or "primary" in low:
        return School.Level.ELEMENTARY
    if "middle" in low or "junior" in low:
        return School.Level.MIDDLE
    if "alternative" in low:
        return School.Level.ALTERNATIVE
    return School.Level.HIGH
