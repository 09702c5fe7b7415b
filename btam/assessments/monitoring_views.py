"""The monitoring tab of a case (the reassessment schedule, check-ins that raised a concern, the
check-in log) with its two forms, and the list of reassessments due across the cases a user sees.

Case pages fetch the case through ``access.get_case`` before looking at the method (404 for a case
the user cannot see; 403 when read-only and the view changes something) and render through
``render_case`` (the read is audited). Forms post without JS (a redirect, or the page with the
errors and a 400) and with htmx (the panel, a 200 either way: htmx swaps only successful answers).
The due list is two queries whatever its length (the counts and the rows; the school, manager and
level's name come with the rows) plus its audit event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.assessments import access, decision_actions, levels, monitoring_actions, plan, schedule
from btam.assessments.models import Assessment, CheckIn, Intervention, ReassessmentSchedule
from btam.assessments.monitoring_forms import CheckInForm, ReassessmentDateForm
from btam.audit.models import AuditEvent, Verb
from btam.cases.access import can_write
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.core.access import policy

CHECK_INS_PAGE_SIZE = 50
DUE_PAGE_SIZE = 50
PANEL = "assessments/partials/_mon_panel.html"
TAB = "monitoring"


# The monitoring tab -------------------------------------------------------------------------------


@dataclass
class ScheduleView:
    """The schedule as the page words it."""

    schedule: ReassessmentSchedule
    in_words: str
    overdue: bool
    due_today: bool
    interval: str  # "every 7 days" ("" for a date set without a level)


@dataclass
class CheckInRow:
    check_in: CheckIn
    intervention: str  # the intervention's name ("" for none)


def _schedule_view(found: ReassessmentSchedule | None, today: dt.date) -> ScheduleView | None:
    if found is None:
        return None
    left = schedule.days_left(found.due_on, today)
    return ScheduleView(
        schedule=found,
        in_words=schedule.due_in_words(found.due_on, today),
        overdue=left < 0,
        due_today=left == 0,
        interval=schedule.interval_in_words(found.interval_days) if found.interval_days else "",
    )


def _intervention_labels(
    case: Case, interventions: list[Intervention], kinds: dict[str, plan.Kind] | None = None
) -> dict[int, str]:
    kinds = kinds if kinds is not None else plan.all_kinds(case.district_id)
    labels: dict[int, str] = {}
    for item in interventions:
        label = str(plan.kind_of(item.kind, kinds).label)
        if item.starts_on:
            label = _("%(kind)s (from %(date)s)") % {"kind": label, "date": item.starts_on.isoformat()}
        labels[item.pk] = label
    return labels


def _reassessment(case: Case) -> dict[str, Any]:
    """What "Reassess now" needs: the latest decided assessment (the reassessment's ``previous``)
    and an assessment already under way, if any."""
    latest = decision_actions.latest_decided(case)
    under_way = (
        Assessment.objects.filter(case=case, status__in=decision_actions.OPEN_STATUSES)
        .order_by("-started_at", "-pk")
        .only("pk", "status", "started_at")
        .first()
    )
    return {
        "latest_decided": latest,
        "under_way": under_way,
        "start_url": reverse("assessments:start", args=[case.pk]),
        "under_way_url": reverse("assessments:detail", args=[case.pk, under_way.pk]) if under_way else None,
        "assessments_url": reverse("assessments:case", args=[case.pk]),
    }


def _concerns(case: Case) -> dict[str, Any]:
    """Check-ins that raised a new concern since the current level was decided (all of them when
    no level is recorded): shown at the top of the tab."""
    raised = CheckIn.objects.filter(case=case, concern=True)
    if case.risk_set_at is not None:
        raised = raised.filter(occurred_on__gte=schedule.day_of(case.risk_set_at))
    latest = raised.order_by("-occurred_on", "-created_at").values_list("occurred_on", flat=True).first()
    return {"concern_count": raised.count() if latest else 0, "concern_latest": latest}


def _page(
    request: HttpRequest,
    case: Case,
    *,
    check_in_form: CheckInForm | None = None,
    date_form: ReassessmentDateForm | None = None,
    error: str = "",
    error_form: str = "",
    done: str = "",
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    user = user_of(request)
    writable = can_write(user, case)
    editable = writable and not case.is_closed and not case.is_merged
    today = schedule.today()
    interventions = list(Intervention.objects.filter(case=case).order_by("created_at", "pk"))
    kinds = plan.all_kinds(case.district_id)
    labels = _intervention_labels(case, interventions, kinds)
    # A monitored case whose level (raised by a decision) requires kinds the plan lacks: warn.
    missing = plan.required_missing(case, interventions) if plan.is_monitored(case) else []
    if editable and check_in_form is None:
        check_in_form = CheckInForm(
            prefix="checkin", interventions=interventions, labels=labels, initial={"occurred_on": today}
        )
    found = schedule.schedule_of(case)
    if editable and date_form is None:
        start = max(found.due_on, today) if found else None
        date_form = ReassessmentDateForm(prefix="schedule", initial={"due_on": start})
    page_number = request.GET.get("page") if request.method == "GET" else None
    check_ins = CheckIn.objects.filter(case=case).select_related("author")
    page = Paginator(check_ins.order_by("-occurred_on", "-created_at", "-pk"), CHECK_INS_PAGE_SIZE).get_page(
        page_number
    )
    rows = [CheckInRow(c, labels.get(c.intervention_id or 0, "")) for c in page.object_list]
    context: dict[str, Any] = {
        "can_write": writable,
        "today": today,
        "plan": _schedule_view(found, today),
        "page": page,
        "check_ins": rows,
        "check_in_form": check_in_form,
        "required_missing": [plan.kind_of(code, kinds) for code in missing],
        "date_form": date_form,
        "error": error,
        "error_form": error_form,
        "done": done,
        **_reassessment(case),
        **_concerns(case),
    }
    return render_case(request, case, "assessments/monitoring.html", context, tab=TAB, status=status, partial=partial)


@policy(CASE_POLICY)
@never_cache
def monitoring(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request, case)


def _after_change(
    request: HttpRequest,
    case: Case,
    *,
    success: str,
    error: str,
    error_form: str,
    check_in_form: CheckInForm | None = None,
    date_form: ReassessmentDateForm | None = None,
) -> HttpResponse:
    htmx = bool(getattr(request, "htmx", False))
    case.refresh_from_db()
    if not error:
        if not htmx:
            messages.success(request, success)
            return redirect("assessments:monitoring", pk=case.pk)
        return _page(request, case, done=success, partial=PANEL)
    return _page(
        request,
        case,
        check_in_form=check_in_form,
        date_form=date_form,
        error=error,
        error_form=error_form,
        status=200 if htmx else 400,
        partial=PANEL,
    )


@policy(CASE_POLICY)
@never_cache
def add_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    interventions = list(Intervention.objects.filter(case=case).order_by("created_at", "pk"))
    form = CheckInForm(
        request.POST, prefix="checkin", interventions=interventions, labels=_intervention_labels(case, interventions)
    )
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            monitoring_actions.do_add_check_in(
                actor=user,
                case=case,
                occurred_on=data["occurred_on"],
                method=data["method"],
                summary=data["summary"],
                concern=data["concern"],
                intervention=data["intervention"],
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
    else:
        error = _("The check-in was not saved: check the form.")
    return _after_change(
        request, case, success=_("Check-in saved."), error=error, error_form="check_in", check_in_form=form
    )


@policy(CASE_POLICY)
@never_cache
def set_date(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReassessmentDateForm(request.POST, prefix="schedule")
    error = ""
    if form.is_valid():
        try:
            monitoring_actions.do_set_reassessment_date(
                actor=user, case=case, due_on=form.cleaned_data["due_on"], reason=form.cleaned_data["reason"]
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
    else:
        error = _("The reassessment date was not changed: check the form.")
    return _after_change(
        request, case, success=_("Reassessment date changed."), error=error, error_form="schedule", date_form=form
    )


# Reassessments due --------------------------------------------------------------------------------


@dataclass
class DueRow:
    case: Case
    level: str
    in_words: str
    overdue: bool


def level_labels(cases: list[Case]) -> dict[tuple[int, str, str], str]:
    """The name of each (district, scheme, level) among ``cases``, from the case's district's schemes
    (one look-up per distinct level, not per case)."""
    keys = {(c.district_id, c.risk_scheme, c.risk_level) for c in cases if c.risk_level}
    labels = levels.LevelLabels()
    return {key: labels(*key) for key in keys}


@policy(CASE_POLICY)
@never_cache
def due(request: HttpRequest) -> HttpResponse:
    """Reassessments due within DUE_SOON_DAYS and overdue, on the open cases the user can see;
    ``?mine=1``: only the cases they manage."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = user_of(request)
    today = schedule.today()
    mine = request.GET.get("mine") == "1"
    cases = schedule.due_cases(Case.objects.visible_to(user), on=today)
    if mine:
        cases = cases.filter(manager_id=user.pk)
    counts = cases.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(reassess_due_on__lt=today)))
    cases = cases.select_related("school", "manager")
    paginator = Paginator(cases, DUE_PAGE_SIZE)
    paginator.count = counts["total"]  # counted with the overdue ones, in one query
    page: Page[Any] = paginator.get_page(request.GET.get("page"))
    shown: list[Case] = list(page.object_list)
    labels = level_labels(shown)
    rows = [
        DueRow(
            case=c,
            level=labels.get((c.district_id, c.risk_scheme, c.risk_level), ""),
            in_words=schedule.due_in_words(c.reassess_due_on, today) if c.reassess_due_on else "",
            overdue=schedule.is_overdue(c.reassess_due_on, today),
        )
        for c in shown
    ]
    # One event per district on the page, with that district's cases (district auditors filter by
    # district); an empty page is one event of no district.
    by_district: dict[int | None, list[int]] = {}
    for c in shown:
        by_district.setdefault(c.district_id, []).append(c.pk)
    for district_id, case_ids in sorted(by_district.items(), key=lambda item: item[0] or 0) or [(None, [])]:
        AuditEvent.objects.record(
            actor=user,
            verb=Verb.VIEWED,
            target_type="cases.case",
            district_id=district_id,
            detail={"page": "reassessments_due", "page_number": page.number, "cases": case_ids},
        )
    context = {
        "page": page,
        "rows": rows,
        "mine": mine,
        "soon_days": schedule.DUE_SOON_DAYS,
        "overdue_count": counts["overdue"],
        "total_count": counts["total"],
    }
    return render(request, "assessments/due.html", context)


urlpatterns = [
    path("cases/<int:pk>/monitoring/", monitoring, name="monitoring"),
    path("cases/<int:pk>/monitoring/check-ins/add/", add_check_in, name="check_in_add"),
    path("cases/<int:pk>/monitoring/reassessment-date/", set_date, name="reassessment_date"),
    path("assessments/due/", due, name="due"),
]
