"""The tasks tab (a case's tasks: open first, by due date, overdue ones marked), a new task, a
task's edit and its status moves; and "my tasks" (the user's tasks on the cases they can see).

Case pages fetch the case through ``access.get_case_for_user`` before looking at the method (404
for a case the user cannot see; 403 when read-only and the view changes something), and a task
through its case (a task of another case is a 404). Task titles are case content: each page is
audited (``render_case`` for a case; one VIEWED event listing the tasks for "my tasks").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from btam.audit.models import AuditEvent, Verb
from btam.cases import access, task_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, Status, Task
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.cases.task_forms import TaskForm
from btam.core.access import policy

TASKS_PAGE_SIZE = 50
MY_TASKS_PAGE_SIZE = 50
PANEL = "cases/partials/_tasks_panel.html"

# The button that moves a task to each status.
STATUS_ACTIONS: dict[str, Any] = {
    Task.Status.IN_PROGRESS: gettext_lazy("Start"),
    Task.Status.DONE: gettext_lazy("Mark done"),
    Task.Status.CANCELLED: gettext_lazy("Cancel the task"),
    Task.Status.OPEN: gettext_lazy("Reopen"),
}


@dataclass
class TaskRow:
    task: Task
    overdue: bool
    moves: list[tuple[str, Any]]  # (status, button label)


def _open_first() -> SqlCase:
    return SqlCase(When(status__in=Task.OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())


def ordered(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Open tasks first, then by due date (tasks without one last), oldest first."""
    return tasks.annotate(closed_rank=_open_first()).order_by(
        "closed_rank", F("due_on").asc(nulls_last=True), "created_at", "pk"
    )


def _rows(tasks: list[Task], *, editable: bool, today: dt.date) -> list[TaskRow]:
    return [
        TaskRow(
            task=t,
            overdue=task_actions.is_overdue(t, today),
            moves=[(s, STATUS_ACTIONS[s]) for s in task_actions.next_statuses(t)] if editable else [],
        )
        for t in tasks
    ]


def _task_of(case: Case, task_pk: int) -> Task:
    task = Task.objects.filter(pk=task_pk, case=case).select_related("assignee").first()
    if task is None:
        raise Http404
    return task


