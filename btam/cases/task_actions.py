"""Tasks on a case: add, change (title, assignee, due date) and move between statuses.

The assignee must be someone who may be given work on the case
(:func:`~btam.cases.access.assignable_users`: the team of its working schools or the district;
named members of a restricted case); they are told through their inbox (``task_assigned``), by a
title that names the case number only. Every task action keeps ``Case.next_due_on`` (the earliest
due date of the case's open tasks) with :func:`update_next_due`, touches the case and writes an
audit event (never the title's text), in one transaction under the case's lock. A closed or merged
case refuses all of it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases import access
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case, Task
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_TASK_TITLE_CHARS = 200
# A due date further out than this is a typing mistake (2206 for 2026).
MAX_DUE_YEARS = 5

TaskStatus = Task.Status

# Allowed moves of a task's status. A finished or cancelled task can be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.OPEN: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.DONE: frozenset({TaskStatus.OPEN}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.OPEN}),
}


def can_transition(task: Task, status: str) -> bool:
    return status in TRANSITIONS.get(task.status, frozenset())


def next_statuses(task: Task) -> list[str]:
    """The statuses a task can move to, in the order of :class:`Task.Status`."""
    allowed = TRANSITIONS.get(task.status, frozenset())
    return [s for s in TaskStatus.values if s in allowed]


def today() -> dt.date:
    """Today in the site's time zone."""
    return timezone.localdate(clock.now())


def is_overdue(task: Task, on: dt.date | None = None) -> bool:
    return task.is_open and task.due_on is not None and task.due_on < (on or today())


def update_next_due(case: Case) -> dt.date | None:
    """Set ``case.next_due_on`` to the earliest due date of its open tasks (None without one).
    Called by every task action, in its transaction; other modules that move tasks (a merge)
    call it too."""
    earliest = (
        Task.objects.filter(case_id=case.pk, status__in=Task.OPEN_STATUSES, due_on__isnull=False)
        .aggregate(first=Min("due_on"))
        .get("first")
    )
    if case.next_due_on != earliest:
        Case.objects.filter(pk=case.pk).update(next_due_on=earliest)
        case.next_due_on = earliest
    return earliest


def _clean_title(title: str) -> str:
    return clean_text(title, label=_("The task"), max_chars=MAX_TASK_TITLE_CHARS, required=True)


def _clean_due(due_on: dt.date | None, *, previous: dt.date | None = None) -> dt.date | None:
    """A new or changed due date is today or later (an unchanged one may have passed)."""
    if due_on is None or due_on == previous:
        return due_on
    now = today()
    if due_on < now:
        raise CaseError(_("The due date has passed: choose today or a later day."))
    if due_on > now + dt.timedelta(days=365 * MAX_DUE_YEARS + 1):
        raise CaseError(_("The due date is more than %(years)d years away: check the year.") % {"years": MAX_DUE_YEARS})
    return due_on


def _check_assignee(case: Case, assignee: User | None) -> None:
    if assignee is None:
        return
    if assignee.pk not in {u.pk for u in access.assignable_users(case)}:
        raise CaseError(_("A task can be given only to someone on the team working this case."))


def tasks_path(case: Case) -> str:
    return reverse("cases:tasks", args=[case.pk])


def _tell_assignee(*, case: Case, task: Task, actor: User, at: dt.datetime) -> None:
    """The assignee's inbox item (and email): the case number only, no title (it may name a student)."""
    from btam.notifications.delivery import notify

    assignee = task.assignee
    if assignee is None or assignee.pk == actor.pk:
        return
    notify(
        recipients=[assignee],
        district_id=case.district_id,
        kind="task_assigned",
        title=_("Task on case %(number)s assigned to you") % {"number": case.number},
        link=tasks_path(case),
        target=case,
        urgent=False,
        dedupe_scope=f"task:{task.pk}:assignee:{assignee.pk}:{at.isoformat()}",
        email=True,
    )


def _state(task: Task) -> dict[str, Any]:
    """The audited state of a task (no title: it is free text)."""
    return {
        "status": task.status,
        "assignee": task.assignee_id,
        "due_on": task.due_on.isoformat() if task.due_on else None,
    }


def _locked_task(task: Task, case: Case) -> Task:
    fresh = Task.objects.filter(pk=task.pk, case_id=case.pk).select_related("assignee").first()
    if fresh is None:
        raise CaseError(_("This task is no longer on this case."))
    return fresh


def do_add_task(
    *, actor: User, case: Case, title: str, assignee: User | None = None, due_on: dt.date | None = None
) -> Task:
    title = _clean_title(title)
    due_on = _clean_due(due_on)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        _check_assignee(case, assignee)
        at = clock.now()
        task = Task.objects.create(
            case=case, title=title, assignee=assignee, due_on=due_on, created_at=at, created_by=actor
        )
        update_next_due(case)
        touch(case, at)
        audit(actor=actor, case=case, verb=Verb.CREATED, target=task, after=_state(task), detail={"task": task.pk})
        _tell_assignee(case=case, task=task, actor=actor, at=at)
    return task


def do_update_task(*, actor: User, task: Task, title: str, assignee: User | None, due_on: dt.date | None) -> Task:
    """Change an open task's title, assignee or due date (a new assignee is told)."""
    title = _clean_title(title)
    with transaction.atomic():
        case = lock_case(task.case_id, actor)
        ensure_editable(case)
        task = _locked_task(task, case)
        if not task.is_open:
            raise CaseError(
                _("This task is %(status)s: reopen it to change it.") % {"status": task.get_status_display().lower()}
            )
        due_on = _clean_due(due_on, previous=task.due_on)
        if assignee is not None and assignee.pk != task.assignee_id:
            _check_assignee(case, assignee)
        before = _state(task)
        title_changed = task.title != title
        assignee_id = assignee.pk if assignee is not None else None
        new_assignee = assignee_id is not None and assignee_id != task.assignee_id
        if not title_changed and assignee_id == task.assignee_id and due_on == task.due_on:
            return task
        task.title, task.assignee, task.due_on = title, assignee, due_on
        task.save(update_fields=["title", "assignee", "due_on"])
        at = clock.now()
        update_next_due(case)
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=task,
            before=before,
            after=_state(task),
            detail={"task": task.pk, "title_changed": title_changed},
        )
        if new_assignee:
            _tell_assignee(case=case, task=task, actor=actor, at=at)
    return task


def do_set_task_status(*, actor: User, task: Task, status: str) -> Task:
    if status not in TaskStatus.values:
        raise CaseError(_("Unknown task status."))
    with transaction.atomic():
        case = lock_case(task.case_id, actor)
        ensure_editable(case)
        task = _locked_task(task, case)
        if task.status == status:
            raise CaseError(_("This task is already %(status)s.") % {"status": task.get_status_display().lower()})
        if not can_transition(task, status):
            raise CaseError(
                _("A task that is %(from)s cannot become %(to)s.")
                % {"from": task.get_status_display().lower(), "to": TaskStatus(status).label.lower()}
            )
        before, at = _state(task), clock.now()
        task.status = status
        if task.is_open:
            task.completed_at, task.completed_by = None, None
        else:
            task.completed_at, task.completed_by = at, actor
        task.save(update_fields=["status", "completed_at", "completed_by"])
        update_next_due(case)
        touch(case, at)
        audit(actor=actor, case=case, target=task, before=before, after=_state(task), detail={"task": task.pk})
    return task
