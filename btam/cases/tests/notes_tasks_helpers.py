"""Shared set-up of the notes and tasks tests: a case, a read-only school, users of each kind."""

from __future__ import annotations

from typing import Any

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case, CaseSchool
from btam.lib import clock
from btam.testing import make_member

# A phrase no ciphertext holds by chance (spaces): found in a table dump only if stored in clear.
SECRET = "Quinby Marchetti-Oldfield told the counselor about Friday"


def open_case(world: Any, *, school: Any = None, actor: User | None = None, restricted: bool = False) -> Case:
    return actions.do_open_case(
        actor=actor or world.users[Role.TEAM_MEMBER],
        school=school or world.school,
        title="Concern in the north building",
        restricted=restricted,
    )


def school_member(world: Any, school: Any, role: str = Role.TEAM_MEMBER) -> User:
    """A team member whose membership names one school only."""
    return make_member(role, world.district, schools=[school])


def give_read_access(case: Case, school: Any, by: User) -> None:
    """The old school of a transfer: it keeps read access."""
    CaseSchool.objects.create(
        case=case, school=school, access=CaseSchool.Access.READ, added_at=clock.now(), added_by=by
    )


def close(case: Case, world: Any) -> Case:
    """Closed by a district-wide leader (a leader's request is its own approval)."""
    return actions.do_request_closure(
        actor=world.users[Role.TEAM_LEADER], case=case, reason="no_threat", note="Checked: nothing to manage."
    )


def raw_rows(table: str) -> str:
    """Everything a table holds, as the database stores it (for plain-text checks)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a fixed table name of the tests)
        return repr(cursor.fetchall())