def _tasks_page(
    request: HttpRequest,
    case: Case,
    *,
    add_form: forms.Form | None = None,
    error: str = "",
    done: str = "",
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    if add_form is None and editable:
        add_form = TaskForm(prefix="task", assignees=access.assignable_users(case))
    page_number = request.GET.get("page") if request.method == "GET" else None
    tasks = ordered(Task.objects.filter(case=case).select_related("assignee", "completed_by"))
    page = Paginator(tasks, TASKS_PAGE_SIZE).get_page(page_number)
    context: dict[str, Any] = {
        "can_write": can_write,
        "mode": "list",
        "add_form": add_form,
        "page": page,
        "rows": _rows(list(page.object_list), editable=editable, today=task_actions.today()),
        "error": error,
        "done": done,
    }
    return render_case(request, case, "cases/tasks.html", context, tab="tasks", status=status, partial=partial)


@policy(CASE_POLICY)
@never_cache
def tasks(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _tasks_page(request, case)


def _after_change(
    request: HttpRequest, case: Case, *, success: str, form: forms.Form | None, error: str
) -> HttpResponse:
    """The answer to a task POST: without JS a redirect (or the tab with the message and a 400);
    with htmx the panel (a 200 either way: htmx swaps only successful responses)."""
    htmx = bool(getattr(request, "htmx", False))
    if not error:
        if not htmx:
            messages.success(request, success)
            return redirect("cases:tasks", pk=case.pk)
        case.refresh_from_db()
        return _tasks_page(request, case, done=success, partial=PANEL)
    case.refresh_from_db()
    return _tasks_page(request, case, add_form=form, error=error, status=200 if htmx else 400, partial=PANEL)


@policy(CASE_POLICY)
@never_cache
def add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TaskForm(request.POST, prefix="task", assignees=access.assignable_users(case))
    error = ""
    if form.is_valid():
        try:
            task_actions.do_add_task(
                actor=user,
                case=case,
                title=form.cleaned_data["title"],
                assignee=form.cleaned_data["assignee"],
                due_on=form.cleaned_data["due_on"],
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
    else:
        error = _("The task was not added: check the form.")
    return _after_change(request, case, success=_("Task added."), form=form, error=error)


@policy(CASE_POLICY)
@never_cache
def set_status(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    task = _task_of(case, task_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    new_status = request.POST.get("status", "")
    error = ""
    try:
        task_actions.do_set_task_status(actor=user, task=task, status=new_status)
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        error = str(exc)
    label = Task.Status(new_status).label if new_status in Task.Status.values else ""
    success = _("Task marked %(status)s.") % {"status": str(label).lower()}
    return _after_change(request, case, success=success, form=None, error=error)


@policy(CASE_POLICY)
@never_cache
def edit(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    """Change an open task's title, assignee or due date."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    task = _task_of(case, task_pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    assignees = access.assignable_users(case)
    if task.assignee is not None and task.assignee.pk not in {u.pk for u in assignees}:
        assignees.append(task.assignee)  # kept as it is (the action checks a new assignee only)
    refusal = (
        ""
        if task.is_open
        else _("This task is %(status)s: reopen it to change it.") % {"status": task.get_status_display().lower()}
    )
    error = ""
    status = 200
    if request.method == "GET":
        initial = {"title": task.title, "assignee": task.assignee_id, "due_on": task.due_on}
        form = TaskForm(prefix="task", assignees=assignees, initial=initial)
    else:
        form = TaskForm(request.POST, prefix="task", assignees=assignees)
        if form.is_valid():
            try:
                task_actions.do_update_task(
                    actor=user,
                    task=task,
                    title=form.cleaned_data["title"],
                    assignee=form.cleaned_data["assignee"],
                    due_on=form.cleaned_data["due_on"],
                )
            except CaseError as exc:
                if (gone := lost_access(request, case, exc)) is not None:
                    return gone
                error = str(exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect("cases:tasks", pk=case.pk)
        status = 400
        case.refresh_from_db()
    context = {"mode": "edit", "task": task, "form": form, "refusal": refusal, "error": error}
    return render_case(request, case, "cases/tasks.html", context, tab="tasks", status=status)


# My tasks -----------------------------------------------------------------------------------------
def my_tasks_queryset(user: Any) -> QuerySet[Task]:
    """The user's tasks on cases they can see: open tasks of working cases first (by due date),
    then the rest. Case and school come in the same query."""
    visible = Case.objects.visible_to(user).values("pk")
    actionable = Q(status__in=Task.OPEN_STATUSES) & ~Q(case__status=Status.CLOSED) & Q(case__merged_into__isnull=True)
    return (
        Task.objects.filter(assignee_id=user.pk, case_id__in=visible)
        .select_related("case", "case__school")
        .annotate(closed_rank=SqlCase(When(actionable, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("closed_rank", F("due_on").asc(nulls_last=True), "created_at", "pk")
    )


@dataclass
class MyTaskRow:
    task: Task
    overdue: bool
    case_active: bool


@policy(CASE_POLICY)
@never_cache
def my_tasks(request: HttpRequest) -> HttpResponse:
    """Two queries whatever the number of tasks (the count and the page), and the audit event."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = user_of(request)
    page: Page[Any] = Paginator(my_tasks_queryset(user), MY_TASKS_PAGE_SIZE).get_page(request.GET.get("page"))
    today = task_actions.today()
    rows = []
    for task in page.object_list:
        active = not task.case.is_closed and not task.case.is_merged
        rows.append(MyTaskRow(task=task, overdue=active and task_actions.is_overdue(task, today), case_active=active))
    # One event per district on the page, with that district's ids (district auditors filter by
    # district); an empty page is one event of no district.
    by_district: dict[int | None, list[MyTaskRow]] = {}
    for row in rows:
        by_district.setdefault(row.task.case.district_id, []).append(row)
    for district_id, shown in sorted(by_district.items(), key=lambda item: item[0] or 0) or [(None, [])]:
        AuditEvent.objects.record(
            actor=user,
            verb=Verb.VIEWED,
            target_type="cases.task",
            district_id=district_id,
            detail={
                "page": "my_tasks",
                "page_number": page.number,
                "tasks": [r.task.pk for r in shown],
                "cases": sorted({r.task.case_id for r in shown}),
            },
        )
    return render(request, "cases/my_tasks.html", {"page": page, "rows": rows})


urlpatterns = [
    path("<int:pk>/tasks/", tasks, name="tasks"),
    path("<int:pk>/tasks/add/", add, name="task_add"),
    path("<int:pk>/tasks/<int:task_pk>/edit/", edit, name="task_edit"),
    path("<int:pk>/tasks/<int:task_pk>/status/", set_status, name="task_status"),
    path("my-tasks/", my_tasks, name="my_tasks"),
]
