"""The task actions: add, change, status moves, the case's next due date, the assignee's notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseMember, Task
from btam.cases.task_actions import (
    MAX_TASK_TITLE_CHARS,
    do_add_task,
    do_set_task_status,
    do_update_task,
    is_overdue,
    today,
    update_next_due,
)
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, raw_rows, school_member
from btam.notifications.models import Notification
from btam.testing import make_member

pytestmark = pytest.mark.django_db

S = Task.Status
TITLE = "Call Quinby Marchetti-Oldfield's mother about Friday"


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def next_due(case: Case) -> dt.date | None:
    return Case.objects.get(pk=case.pk).next_due_on


def task_notices(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=Notification.Kind.TASK_ASSIGNED).order_by("pk"))


# Adding -------------------------------------------------------------------------------------------
def test_a_task_is_stored_encrypted_audited_and_its_assignee_told(
    world: Any, case: Case, member: Any, leader: Any, clock: Any
) -> None:
    clock.advance(minutes=3)
    task = do_add_task(actor=member, case=case, title=TITLE, assignee=leader, due_on=in_days(7))
    task.refresh_from_db()
    assert task.title == TITLE and task.assignee == leader and task.status == S.OPEN and task.created_by == member
    assert "Quinby" not in raw_rows("cases_task")
    assert next_due(case) == in_days(7)
    assert Case.objects.get(pk=case.pk).updated_at == task.created_at
    (notice,) = task_notices(leader)
    assert notice.title == f"Task on case {case.number} assigned to you"
    assert notice.link == reverse("cases:tasks", args=[case.pk])
    assert notice.district_id == world.district.pk
    (event,) = AuditEvent.objects.filter(target_type="cases.task", verb=Verb.CREATED)
    assert event.after == {"status": "open", "assignee": leader.pk, "due_on": in_days(7).isoformat()}
    assert "Quinby" not in raw_rows("audit_auditevent") and "Quinby" not in raw_rows("notifications_notification")


def test_assigning_yourself_tells_nobody(case: Case, member: Any) -> None:
    do_add_task(actor=member, case=case, title="Review the records", assignee=member)
    assert not task_notices(member)


def test_a_task_without_assignee_or_due_date_is_allowed(case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Review the records")
    assert task.assignee is None and task.due_on is None
    assert next_due(case) is None


def test_a_school_member_of_the_case_s_school_can_be_given_a_task(world: Any, case: Case, member: Any) -> None:
    north = school_member(world, world.school)
    assert do_add_task(actor=member, case=case, title="Check in", assignee=north).assignee == north
    assert task_notices(north)


@pytest.mark.parametrize("who", ["other_school", "other_district", "auditor", "inactive"])
def test_an_assignee_outside_the_case_s_team_is_refused(world: Any, case: Case, member: Any, who: str) -> None:
    assignee = {
        "other_school": lambda: school_member(world, world.other_school),
        "other_district": lambda: world.outsider,
        "auditor": lambda: world.users[Role.AUDITOR],
        "inactive": lambda: make_member(Role.TEAM_MEMBER, world.district, schools=[world.school], is_active=False),
    }[who]()
    with pytest.raises(CaseError, match="only to someone on the team working this case"):
        do_add_task(actor=member, case=case, title="Check in", assignee=assignee)
    assert not Task.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.TASK_ASSIGNED).exists()


def test_a_restricted_case_s_tasks_go_to_its_named_members_only(world: Any, member: Any, leader: Any) -> None:
    case = open_case(world, actor=member, restricted=True)
    with pytest.raises(CaseError, match="only to someone on the team working this case"):
        do_add_task(actor=member, case=case, title="Check in", assignee=leader)
    CaseMember.objects.create(case=case, user=leader, added_at=case.opened_at, added_by=member)
    assert do_add_task(actor=member, case=case, title="Check in", assignee=leader).assignee == leader


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": ""}, "The task is required."),
        ({"title": "x" * (MAX_TASK_TITLE_CHARS + 1)}, "The task is too long"),
        ({"due_on": "yesterday"}, "The due date has passed"),
        ({"due_on": "far"}, "more than 5 years away"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    case: Case, member: Any, values: dict[str, Any], message: str
) -> None:
    due = {"yesterday": in_days(-1), "far": in_days(365 * 6)}.get(values.get("due_on", ""), None)
    with pytest.raises(CaseError, match=message):
        do_add_task(actor=member, case=case, title=values.get("title", "Check in"), due_on=due)
    assert not Task.objects.exists()
    assert not AuditEvent.objects.filter(target_type="cases.task").exists()


def test_due_today_is_not_overdue_yet(case: Case, member: Any, clock: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in", due_on=today())
    assert not is_overdue(task)
    clock.advance(days=1)
    assert is_overdue(task)
    do_set_task_status(actor=member, task=task, status=S.DONE)
    task.refresh_from_db()
    assert not is_overdue(task)


def test_a_closed_or_merged_case_refuses_tasks(world: Any, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        do_add_task(actor=member, case=case, title="Another")
    with pytest.raises(CaseError, match="This case is closed"):
        do_set_task_status(actor=member, task=task, status=S.DONE)
    with pytest.raises(CaseError, match="This case is closed"):
        do_update_task(actor=member, task=task, title="Changed", assignee=None, due_on=None)
    other = open_case(world, actor=member)
    Case.objects.filter(pk=other.pk).update(merged_into=case)
    with pytest.raises(CaseError, match="merged into case"):
        do_add_task(actor=member, case=other, title="Another")
    assert Task.objects.count() == 1 and Task.objects.get().status == S.OPEN


def test_a_read_only_school_or_an_outsider_cannot_add(world: Any, case: Case, member: Any) -> None:
    give_read_access(case, world.other_school, member)
    for user in (school_member(world, world.other_school), world.outsider):
        with pytest.raises(CaseError, match="You can no longer change this case"):
            do_add_task(actor=user, case=case, title="Check in")
    assert not Task.objects.exists()


# Next due date -------------------------------------------------------------------------------------
def test_the_case_s_next_due_date_follows_its_open_tasks(case: Case, member: Any) -> None:
    later = do_add_task(actor=member, case=case, title="Later", due_on=in_days(10))
    sooner = do_add_task(actor=member, case=case, title="Sooner", due_on=in_days(2))
    do_add_task(actor=member, case=case, title="Whenever")
    assert next_due(case) == in_days(2)
    do_set_task_status(actor=member, task=sooner, status=S.IN_PROGRESS)
    assert next_due(case) == in_days(2)  # in progress is still open
    do_set_task_status(actor=member, task=sooner, status=S.DONE)
    assert next_due(case) == in_days(10)
    do_set_task_status(actor=member, task=later, status=S.CANCELLED)
    assert next_due(case) is None
    do_set_task_status(actor=member, task=sooner, status=S.OPEN)
    assert next_due(case) == in_days(2)
    do_update_task(actor=member, task=sooner, title="Sooner", assignee=None, due_on=in_days(1))
    assert next_due(case) == in_days(1)
    do_update_task(actor=member, task=sooner, title="Sooner", assignee=None, due_on=None)
    assert next_due(case) is None


def test_update_next_due_repairs_a_stale_value(case: Case, member: Any) -> None:
    do_add_task(actor=member, case=case, title="Check in", due_on=in_days(4))
    Case.objects.filter(pk=case.pk).update(next_due_on=None)
    fresh = Case.objects.get(pk=case.pk)
    assert update_next_due(fresh) == in_days(4) and next_due(case) == in_days(4)


# Status moves ------------------------------------------------------------------------------------
def test_done_records_who_and_when_and_reopening_clears_it(case: Case, member: Any, leader: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    done = do_set_task_status(actor=leader, task=task, status=S.DONE)
    assert done.status == S.DONE and done.completed_by == leader and done.completed_at is not None
    reopened = do_set_task_status(actor=member, task=task, status=S.OPEN)
    assert reopened.status == S.OPEN and reopened.completed_by is None and reopened.completed_at is None
    events = AuditEvent.objects.filter(target_type="cases.task", verb=Verb.UPDATED).order_by("pk")
    assert [(e.before["status"], e.after["status"]) for e in events] == [("open", "done"), ("done", "open")]


@pytest.mark.parametrize(
    ("start", "to", "message"),
    [
        (S.DONE, S.IN_PROGRESS, "A task that is done cannot become in progress."),
        (S.CANCELLED, S.DONE, "A task that is cancelled cannot become done."),
        (S.OPEN, S.OPEN, "This task is already open."),
        (S.OPEN, "finished", "Unknown task status."),
        (S.OPEN, "", "Unknown task status."),
    ],
)
def test_moves_out_of_order_are_refused(case: Case, member: Any, start: str, to: str, message: str) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    if start != S.OPEN:
        do_set_task_status(actor=member, task=task, status=start)
    with pytest.raises(CaseError, match=message):
        do_set_task_status(actor=member, task=task, status=to)
    assert Task.objects.get(pk=task.pk).status == start


def test_a_stale_task_object_is_checked_against_the_row(case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    stale = Task.objects.get(pk=task.pk)
    do_set_task_status(actor=member, task=task, status=S.CANCELLED)
    with pytest.raises(CaseError, match="cancelled cannot become done"):
        do_set_task_status(actor=member, task=stale, status=S.DONE)


# Changing a task ---------------------------------------------------------------------------------
def test_a_new_assignee_is_told_and_the_change_is_audited_without_the_title(
    world: Any, case: Case, member: Any, leader: Any
) -> None:
    task = do_add_task(actor=member, case=case, title="Check in", assignee=member, due_on=in_days(3))
    changed = do_update_task(actor=member, task=task, title=TITLE, assignee=leader, due_on=in_days(5))
    assert changed.title == TITLE and changed.assignee == leader and changed.due_on == in_days(5)
    assert len(task_notices(leader)) == 1
    event = AuditEvent.objects.filter(target_type="cases.task", verb=Verb.UPDATED).get()
    assert event.before["assignee"] == member.pk and event.after["assignee"] == leader.pk
    assert event.detail["title_changed"] is True
    assert "Quinby" not in raw_rows("audit_auditevent")
    # Saving again without a change tells nobody again and writes nothing.
    do_update_task(actor=member, task=changed, title=TITLE, assignee=leader, due_on=in_days(5))
    assert len(task_notices(leader)) == 1
    assert AuditEvent.objects.filter(target_type="cases.task", verb=Verb.UPDATED).count() == 1


def test_a_passed_due_date_may_stay_but_not_be_set(case: Case, member: Any, clock: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in", due_on=in_days(1))
    clock.advance(days=3)
    kept = do_update_task(actor=member, task=task, title="Check in again", assignee=None, due_on=task.due_on)
    assert kept.title == "Check in again"
    with pytest.raises(CaseError, match="The due date has passed"):
        do_update_task(actor=member, task=task, title="Check in again", assignee=None, due_on=in_days(-1))


def test_an_assignee_who_left_the_team_stays_until_changed_but_cannot_be_newly_given(
    world: Any, case: Case, member: Any
) -> None:
    north = school_member(world, world.school)
    task = do_add_task(actor=member, case=case, title="Check in", assignee=north)
    north.memberships.update(is_active=False)
    north = type(north).objects.get(pk=north.pk)
    kept = do_update_task(actor=member, task=task, title="Check in today", assignee=north, due_on=None)
    assert kept.assignee == north and kept.title == "Check in today"
    other = do_add_task(actor=member, case=case, title="Other")
    with pytest.raises(CaseError, match="only to someone on the team"):
        do_update_task(actor=member, task=other, title="Other", assignee=north, due_on=None)


def test_a_finished_task_is_reopened_before_it_changes(case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    do_set_task_status(actor=member, task=task, status=S.DONE)
    with pytest.raises(CaseError, match="This task is done: reopen it to change it."):
        do_update_task(actor=member, task=task, title="Changed", assignee=None, due_on=None)
    assert Task.objects.get(pk=task.pk).title == "Check in"


def test_a_member_of_another_school_cannot_move_the_task(world: Any, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    south = school_member(world, world.other_school)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        do_set_task_status(actor=south, task=task, status=S.DONE)
    assert Task.objects.get(pk=task.pk).status == S.OPEN
