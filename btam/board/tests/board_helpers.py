"""Shared set-up of the board tests: reports through the real intake action, cases through the
real case action, then moved to the state a test needs (level, reassessment date, task due day)
directly in the database. Every text is fictitious and distinctive, so a test can check that none
of it reaches the board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from btam.accounts.models import Role, User
from btam.assessments.models import Assessment
from btam.cases import actions
from btam.cases.models import Case, Task
from btam.intake.models import Report
from btam.intake.tests.triage_helpers import submit
from btam.lib import clock
from btam.orgs.models import School
from btam.testing import make_member

CASE_TITLE = "Quillfeather said he would settle it at the bus loop"
REPORT_TEXT = "Zephyrine Oakhollow wrote a threat on the locker room mirror."
TASK_TITLE = "Call Marigold's grandmother about the weekend"


def today() -> dt.date:
    return timezone.localdate(clock.now())


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def leader_of(world: Any, *schools: School) -> User:
    """A team leader of the named schools only (the world's own leader covers the whole district)."""
    return make_member(Role.TEAM_LEADER, world.district, list(schools))


def report(school: School, **answers: Any) -> Report:
    return submit(school, REPORT_TEXT, **answers)


def open_case(world: Any, school: School | None = None, *, actor: User | None = None, **changes: Any) -> Case:
    """A case opened by the district's team leader (or ``actor``) at ``school`` (the world's first),
    then updated with ``changes`` (fields of Case: status, risk_level, reassess_due_on...);
    ``restricted`` and ``manager`` go through the action."""
    opened = {k: changes.pop(k) for k in ("restricted", "manager") if k in changes}
    case = actions.do_open_case(
        actor=actor or world.users["team_leader"], school=school or world.school, title=CASE_TITLE, **opened
    )
    if changes:
        Case.objects.filter(pk=case.pk).update(**changes)
        case.refresh_from_db()
    return case


def overdue_task(case: Case, *, days: int = 3, assignee: User | None = None, status: str = Task.Status.OPEN) -> Task:
    """A task of ``case`` due ``days`` ago (made directly: the task action refuses a past day)."""
    return Task.objects.create(
        case=case,
        title=TASK_TITLE,
        assignee=assignee,
        due_on=today() - dt.timedelta(days=days),
        status=status,
        created_at=clock.now(),
        created_by=case.opened_by,
    )


def due_for_reassessment(case: Case, *, in_days: int, level: str = "high", scheme: str = "virginia") -> Case:
    """The case at ``level`` with its reassessment due ``in_days`` from today (negative: overdue)."""
    Case.objects.filter(pk=case.pk).update(
        risk_level=level, risk_scheme=scheme, reassess_due_on=today() + dt.timedelta(days=in_days)
    )
    case.refresh_from_db()
    return case


def pending_decision(case: Case, actor: User, *, level: str = "imminent") -> Assessment:
    """A decision at ``level`` waiting for a leader's approval."""
    now = clock.now()
    return Assessment.objects.create(
        case=case,
        district_id=case.district_id,
        instrument_id="cstag-decision-tree",
        instrument_version=1,
        instrument_kind="decision_tree",
        status=Assessment.Status.PENDING_APPROVAL,
        started_by=actor,
        started_at=now,
        updated_at=now,
        decided_by=actor,
        decided_at=now,
        scheme_id="virginia",
        scheme_version=1,
        level=level,
        rationale="Reviewed by the team.",
    )
