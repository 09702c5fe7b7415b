"""The Plan tab of a case: what the rules of its level require and suggest, the interventions
(add, change, put in place, complete or stop with the outcome, put back in place, add a task), and
the safety plan (its form and its printable copies).

Every view fetches the case through ``access.get_case`` before it looks at the method (404 for a
case the user cannot see; 403 when they may only read it and the view changes something), and an
intervention through its case (one of another case is a 404). Pages render through
``render_case`` (the read is audited); a PDF download records its own ``DOWNLOADED`` event. htmx
posts get the plan panel back; without JS a POST answers with a redirect, or with the page, the
message and a 400.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Prefetch, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.assessments import access, plan, plan_actions, safety_pdf, schedule
from btam.assessments.models import Intervention, SafetyPlan
from btam.assessments.plan_forms import EditInterventionForm, EndForm, InterventionForm, PrintForm, SafetyPlanForm
from btam.audit.models import AuditEvent, Verb
from btam.cases import access as case_access
from btam.cases.actions import CaseError
from btam.cases.models import Case, Task
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.cases.task_forms import TaskForm
from btam.core.access import policy

TAB = "plan"
PAGE = "assessments/plan.html"
PANEL = "assessments/partials/_plan_panel.html"
SAFETY_PAGE = "assessments/safety_plan.html"


def _move_label(item: Intervention, status: str) -> str:
    """The button of an outcome-free move (ending an intervention has its own form)."""
    if status == Intervention.Status.ACTIVE:
        return _("Put back in place") if plan_actions.is_ended(item) else _("Put in place")
    return str(Intervention.Status(status).label)


@dataclass
class Refused:
    """A refused post about one intervention: its form comes back filled in, open, with the message."""

    part: str  # "end" or "task"
    error: str
    form: forms.Form


@dataclass
class InterventionRow:
    item: Intervention
    kind: plan.Kind
    tasks: list[Task]
    moves: list[tuple[str, str]] = field(default_factory=list)  # (status, button label)
    end_form: forms.Form | None = None
    task_form: forms.Form | None = None
    open_part: str = ""  # "end" or "task": the part shown open (after a refused post)
    error: str = ""


def _open_first() -> SqlCase:
    return SqlCase(
        When(status__in=Intervention.OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )


def interventions_of(case: Case) -> list[Intervention]:
    """The case's interventions, those planned or in place first, oldest first; owners and linked
    tasks in the same two queries."""
    tasks = Task.objects.select_related("assignee").order_by("created_at", "pk")
    return list(
        Intervention.objects.filter(case=case)
        .select_related("owner")
        .prefetch_related(Prefetch("tasks", queryset=tasks))
        .annotate(ended_rank=_open_first())
        .order_by("ended_rank", "created_at", "pk")
    )


def _end_form(item: Intervention, data: Any = None) -> EndForm:
    return EndForm(data, prefix=f"end-{item.pk}")


def _task_form(item: Intervention, assignees: list[User], data: Any = None) -> TaskForm:
    return TaskForm(data, prefix=f"task-{item.pk}", assignees=assignees)


def _rows(
    items: list[Intervention],
    kinds: dict[str, plan.Kind],
    *,
    editable: bool,
    assignees: list[User],
    bound: dict[int, Refused],
) -> list[InterventionRow]:
    rows = []
    for item in items:
        row = InterventionRow(item=item, kind=plan.kind_of(item.kind, kinds), tasks=list(item.tasks.all()))
        if editable:
            row.moves = [
                (s, _move_label(item, s))
                for s in plan_actions.next_statuses(item)
                if s not in plan_actions.ENDED_STATUSES
            ]
            if not plan_actions.is_ended(item):
                row.end_form = _end_form(item)
                row.task_form = _task_form(item, assignees)
            refused = bound.get(item.pk)
            if refused is not None:
                row.open_part, row.error = refused.part, refused.error
                if refused.part == "end":
                    row.end_form = refused.form
                else:
                    row.task_form = refused.form
        rows.append(row)
    return rows


def _review_date(texts: dict[str, str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(texts.get(plan.REVIEW_KEY) or "")
    except ValueError:
        return None


def _safety_summary(case: Case) -> dict[str, Any]:
    found = SafetyPlan.objects.filter(case=case).select_related("updated_by").first()
    if found is None:
        return {"exists": False}
    review = _review_date(found.sections)
    return {
        "exists": True,
        "plan": found,
        "review_on": review,
        "review_overdue": review is not None and review < schedule.today(),
    }


def _plan_page(
    request: HttpRequest,
    case: Case,
    *,
    add_form: InterventionForm | None = None,
    bound: dict[int, Refused] | None = None,
    error: str = "",
    done: str = "",
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    user = user_of(request)
    can_write = case_access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    kinds = plan.all_kinds(case.district_id)
    items = interventions_of(case)
    assignees = case_access.assignable_users(case) if editable else []
    offered = plan.kinds_for(case.district_id)
    add_open = add_form is not None and add_form.is_bound
    if add_form is None and editable:
        chosen = request.GET.get("kind", "") if request.method == "GET" else ""
        initial: dict[str, Any] = {"owner": user.pk if user.pk in {u.pk for u in assignees} else None}
        if chosen in {k.code for k in offered}:
            initial["kind"] = chosen
            add_open = True
        add_form = InterventionForm(prefix="add", kinds=offered, owners=assignees, initial=initial)
    rules = plan.rule_rows(case, items, kinds)
    missing = plan.required_missing(case, items)
    monitored = plan.is_monitored(case)
    context: dict[str, Any] = {
        "can_write": can_write,
        "mode": "list",
        "level_label": case.risk_level_label,
        "rules": rules,
        # Before monitoring: what the case needs to enter it; once monitored, the warning at the top.
        "missing_message": plan.missing_message(case, missing) if missing and not monitored else "",
        "required_missing": [plan.kind_of(code, kinds) for code in missing] if monitored else [],
        "rows": _rows(items, kinds, editable=editable, assignees=assignees, bound=bound or {}),
        "add_form": add_form,
        "add_open": add_open,
        "kinds": offered,
        "safety": _safety_summary(case),
        "error": error,
        # A refused post about one intervention: the message at the top links to it.
        "error_anchor": f"intervention-{next(iter(bound))}" if bound else "",
        "done": done,
    }
    return render_case(request, case, PAGE, context, tab=TAB, status=status, partial=partial)


def _after_change(
    request: HttpRequest,
    case: Case,
    *,
    success: str,
    error: str,
    add_form: InterventionForm | None = None,
    bound: dict[int, Refused] | None = None,
) -> HttpResponse:
    """The answer to a plan POST: without JS a redirect (or the tab with the message and a 400);
    with htmx the panel (a 200 either way: htmx swaps only successful responses)."""
    htmx = bool(getattr(request, "htmx", False))
    case.refresh_from_db()
    if not error:
        if not htmx:
            messages.success(request, success)
            return redirect("assessments:plan", pk=case.pk)
        return _plan_page(request, case, done=success, partial=PANEL)
    return _plan_page(
        request, case, add_form=add_form, bound=bound, error=error, status=200 if htmx else 400, partial=PANEL
    )


@policy(CASE_POLICY)
@never_cache
def plan_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _plan_page(request, case)


@policy(CASE_POLICY)
@never_cache
def intervention_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = InterventionForm(
        request.POST, prefix="add", kinds=plan.kinds_for(case.district_id), owners=case_access.assignable_users(case)
    )
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_actions.do_add_intervention(
                actor=user,
                case=case,
                kind=data["kind"],
                owner=data["owner"],
                details=data["details"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
    else:
        error = _("The intervention was not added: check the form.")
    return _after_change(request, case, success=_("Intervention added to the plan."), error=error, add_form=form)


@policy(CASE_POLICY)
@never_cache
def intervention_status(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    """Put in place or back in place (``status``), or end with the outcome (the end form)."""
    user = user_of(request)
    case, item = access.get_intervention(user, pk, intervention_pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    end_form = _end_form(item, request.POST)
    ending = end_form.add_prefix("status") in request.POST
    error = ""
    new_status = ""
    if ending:
        if end_form.is_valid():
            new_status, outcome = end_form.cleaned_data["status"], end_form.cleaned_data["outcome"]
        else:
            error = _("The intervention was not changed: check the outcome form.")
    else:
        new_status, outcome = request.POST.get("status", ""), ""
    if not error:
        try:
            plan_actions.do_set_intervention_status(actor=user, intervention=item, status=new_status, outcome=outcome)
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
    bound = {item.pk: Refused(part="end", error=error, form=end_form)} if error and ending else {}
    label = Intervention.Status(new_status).label if new_status in Intervention.Status.values else ""
    success = _("Intervention marked %(status)s.") % {"status": str(label).lower()}
    return _after_change(request, case, success=success, error=error, bound=bound)


@policy(CASE_POLICY)
@never_cache
def intervention_task_add(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    user = user_of(request)
    case, item = access.get_intervention(user, pk, intervention_pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = _task_form(item, case_access.assignable_users(case), request.POST)
    error = ""
    if form.is_valid():
        try:
            plan_actions.do_add_intervention_task(
                actor=user,
                intervention=item,
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
    bound = {item.pk: Refused(part="task", error=error, form=form)} if error else {}
    return _after_change(request, case, success=_("Task added to the intervention."), error=error, bound=bound)


@policy(CASE_POLICY)
@never_cache
def intervention_edit(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    """Change an intervention's kind, owner, details, dates (and an ended one's outcome)."""
    user = user_of(request)
    case, item = access.get_intervention(user, pk, intervention_pk, write=True)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    kinds = plan.all_kinds(case.district_id)
    owners = case_access.assignable_users(case)
    if item.owner is not None and item.owner.pk not in {u.pk for u in owners}:
        owners.append(item.owner)  # kept as it is (the action checks a new owner only)
    ended = plan_actions.is_ended(item)
    options: dict[str, Any] = {
        "prefix": "edit",
        "kinds": plan.kinds_for(case.district_id),
        "owners": owners,
        "current_kind": plan.kind_of(item.kind, kinds),
        "ended": ended,
    }
    error, status = "", 200
    if request.method == "GET":
        initial = {
            "kind": item.kind,
            "owner": item.owner_id,
            "details": item.details,
            "starts_on": item.starts_on,
            "ends_on": item.ends_on,
            "outcome": item.outcome,
        }
        form = EditInterventionForm(initial=initial, **options)
    else:
        form = EditInterventionForm(request.POST, **options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan_actions.do_update_intervention(
                    actor=user,
                    intervention=item,
                    kind=data["kind"],
                    owner=data["owner"],
                    details=data["details"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    outcome=data["outcome"] if ended else None,
                )
            except CaseError as exc:
                if (gone := lost_access(request, case, exc)) is not None:
                    return gone
                error = str(exc)
            else:
                messages.success(request, _("Intervention saved."))
                return redirect("assessments:plan", pk=case.pk)
        else:
            error = _("The intervention was not saved: check the form.")
        status = 400
        case.refresh_from_db()
    context = {
        "mode": "edit",
        "item": item,
        "kind": plan.kind_of(item.kind, kinds),
        "form": form,
        "error": error,
    }
    return render_case(request, case, PAGE, context, tab=TAB, status=status)


# The safety plan ---------------------------------------------------------------------------------------


def _safety_page(
    request: HttpRequest,
    case: Case,
    *,
    form: SafetyPlanForm | None = None,
    print_form: PrintForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    can_write = case_access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    found = SafetyPlan.objects.filter(case=case).select_related("updated_by").first()
    texts = found.sections if found is not None else {}
    if form is None and editable:
        initial: dict[str, Any] = {section_id: texts.get(section_id, "") for section_id in plan.SECTION_IDS}
        initial["review_on"] = texts.get(plan.REVIEW_KEY) or None
        initial["version"] = plan_actions.version_of(found)
        form = SafetyPlanForm(prefix="safety", initial=initial)
    review = _review_date(texts)
    context: dict[str, Any] = {
        "can_write": can_write,
        "safety_plan": found,
        "form": form,
        "shown": [(s, texts.get(s.id, "")) for s in plan.SAFETY_SECTIONS],
        "review_on": review,
        "review_overdue": review is not None and review < schedule.today(),
        "print_form": print_form or PrintForm(initial={"for": plan.STAFF}),
        "error": error,
    }
    return render_case(request, case, SAFETY_PAGE, context, tab=TAB, status=status)


@policy(CASE_POLICY)
@never_cache
def safety_plan(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case(user, pk, write=request.method == "POST")
    if request.method == "GET":
        return _safety_page(request, case)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = SafetyPlanForm(request.POST, prefix="safety")
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_actions.do_save_safety_plan(
                actor=user,
                case=case,
                sections={section_id: data[section_id] for section_id in plan.SECTION_IDS},
                review_on=data["review_on"],
                version=data["version"] or None,
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            messages.success(request, _("Safety plan saved."))
            return redirect("assessments:safety_plan", pk=case.pk)
    else:
        error = _("The safety plan was not saved: check the form.")
    case.refresh_from_db()
    return _safety_page(request, case, form=form, error=error, status=400)


@policy(CASE_POLICY)
@never_cache
def safety_plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One printed copy (``?for=staff`` or ``?for=family``): only the sections for those readers.
    Every download is audited; the file is never cached and is named by the case number only."""
    user = user_of(request)
    case = access.get_case(user, pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    print_form = PrintForm(request.GET)
    found = SafetyPlan.objects.filter(case=case).first()
    if found is None:
        return _safety_page(
            request,
            case,
            error=_("There is no safety plan on this case yet: write it first, then print it."),
            status=400,
        )
    if not print_form.is_valid():
        return _safety_page(request, case, print_form=print_form, error=_("Choose whose copy to print."), status=400)
    readers = print_form.cleaned_data["for"]
    document = safety_pdf.document_for(case, found, readers, printed_on=schedule.today())
    content = safety_pdf.render(document)
    AuditEvent.objects.record(
        actor=user,
        verb=Verb.DOWNLOADED,
        target=found,
        district_id=case.district_id,
        detail={
            "case": case.pk,
            "case_number": case.number,
            "document": "safety_plan",
            "readers": readers,
            "sections": [s.id for s in plan.sections_for(readers) if found.sections.get(s.id)],
        },
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{safety_pdf.file_name(case, readers)}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/plan/", plan_page, name="plan"),
    path("cases/<int:pk>/plan/interventions/add/", intervention_add, name="intervention_add"),
    path("cases/<int:pk>/plan/interventions/<int:intervention_pk>/edit/", intervention_edit, name="intervention_edit"),
    path(
        "cases/<int:pk>/plan/interventions/<int:intervention_pk>/status/",
        intervention_status,
        name="intervention_status",
    ),
    path(
        "cases/<int:pk>/plan/interventions/<int:intervention_pk>/tasks/add/",
        intervention_task_add,
        name="intervention_task_add",
    ),
    path("cases/<int:pk>/plan/safety/", safety_plan, name="safety_plan"),
    path("cases/<int:pk>/plan/safety/pdf/", safety_plan_pdf, name="safety_plan_pdf"),
]
