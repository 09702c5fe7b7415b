"""The case overview and its workflow: a new case, the overview page, editing, screening,
moves between stages, closure (request, approval, decline) and reopening.

Every view is for the case roles (``pages.CASE_POLICY``); the case is fetched through
``access.get_case_for_user`` first (404 when not visible, whatever the method; 403 when the user
may only read it and the view changes something). Each change is one POST calling one action;
bad input re-renders the overview with the message and a 400, keeping what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Window
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.cases import access, actions, workflow
from btam.cases.actions import CaseError
from btam.cases.forms import ClosureForm, EditCaseForm, MoveForm, NewCaseForm, ReasonForm, ScreeningForm
from btam.cases.models import Case, CaseReport, CaseSchool, Status
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.core.access import policy, roles
from btam.orgs.models import School

# Reports listed on the overview (a surge can put hundreds on one case; the timeline has them all).
REPORTS_SHOWN = 20


@policy(roles(*access.TEAM_ROLES, label="case team"))
@never_cache
def new(request: HttpRequest) -> HttpResponse:
    """Open a case without a report (a concern the team raised itself)."""
    from btam.intake.access import triage_school_ids

    user = user_of(request)
    schools = School.objects.filter(pk__in=triage_school_ids(user)).order_by("name")
    if not schools.exists():
        return render(request, "cases/no_schools.html", status=403)
    form = NewCaseForm(request.POST or None, schools=schools)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = actions.do_open_case(
                    actor=user,
                    school=form.cleaned_data["school"],
                    title=form.cleaned_data["title"],
                    summary=form.cleaned_data["summary"],
                    restricted=form.cleaned_data["restricted"],
                )
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
                return redirect("cases:detail", pk=case.pk)
        status = 400
    return render(request, "cases/new.html", {"form": form}, status=status)


def _overview(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, forms.Form] | None = None,
    failed: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    from btam.cases import participant_views

    user = user_of(request)
    can_write = access.can_write(user, case)
    # The first reports and, on each row, how many the case has (one statement whatever the count).
    report_links = list(
        CaseReport.objects.filter(case=case)
        .select_related("report__school")
        .annotate(total=Window(Count("pk")))
        .order_by("linked_at", "pk")[:REPORTS_SHOWN]
    )
    report_count = report_links[0].total if report_links else 0
    schools = list(CaseSchool.objects.filter(case=case).select_related("school").order_by("added_at", "pk"))
    bound = bound or {}
    forms_ = {
        "screening": bound.get("screening")
        or ScreeningForm(
            initial={"decision": case.screening_decision, "rationale": case.screening_rationale}, prefix="screening"
        ),
        "move": bound.get("move") or MoveForm(prefix="move"),
        "closure": bound.get("closure") or ClosureForm(prefix="closure"),
        "decline": bound.get("decline") or ReasonForm(prefix="decline"),
        "reopen": bound.get("reopen") or ReasonForm(prefix="reopen"),
    }
    context: dict[str, Any] = {
        "can_write": can_write,
        "report_links": report_links,
        "report_count": report_count,
        "schools": schools,
        "forms": forms_,
        "failed": failed,
        "error": error,
        "next_steps": workflow.next_steps(case),
        "is_leader": access.is_leader_for(user, case),
        "can_close": case.can_transition_to(Status.CLOSED),
        **participant_views.overview_context(
            request,
            case,
            can_write=can_write,
            # Every report of the case is on the page already (the usual case): the split form's
            # choices need no query of their own.
            report_ids=[link.report_id for link in report_links] if report_count <= len(report_links) else None,
        ),
    }
    return render_case(request, case, "cases/detail.html", context, tab="overview", status=status)


@policy(CASE_POLICY)
@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _overview(request, case)


def _act(
    request: HttpRequest,
    pk: int,
    *,
    name: str,
    make_form: Callable[[HttpRequest, Case], forms.Form] | None,
    run: Callable[[Case, dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = make_form(request, case) if make_form else None
    bound = {name: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _overview(request, case, bound=bound, failed=name, status=400)
    try:
        run(case, form.cleaned_data if form is not None else {})
    except CaseError as exc:
        if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.error(request, str(exc))
            return redirect("cases:list")
        case.refresh_from_db()
        return _overview(request, case, bound=bound, failed=name, error=str(exc), status=400)
    messages.success(request, success)
    return redirect("cases:detail", pk=case.pk)


@policy(CASE_POLICY)
@never_cache
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The title, summary and case manager, on a page of their own (the manager list is the team's:
    the overview does not pay for it on every view)."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET" and (case.is_closed or case.is_merged):
        messages.error(request, _("This case is closed. Reopen it to change it."))
        return redirect("cases:detail", pk=case.pk)
    managers = access.assignable_users(case)
    if request.method == "GET":
        form = EditCaseForm(
            initial={"title": case.title, "summary": case.summary, "manager": case.manager_id},
            managers=managers,
            prefix="edit",
        )
        return render_case(request, case, "cases/edit.html", {"form": form}, tab="overview")
    form = EditCaseForm(request.POST, managers=managers, prefix="edit")
    if form.is_valid():
        try:
            actions.do_update_case(
                actor=user,
                case=case,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                manager=form.cleaned_data["manager"],
            )
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Case updated."))
            return redirect("cases:detail", pk=case.pk)
    case.refresh_from_db()
    return render_case(request, case, "cases/edit.html", {"form": form}, tab="overview", status=400)


@policy(CASE_POLICY)
@never_cache
def screening(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="screening",
        make_form=lambda r, case: ScreeningForm(r.POST, prefix="screening"),
        run=lambda case, d: actions.do_record_screening(
            actor=user, case=case, decision=d["decision"], rationale=d["rationale"]
        ),
        success=_("Screening decision recorded."),
    )


@policy(CASE_POLICY)
@never_cache
def move(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="move",
        make_form=lambda r, case: MoveForm(r.POST, prefix="move"),
        run=lambda case, d: actions.do_transition(actor=user, case=case, to_status=d["to_status"], reason=d["reason"]),
        success=_("Stage changed."),
    )


@policy(CASE_POLICY)
@never_cache
def request_closure(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="closure",
        make_form=lambda r, case: ClosureForm(r.POST, prefix="closure"),
        run=lambda case, d: actions.do_request_closure(actor=user, case=case, reason=d["reason"], note=d["note"]),
        success=_("Closure recorded. A case closes once a team leader approves (a leader's own request closes it)."),
    )


@policy(CASE_POLICY)
@never_cache
def approve_closure(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="approve",
        make_form=None,
        run=lambda case, d: actions.do_approve_closure(actor=user, case=case),
        success=_("Closure approved: the case is closed."),
    )


@policy(CASE_POLICY)
@never_cache
def decline_closure(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="decline",
        make_form=lambda r, case: ReasonForm(r.POST, prefix="decline"),
        run=lambda case, d: actions.do_decline_closure(actor=user, case=case, reason=d["reason"]),
        success=_("Closure declined. The case stays open."),
    )


@policy(CASE_POLICY)
@never_cache
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="reopen",
        make_form=lambda r, case: ReasonForm(r.POST, prefix="reopen"),
        run=lambda case, d: actions.do_reopen_case(actor=user, case=case, reason=d["reason"]),
        success=_("Case reopened."),
    )
