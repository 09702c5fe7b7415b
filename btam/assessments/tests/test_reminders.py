"""Reassessment reminders: who is told, when, how urgently, and never twice for one case and day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string

from btam.accounts.models import Role
from btam.assessments import tasks
from btam.assessments.models import ReassessmentSchedule
from btam.assessments.monitoring_actions import do_set_reassessment_date
from btam.assessments.tests.monitoring_helpers import at, set_level
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import close, open_case
from btam.notifications.models import Notification
from btam.worker.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
KIND = Notification.Kind.REASSESSMENT_DUE


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


def case_at(world: Any, member: Any, clock: Any, level: str, *, decided: str = "2026-03-01") -> Case:
    """A case managed by ``member``, at ``level`` since ``decided`` (high: due 7 days later)."""
    clock.freeze(at(decided, 9))
    case = open_case(world, actor=member)
    set_level(case, member, level)
    return case


def reminders() -> list[Notification]:
    return list(Notification.objects.filter(kind=KIND).order_by("pk"))


def test_the_job_runs_the_task_hourly() -> None:
    [job] = [j for j in PERIODIC_JOBS if j.name == "reassessment-reminders"]
    assert job.every_seconds == 3600
    assert import_string(job.task) is tasks.send_reassessment_reminders


def test_nothing_before_the_due_day(world: Any, member: Any, clock: Any) -> None:
    case_at(world, member, clock, "high")  # due 03-08
    clock.freeze(at("2026-03-07", 23, 59))
    assert tasks.send_reminders() == 0
    assert not reminders()


def test_due_today_the_case_manager_is_told_with_the_case_number_only(world: Any, member: Any, clock: Any) -> None:
    case = case_at(world, member, clock, "high")
    clock.freeze(at("2026-03-08", 7))
    assert tasks.send_reassessment_reminders.call() == 1
    [item] = reminders()
    assert item.recipient == member and item.title == f"Reassessment due: case {case.number}"
    assert item.link == reverse("assessments:monitoring", args=[case.pk]) and not item.urgent
    assert (item.target_type, item.target_id) == ("cases.case", str(case.pk))
    email = item.email_outbox
    assert email is not None
    assert case.number in email.payload["subject"] and case.title not in repr(email.payload)
    assert ReassessmentSchedule.objects.get(case=case).reminded_on == D("2026-03-08")


def test_overdue_at_a_high_level_is_urgent(world: Any, member: Any, clock: Any) -> None:
    case = case_at(world, member, clock, "high")
    clock.freeze(at("2026-03-10"))
    tasks.send_reminders()
    [item] = reminders()
    assert item.title == f"Reassessment overdue: case {case.number}" and item.urgent


def test_overdue_at_a_lower_level_is_not_urgent(world: Any, member: Any, clock: Any) -> None:
    case_at(world, member, clock, "moderate")  # due 03-31
    clock.freeze(at("2026-04-02"))
    tasks.send_reminders()
    [item] = reminders()
    assert item.title.startswith("Reassessment overdue") and not item.urgent


def test_one_reminder_a_day_however_many_runs(world: Any, member: Any, clock: Any) -> None:
    case_at(world, member, clock, "imminent")  # due 03-02
    clock.freeze(at("2026-03-02", 1))
    assert [tasks.send_reminders() for _ in range(3)] == [1, 0, 0]
    clock.freeze(at("2026-03-02", 23, 59))
    assert tasks.send_reminders() == 0
    clock.freeze(at("2026-03-03", 0, 1))  # a new day, still not reassessed: told again
    assert tasks.send_reminders() == 1
    assert [n.title.split(":")[0] for n in reminders()] == ["Reassessment due", "Reassessment overdue"]


def test_a_claim_taken_by_another_run_is_not_sent_again(world: Any, member: Any, clock: Any) -> None:
    """The conditional update: a second worker holding the same candidate updates no row."""
    case = case_at(world, member, clock, "high")
    clock.freeze(at("2026-03-09"))
    schedule_id = ReassessmentSchedule.objects.get(case=case).pk
    urgency = tasks._Urgency()
    assert tasks._remind(schedule_id, D("2026-03-09"), urgency) is True
    assert tasks._remind(schedule_id, D("2026-03-09"), urgency) is False
    assert len(reminders()) == 1


def test_closed_and_merged_cases_get_no_reminder(world: Any, member: Any, clock: Any) -> None:
    closed = case_at(world, member, clock, "high")
    close(closed, world)
    merged = case_at(world, member, clock, "high")
    survivor = open_case(world, actor=member)
    Case.objects.filter(pk=merged.pk).update(merged_into=survivor)
    clock.freeze(at("2026-03-20"))
    assert tasks.send_reminders() == 0
    assert not reminders()


def test_a_new_date_by_hand_is_reminded_on_its_own_day(world: Any, member: Any, clock: Any) -> None:
    case = case_at(world, member, clock, "high")  # due 03-08
    clock.freeze(at("2026-03-05"))
    do_set_reassessment_date(actor=member, case=case, due_on=D("2026-03-12"), reason="Student away this week.")
    clock.freeze(at("2026-03-08"))
    assert tasks.send_reminders() == 0
    clock.freeze(at("2026-03-12"))
    assert tasks.send_reminders() == 1


def test_without_an_active_manager_the_leaders_are_told(world: Any, member: Any, leader: Any, clock: Any) -> None:
    case = case_at(world, member, clock, "high")
    member.is_active = False
    member.save(update_fields=["is_active"])
    clock.freeze(at("2026-03-08"))
    tasks.send_reminders()
    assert [n.recipient for n in reminders()] == [leader]
    assert reminders()[0].title == f"Reassessment due: case {case.number}"


def test_a_manager_who_can_no_longer_see_the_case_is_replaced_by_the_leaders(
    world: Any, member: Any, leader: Any, clock: Any
) -> None:
    case = case_at(world, member, clock, "high")
    member.memberships.update(is_active=False)
    clock.freeze(at("2026-03-08"))
    assert tasks.recipients_for(Case.objects.get(pk=case.pk)) == [leader]


def test_one_failing_case_does_not_stop_the_others(
    world: Any, member: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = case_at(world, member, clock, "high")
    case_at(world, member, clock, "high")
    real = tasks.recipients_for

    def broken(case: Case) -> list[Any]:
        if case.pk == first.pk:
            raise RuntimeError("mail directory down")
        return real(case)

    monkeypatch.setattr(tasks, "recipients_for", broken)
    clock.freeze(at("2026-03-08"))
    assert tasks.send_reminders() == 1
    # The failed one was rolled back (not marked reminded): the next run tries it again.
    assert ReassessmentSchedule.objects.get(case=first).reminded_on is None
    monkeypatch.setattr(tasks, "recipients_for", real)
    assert tasks.send_reminders() == 1
    assert len(reminders()) == 2
