"""OneRoster pass 1: read every file, record every error (with file, line and column) and every
warning, write nothing. What the apply pass needs from it (the files to read and their modes,
the roles of 1.2 users) is kept on the :class:`Checker`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btam.people.importers.base import CsvFile, ImportContext, parse_bool, parse_date, parse_datetime
from btam.people.importers.oneroster.spec import (
    CHECKED_ONLY,
    COMMON,
    IMPORTED,
    KNOWN_FILES,
    LINKS,
    MANIFEST,
    MAX_ID,
    ORG_TYPES,
    REQUIRED,
    ROLE_TYPES,
    USER_TEXT,
    VERSIONS,
    Aggregate,
    parse_user_ids,
    valid_role,
)
from btam.people.models import Person, SourceOrg


class Checker:
    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.modes: dict[str, str] = {}  # file -> bulk | delta, for the files to read
        self.org_ids: set[str] = set()  # in the bundle
        self.known_orgs: set[str] = set()  # in the bundle or already imported
        self.user_ids: set[str] = set()
        self.birth_dates: dict[str, dt.date] = {}  # demographics.csv: user -> birth date
        self.unreadable: set[str] = set()  # files that could not be read to the end: no reference checks
        self.roles: dict[str, str] = {}  # 1.2: user -> role (roles.csv primary, else first)
        self.enrollment_roles: dict[str, str] = {}  # 1.2 without roles.csv: user -> role
        self.row_counts: dict[str, int] = {}

    # Pass 1 ---------------------------------------------------------------------------------------

    def validate(self) -> None:
        ctx = self.ctx
        ctx.start_phase("validating", 0)
        self._read_manifest()
        if ctx.errors:
            return
        self.known_orgs = set(SourceOrg.objects.filter(district=ctx.district).values_list("source_id", flat=True))
        checks = {
            "orgs.csv": self._check_orgs,
            "users.csv": self._check_users,
            "roles.csv": self._check_roles,
            "demographics.csv": self._check_demographics,
            "enrollments.csv": self._check_enrollments,
        }
        for name in IMPORTED:
            if name in self.modes:
                self._check_file(name, checks[name])
        for name in CHECKED_ONLY:
            if name in self.modes:
                self._check_file(name, None)
                ctx.file_summary(name).note = "checked, not stored"

    def _read_manifest(self) -> None:
        ctx = self.ctx
        bundle = ctx.bundle
        present = set(bundle.csv_files)
        listed: dict[str, str] = {}
        version = ""
        if bundle.has(MANIFEST):
            with ctx.open(MANIFEST) as f:
                missing = f.missing(("propertyName", "value"))
                if missing and not f.failed:
                    ctx.error(MANIFEST, 1, missing[0], "required column missing")
                    return
                i_name, i_value = f.col("propertyName"), f.col("value")
                assert i_name is not None and i_value is not None
                for line, row in f.rows():
                    prop, value = row[i_name].strip(), row[i_value].strip()
                    if prop == "oneroster.version":
                        version = value
                        if value not in VERSIONS:
                            reason = f"OneRoster version {value!r} is not supported (1.1, 1.2)"
                            ctx.error(MANIFEST, line, "value", reason)
                    elif prop.startswith("file."):
                        name = prop[5:] + ".csv"
                        mode = value.lower()
                        if mode not in ("bulk", "delta", "absent"):
                            ctx.error(MANIFEST, line, "value", f"{value!r} is not bulk, delta or absent")
                            continue
                        listed[name] = mode
                        if mode != "absent" and name not in present:
                            reason = f"the manifest lists this file as {mode} but it is not in the bundle"
                            ctx.error(name, 0, "", reason)
            if not version and not ctx.errors:
                ctx.error(MANIFEST, 0, "", "no oneroster.version in the manifest")
        else:
            version = self._guess_version()
            ctx.warn(MANIFEST, 0, "", f"no manifest.csv: read as OneRoster {version}, every file as bulk")
            listed = {name: "bulk" for name in present}
        ctx.version = VERSIONS.get(version, version)
        for name in sorted(present - {MANIFEST}):
            listed_mode = listed.get(name)
            if name not in KNOWN_FILES:
                ctx.warn(name, 0, "", "not a OneRoster file; ignored")
            elif listed_mode is None:
                ctx.warn(name, 0, "", "not listed in the manifest; read as bulk")
                self.modes[name] = "bulk"
            elif listed_mode == "absent":
                ctx.warn(name, 0, "", "the manifest says absent; ignored")
            else:
                self.modes[name] = listed_mode
        if "roles.csv" in self.modes and ctx.version == "1.1":
            ctx.warn("roles.csv", 0, "", "roles.csv is a OneRoster 1.2 file; ignored in a 1.1 bundle")
            del self.modes["roles.csv"]

    def _guess_version(self) -> str:
        if not self.ctx.bundle.has("users.csv"):
            return "1.2" if self.ctx.bundle.has("roles.csv") else "1.1"
        with self.ctx.open("users.csv") as f:
            return "1.1" if f.col("role") is not None else "1.2"

    def _check_file(self, name: str, check: Any) -> None:
        ctx = self.ctx
        mode = self.modes[name]
        delta = mode == "delta"
        required = REQUIRED.get(name, {}).get(ctx.version, COMMON)
        ids: set[str] = set()
        inactive = Aggregate()
        count = 0
        good_dates: set[str] = set()  # dateLastModified values already parsed (they repeat)
        summary = ctx.file_summary(name)
        if name == "users.csv":
            ctx.file_summary(LINKS)  # listed right after users.csv
        with ctx.open(name) as f:
            missing = f.missing(required) if not f.failed else []
            for column in missing:
                ctx.error(name, 1, column, "required column missing")
            if f.failed or missing:
                self.unreadable.add(name)
                return
            i_sid, i_status, i_dlm = f.col("sourcedId"), f.col("status"), f.col("dateLastModified")
            assert i_sid is not None and i_status is not None and i_dlm is not None
            row_check = check(f) if check is not None else None
            error = ctx.error
            for line, row in f.rows():
                count += 1
                sid = row[i_sid].strip()
                if not sid:
                    error(name, line, "sourcedId", "required, but blank")
                elif sid in ids:
                    error(name, line, "sourcedId", f"duplicate sourcedId {sid!r} (also on an earlier line)")
                elif len(sid) > MAX_ID:
                    error(name, line, "sourcedId", f"longer than {MAX_ID} characters")
                else:
                    ids.add(sid)
                status = row[i_status].strip().lower()
                if status == "inactive":
                    inactive.hit(line)
                elif status not in ("active", "tobedeleted"):
                    if status or delta:
                        error(name, line, "status", f"{row[i_status]!r} is not active or tobedeleted")
                dlm = row[i_dlm].strip()
                if dlm:
                    if dlm not in good_dates:
                        try:
                            parse_datetime(dlm)
                        except ValueError:
                            error(name, line, "dateLastModified", f"{dlm!r} is not an ISO 8601 date or date-time")
                        else:
                            if len(good_dates) > 10_000:
                                good_dates.clear()
                            good_dates.add(dlm)
                elif delta:
                    error(name, line, "dateLastModified", "required in a delta file, but blank")
                if row_check is not None and sid:
                    row_check(line, row, sid)
            if f.failed:  # stopped part way: later files must not report what it did not get to
                self.unreadable.add(name)
            if row_check is not None:
                row_check(0, None, "")  # end of file: deferred checks
        if inactive.count:
            ctx.warn(
                name,
                inactive.first,
                "status",
                f"{inactive.count} row(s) with status 'inactive' (OneRoster 1.0): taken as tobedeleted",
            )
        if name == "orgs.csv":
            self.org_ids = ids
        elif name == "users.csv":
            self.user_ids = ids
        self.row_counts[name] = count
        summary.rows = count

    def _date(self, name: str, line: int, row: list[str], index: int | None, column: str) -> None:
        if index is None:
            return
        value = row[index].strip()
        if value:
            try:
                parse_date(value)
            except ValueError:
                self.ctx.error(name, line, column, f"{value!r} is not a date (YYYY-MM-DD)")

    def _check_orgs(self, f: CsvFile) -> Any:
        ctx = self.ctx
        i_name, i_type = f.col("name"), f.col("type")
        i_parent, i_ident = f.col("parentSourcedId"), f.col("identifier")
        parents: dict[str, int] = {}
        seen: set[str] = set()

        def check(line: int, row: list[str] | None, sid: str) -> None:
            if row is None:
                known = seen | self.known_orgs
                for parent, first in parents.items():
                    if parent not in known:
                        ctx.warn(
                            f.name,
                            first,
                            "parentSourcedId",
                            f"parent org {parent!r} is not in the bundle nor already imported (kept without it)",
                        )
                return
            seen.add(sid)
            assert i_name is not None and i_type is not None
            name = row[i_name].strip()
            if not name:
                ctx.error(f.name, line, "name", "required, but blank")
            elif len(name) > 255:
                ctx.error(f.name, line, "name", "longer than 255 characters")
            org_type = row[i_type].strip().lower()
            if org_type not in ORG_TYPES and not org_type.startswith("ext:"):
                ctx.error(f.name, line, "type", f"{row[i_type]!r} is not an org type ({', '.join(sorted(ORG_TYPES))})")
            elif len(org_type) > 40:
                ctx.error(f.name, line, "type", "longer than 40 characters")
            if i_ident is not None and len(row[i_ident].strip()) > 255:
                ctx.error(f.name, line, "identifier", "longer than 255 characters")
            if i_parent is not None:
                parent = row[i_parent].strip()
                if parent and parent not in parents:
                    parents[parent] = line

        return check

    def _org_ref(self, name: str, line: int, column: str, value: str) -> None:
        if value and value not in self.org_ids and value not in self.known_orgs and "orgs.csv" not in self.unreadable:
            self.ctx.error(name, line, column, f"unknown org {value!r} (not in orgs.csv nor already imported)")

    def _check_users(self, f: CsvFile) -> Any:
        ctx = self.ctx
        name = f.name
        cols = [(column, f.col(column), limit) for column, _field, limit in USER_TEXT]
        i_role, i_orgs, i_primary_org = f.col("role"), f.col("orgSourcedIds"), f.col("primaryOrgSourcedId")
        i_agents, i_ids, i_grades = f.col("agentSourcedIds"), f.col("userIds"), f.col("grades")
        i_given, i_family = f.col("givenName"), f.col("familyName")
        seen: set[str] = set()
        forward_agents: dict[str, int] = {}
        bad_ids = Aggregate()
        ref_cache: set[str] = set()

        def check(line: int, row: list[str] | None, sid: str) -> None:
            if row is None:
                unknown = {a: first for a, first in forward_agents.items() if a not in seen}
                for agent, first in self._not_in_db(Person, unknown).items():
                    ctx.warn(name, first, "agentSourcedIds", f"unknown user {agent!r}: no guardian link made")
                if bad_ids.count:
                    ctx.warn(
                        name,
                        bad_ids.first,
                        "userIds",
                        f"{bad_ids.count} row(s) with userIds not in the {{type:id}} form; that text was ignored",
                    )
                return
            seen.add(sid)
            for column, index, limit in cols:
                if index is not None and len(row[index]) > limit and len(row[index].strip()) > limit:
                    ctx.error(name, line, column, f"longer than {limit} characters")
            assert i_given is not None and i_family is not None
            if not row[i_given].strip():
                ctx.error(name, line, "givenName", "required, but blank")
            if not row[i_family].strip():
                ctx.error(name, line, "familyName", "required, but blank")
            if i_role is not None:
                role = row[i_role].strip()
                if role and not valid_role(role):
                    ctx.error(name, line, "role", f"{role!r} is not a OneRoster role")
                elif not role and ctx.version == "1.1":
                    ctx.error(name, line, "role", "required, but blank")
            if i_orgs is not None:
                for org in row[i_orgs].split(","):
                    org = org.strip()
                    if org and org not in ref_cache:
                        if org in self.org_ids or org in self.known_orgs:
                            ref_cache.add(org)
                        else:
                            self._org_ref(name, line, "orgSourcedIds", org)
            if i_primary_org is not None:
                self._org_ref(name, line, "primaryOrgSourcedId", row[i_primary_org].strip())
            if i_agents is not None and row[i_agents].strip():
                for agent in row[i_agents].split(","):
                    agent = agent.strip()
                    if agent and agent not in seen and agent not in forward_agents:
                        forward_agents[agent] = line
            if i_ids is not None and row[i_ids].strip():
                _found, rest = parse_user_ids(row[i_ids])
                if rest:
                    bad_ids.hit(line)
            if i_grades is not None and len(row[i_grades]) > 200:
                ctx.error(name, line, "grades", "longer than 200 characters")

        return check

    def _user_ref(self, pending: dict[str, int], counts: dict[str, int], line: int, user: str) -> None:
        if user not in self.user_ids and "users.csv" not in self.unreadable:
            if user not in pending:
                pending[user] = line
                counts[user] = 0
            counts[user] += 1

    def _report_unknown_users(self, name: str, column: str, pending: dict[str, int], counts: dict[str, int]) -> None:
        for user, first in self._not_in_db(Person, pending).items():
            more = counts[user] - 1
            suffix = f" (and on {more} more line(s))" if more else ""
            self.ctx.error(name, first, column, f"unknown user {user!r}: not in users.csv nor already imported{suffix}")

    def _not_in_db(self, model: Any, refs: dict[str, int]) -> dict[str, int]:
        """The refs (id -> first line) that the district does not already have either."""
        if not refs:
            return {}
        keys = list(refs)
        found: set[str] = set()
        for start in range(0, len(keys), 2000):
            chunk = keys[start : start + 2000]
            found.update(
                model.objects.filter(district=self.ctx.district, source_id__in=chunk).values_list(
                    "source_id", flat=True
                )
            )
        return {k: v for k, v in refs.items() if k not in found}

    def _check_roles(self, f: CsvFile) -> Any:
        ctx = self.ctx
        name = f.name
        i_user, i_type, i_role, i_org = f.col("userSourcedId"), f.col("roleType"), f.col("role"), f.col("orgSourcedId")
        i_begin, i_end = f.col("beginDate"), f.col("endDate")
        pending: dict[str, int] = {}
        counts: dict[str, int] = {}
        primary: set[str] = set()

        def check(line: int, row: list[str] | None, sid: str) -> None:
            if row is None:
                self._report_unknown_users(name, "userSourcedId", pending, counts)
                return
            assert i_user is not None and i_type is not None and i_role is not None and i_org is not None
            user = row[i_user].strip()
            role = row[i_role].strip()
            role_type = row[i_type].strip().lower()
            if not user:
                ctx.error(name, line, "userSourcedId", "required, but blank")
            else:
                self._user_ref(pending, counts, line, user)
            if not valid_role(role):
                ctx.error(name, line, "role", f"{role!r} is not a OneRoster role")
            elif user:
                if role_type == "primary" and user not in primary:
                    primary.add(user)
                    self.roles[user] = role
                else:
                    self.roles.setdefault(user, role)
            if role_type not in ROLE_TYPES:
                ctx.error(name, line, "roleType", f"{row[i_type]!r} is not primary or secondary")
            org = row[i_org].strip()
            if not org:
                ctx.error(name, line, "orgSourcedId", "required, but blank")
            else:
                self._org_ref(name, line, "orgSourcedId", org)
            self._date(name, line, row, i_begin, "beginDate")
            self._date(name, line, row, i_end, "endDate")

        return check

    def _check_demographics(self, f: CsvFile) -> Any:
        name = f.name
        i_birth, i_status = f.col("birthDate"), f.col("status")
        assert i_status is not None
        pending: dict[str, int] = {}
        counts: dict[str, int] = {}

        def check(line: int, row: list[str] | None, sid: str) -> None:
            if row is None:
                self._report_unknown_users(name, "sourcedId", pending, counts)
                return
            self._user_ref(pending, counts, line, sid)
            value = row[i_birth].strip() if i_birth is not None else ""
            if value:
                try:
                    born = parse_date(value)
                except ValueError:
                    self.ctx.error(name, line, "birthDate", f"{value!r} is not a date (YYYY-MM-DD)")
                else:
                    if row[i_status].strip().lower() not in ("tobedeleted", "inactive"):
                        self.birth_dates[sid] = born

        return check

    def _check_enrollments(self, f: CsvFile) -> Any:
        ctx = self.ctx
        name = f.name
        i_class, i_school = f.col("classSourcedId"), f.col("schoolSourcedId")
        i_user, i_role = f.col("userSourcedId"), f.col("role")
        i_primary, i_begin, i_end = f.col("primary"), f.col("beginDate"), f.col("endDate")
        pending: dict[str, int] = {}
        counts: dict[str, int] = {}
        known_orgs = self.org_ids | self.known_orgs
        orgs_readable = "orgs.csv" not in self.unreadable
        user_ids = self.user_ids
        roles_from_file = self.roles
        guess_roles = ctx.version == "1.2"
        enrollment_roles = self.enrollment_roles
        error = ctx.error

        def check(line: int, row: list[str] | None, sid: str) -> None:
            if row is None:
                self._report_unknown_users(name, "userSourcedId", pending, counts)
                return
            assert i_class is not None and i_school is not None and i_user is not None and i_role is not None
            user = row[i_user].strip()
            if not user:
                error(name, line, "userSourcedId", "required, but blank")
            elif user not in user_ids:
                self._user_ref(pending, counts, line, user)
            school = row[i_school].strip()
            if not school:
                error(name, line, "schoolSourcedId", "required, but blank")
            elif school not in known_orgs and orgs_readable:
                error(name, line, "schoolSourcedId", f"unknown org {school!r} (not in orgs.csv nor already imported)")
            klass = row[i_class].strip()
            if not klass:
                error(name, line, "classSourcedId", "required, but blank")
            elif len(klass) > MAX_ID:
                error(name, line, "classSourcedId", f"longer than {MAX_ID} characters")
            role = row[i_role].strip()
            if not valid_role(role):
                error(name, line, "role", f"{role!r} is not a OneRoster role")
            elif guess_roles and user and user not in roles_from_file and user not in enrollment_roles:
                enrollment_roles[user] = role
            if i_primary is not None:
                value = row[i_primary].strip()
                if value and parse_bool(value) is None:
                    error(name, line, "primary", f"{value!r} is not true or false")
            begin = end = None
            if i_begin is not None and row[i_begin].strip():
                try:
                    begin = parse_date(row[i_begin].strip())
                except ValueError:
                    error(name, line, "beginDate", f"{row[i_begin].strip()!r} is not a date (YYYY-MM-DD)")
            if i_end is not None and row[i_end].strip():
                try:
                    end = parse_date(row[i_end].strip())
                except ValueError:
                    error(name, line, "endDate", f"{row[i_end].strip()!r} is not a date (YYYY-MM-DD)")
            if begin and end and end < begin:
                error(name, line, "endDate", f"{end} is before the begin date {begin}")

        return check

    # Pass 2 ---------------------------------------------------------------------------------------
