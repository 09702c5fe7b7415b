"""The reassessment schedule: the due date from the level's interval (defaults and the district's
own), the day counted in the site's time zone, one schedule per case, the wording of due dates,
and which cases are due (never closed or merged ones)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.assessments import levels, schedule
from btam.assessments.models import AssessmentSettings, LevelChange, ReassessmentSchedule
from btam.assessments.tests.monitoring_helpers import at, set_level
from btam.cases.models import Case, Status
from btam.cases.tests.notes_tasks_helpers import close, open_case
from btam.lib import clock as clock_module

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any, clock: Any) -> Case:
    clock.freeze(at("2026-03-10", 9))
    return open_case(world, actor=member)


@pytest.mark.parametrize(("level", "days"), [("imminent", 1), ("high", 7), ("moderate", 30), ("low", 90)])
def test_the_due_date_follows_the_levels_default_interval(case: Case, member: Any, level: str, days: int) -> None:
    found = set_level(case, member, level)
    assert found.interval_days == days
    assert found.due_on == D("2026-03-10") + dt.timedelta(days=days)
    assert Case.objects.get(pk=case.pk).reassess_due_on == found.due_on
    assert found.set_by == member and found.district_id == case.district_id
    assert found.reminded_on is None and found.reason == ""


def test_a_districts_own_interval_wins_over_the_schemes(world: Any, case: Case, member: Any) -> None:
    AssessmentSettings.objects.create(district=world.district, reassess_days={"high": 3, "low": 0})
    assert set_level(case, member, "high").due_on == D("2026-03-13")
    assert set_level(case, member, "low").due_on == D("2026-03-10") + dt.timedelta(days=90)  # 0: not a setting


def test_another_scheme_uses_its_own_intervals(case: Case, member: Any) -> None:
    scheme = levels.registry_for(case.district_id).scheme("salem-keizer")
    found = set_level(case, member, "level-2", scheme_id="salem-keizer")
    assert found.interval_days == scheme.level("level-2").reassess_days
    assert found.due_on == D("2026-03-10") + dt.timedelta(days=found.interval_days)


def test_the_day_of_the_decision_is_the_sites_day_not_utcs(case: Case, member: Any) -> None:
    # 23:30 in New York is already the next day in UTC: the interval counts from the 10th.
    late = at("2026-03-10", 23, 30)
    assert late.astimezone(dt.UTC).date() == D("2026-03-11")
    assert set_level(case, member, "imminent", when=late).due_on == D("2026-03-11")


def test_a_new_level_replaces_the_schedule_and_clears_the_reminder_and_the_reason(
    case: Case, member: Any, clock: Any
) -> None:
    set_level(case, member, "moderate")
    ReassessmentSchedule.objects.filter(case=case).update(reminded_on=D("2026-03-10"), reason="Moved by hand.")
    clock.freeze(at("2026-03-12"))
    found = set_level(case, member, "high")
    assert ReassessmentSchedule.objects.filter(case=case).count() == 1
    assert (found.due_on, found.interval_days, found.reminded_on, found.reason) == (D("2026-03-19"), 7, None, "")
    assert LevelChange.objects.filter(case=case).count() == 2


def test_schedule_from_level_has_no_audit_event_or_transaction_of_its_own(case: Case, member: Any) -> None:
    from btam.audit.models import AuditEvent

    scheme = levels.registry_for(case.district_id).scheme("virginia")
    before = AuditEvent.objects.count()
    found = schedule.schedule_from_level(actor=member, case=case, scheme=scheme, level_id="low", at=clock_module.now())
    assert AuditEvent.objects.count() == before
    assert case.reassess_due_on == found.due_on == D("2026-06-08")


def test_a_level_outside_the_scheme_is_a_key_error(case: Case, member: Any) -> None:
    scheme = levels.registry_for(case.district_id).scheme("virginia")
    with pytest.raises(KeyError):
        schedule.schedule_from_level(actor=member, case=case, scheme=scheme, level_id="level-2", at=clock_module.now())
    assert not ReassessmentSchedule.objects.exists()


def test_clear_schedule_forgets_the_date(case: Case, member: Any) -> None:
    set_level(case, member, "low")
    schedule.clear_schedule(case)
    assert not ReassessmentSchedule.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).reassess_due_on is None


@pytest.mark.parametrize(
    ("due", "words"),
    [
        ("2026-03-10", "Due today"),
        ("2026-03-11", "Due tomorrow"),
        ("2026-03-15", "Due in 5 days"),
        ("2026-03-09", "1 day overdue"),
        ("2026-02-28", "10 days overdue"),
    ],
)
def test_due_dates_in_words(due: str, words: str) -> None:
    assert schedule.due_in_words(D(due), D("2026-03-10")) == words
    assert schedule.is_overdue(D(due), D("2026-03-10")) == words.endswith("overdue")


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "every day"), (7, "every week"), (14, "every 2 weeks"), (30, "every 30 days"), (90, "every 90 days")],
)
def test_intervals_in_words(days: int, words: str) -> None:
    assert schedule.interval_in_words(days) == words


def test_due_cases_are_open_due_within_the_week_most_overdue_first(world: Any, member: Any, clock: Any) -> None:
    clock.freeze(at("2026-03-01"))
    overdue = open_case(world, actor=member)
    set_level(overdue, member, "high")  # due 03-08
    soon = open_case(world, actor=member)
    set_level(soon, member, "moderate")  # due 03-31
    later = open_case(world, actor=member)
    set_level(later, member, "low")  # due 05-30
    closed = open_case(world, actor=member)
    set_level(closed, member, "imminent")
    close(closed, world)
    merged = open_case(world, actor=member)
    set_level(merged, member, "imminent")
    Case.objects.filter(pk=merged.pk).update(merged_into=soon)
    clock.freeze(at("2026-03-25"))
    due = list(schedule.due_cases(Case.objects.all()))
    assert due == [overdue, soon]
    assert Case.objects.get(pk=closed.pk).status == Status.CLOSED
