"""Related cases, merging (a confirm page showing both cases, undo from the surviving case),
splitting a report off into a new case, and adding a report to a case from the report's page.

Cases are picked by their number (typed, sent by POST): a number that does not exist and one of a
case the user may not see get the same message, so a number reveals nothing. A case addressed in a
URL (the merge's confirm page) is fetched through ``access.get_case_for_user``: 404 when not
visible. Each change is one POST calling one action of ``link_actions`` (or
``actions.do_add_report``); bad input shows the page again with the message and a 400.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.cases import access, actions, link_actions
from btam.cases.actions import CaseError
from btam.cases.link_forms import AddToCaseForm, LinkCaseForm, MergeConfirmForm, MergePickForm, SplitForm, UndoMergeForm
from btam.cases.models import Case, CaseLink, CaseMerge, CaseParticipant, CaseReport, Document, Note, Task
from btam.cases.pages import CASE_POLICY, record_view, render_case, user_of
from btam.core.access import policy, roles

# Reports offered to split off (a surge can put hundreds on one case).
SPLIT_CHOICES_MAX = 500

ADD_REPORT_POLICY = roles(*access.TEAM_ROLES, label="case team")


def links_context(
    request: HttpRequest,
    case: Case,
    *,
    can_write: bool,
    editable: bool,
    bound: dict[str, forms.Form],
    report_ids: list[int] | None = None,
) -> dict[str, Any]:
    """The overview's "Related cases" section: links both ways (the other case shown only when the
    user may see it), the merges into this case (undo), and the merge and split forms.
    ``report_ids``: all the case's reports in order, when the caller has them already."""
    user = user_of(request)
    links = list(
        CaseLink.objects.filter(Q(from_case=case) | Q(to_case=case))
        .select_related("from_case__school", "to_case__school")
        .order_by("created_at", "pk")
    )
    others = {link.pk: (link.to_case if link.from_case_id == case.pk else link.from_case) for link in links}
    visible: set[int] = set()
    if links:
        visible = set(
            Case.objects.visible_to(user).filter(pk__in=[c.pk for c in others.values()]).values_list("pk", flat=True)
        )
    related = [(link, others[link.pk]) for link in links if others[link.pk].pk in visible]
    merges_in = list(
        CaseMerge.objects.filter(target=case, undone_at__isnull=True)
        .select_related("source", "created_by")
        .order_by("created_at", "pk")
    )
    split_choices: list[tuple[int, str]] = []
    if editable:
        if report_ids is None:
            report_ids = list(
                CaseReport.objects.filter(case=case)
                .order_by("linked_at", "pk")
                .values_list("report_id", flat=True)[:SPLIT_CHOICES_MAX]
            )
        split_choices = [(report_id, f"R-{report_id}") for report_id in report_ids[:SPLIT_CHOICES_MAX]]
    return {
        "related": related,
        "related_hidden": len(links) - len(related),
        "merges_in": merges_in,
        "can_undo_merge": can_write and not case.is_closed and not case.is_merged,
        "split_choices": split_choices,
        "link_forms": {
            "link": bound.get("link") or LinkCaseForm(),
            "merge": bound.get("merge") or MergePickForm(),
            "split": bound.get("split") or SplitForm(reports=split_choices),
            "undo": UndoMergeForm(),
        },
    }


def _again(
    request: HttpRequest, case: Case, *, failed: str, error: str = "", bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    from btam.cases.participant_views import overview_again

    return overview_again(request, case, failed=failed, error=error, bound=bound)


def _run(
    request: HttpRequest, case: Case, *, name: str, run: Any, success: str, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    from btam.cases.participant_views import run_action

    return run_action(request, case, name=name, run=run, success=success, bound=bound, anchor="related-cases")


# Related cases ------------------------------------------------------------------------------------


@policy(CASE_POLICY)
@never_cache
def link_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = LinkCaseForm(request.POST)
    bound: dict[str, forms.Form] = {"link": form}
    if not form.is_valid():
        return _again(request, case, failed="link", bound=bound)

    def run() -> object:
        other = link_actions.find_case_by_number(user, district_id=case.district_id, number=form.cleaned_data["number"])
        return link_actions.do_link_cases(actor=user, case=case, other=other, note=form.cleaned_data["note"])

    return _run(request, case, name="link", bound=bound, run=run, success=_("The cases are now related."))


@policy(CASE_POLICY)
@never_cache
def link_remove(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    link = CaseLink.objects.filter(Q(from_case=case) | Q(to_case=case), pk=link_pk).first()
    if link is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return _run(
        request,
        case,
        name="link",
        run=lambda: link_actions.do_unlink_cases(actor=user, case=case, link=link),
        success=_("The cases are no longer related."),
    )


# Merging ------------------------------------------------------------------------------------------


@policy(CASE_POLICY)
@never_cache
def merge_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """The number of the case to merge this one into: on to the confirm page showing both."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MergePickForm(request.POST)
    bound: dict[str, forms.Form] = {"merge": form}
    if not form.is_valid():
        return _again(request, case, failed="merge", bound=bound)
    try:
        target = link_actions.find_case_by_number(
            user, district_id=case.district_id, number=form.cleaned_data["number"]
        )
        problem = link_actions.merge_blocker(case, target)
        if problem:
            raise CaseError(problem)
    except CaseError as exc:
        return _again(request, case, failed="merge", error=str(exc), bound=bound)
    return redirect("cases:merge_confirm", pk=case.pk, target_pk=target.pk)


def _merge_counts(case: Case) -> list[tuple[str, int]]:
    return [
        (_("Reports (with their reporter threads and attachments)"), CaseReport.objects.filter(case=case).count()),
        (_("People on the case"), CaseParticipant.objects.filter(case=case).count()),
        (_("Notes"), Note.objects.filter(case=case).count()),
        (_("Tasks"), Task.objects.filter(case=case).count()),
        (_("Documents"), Document.objects.filter(case=case).count()),
        (_("Related-case links"), CaseLink.objects.filter(Q(from_case=case) | Q(to_case=case)).count()),
    ]


@policy(CASE_POLICY)
@never_cache
def merge_confirm(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    """Both cases side by side; POST (with a reason) merges ``pk`` into ``target_pk``."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    target = access.get_case_for_user(user, target_pk, write=True)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = MergeConfirmForm(request.POST if request.method == "POST" else None)
    blocker = link_actions.merge_blocker(case, target) or ""
    error = blocker
    status = 400 if blocker else 200
    if request.method == "POST" and not blocker:
        if form.is_valid():
            try:
                link_actions.do_merge_cases(actor=user, source=case, target=target, reason=form.cleaned_data["reason"])
            except CaseError as exc:
                if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
                    messages.error(request, str(exc))
                    return redirect("cases:list")
                error = str(exc)
            else:
                messages.success(
                    request,
                    _("Case %(source)s was merged into this case. The merge can be undone from this page.")
                    % {"source": case.number},
                )
                return redirect("cases:detail", pk=target.pk)
        status = 400
    record_view(request, target, tab="merge")
    return render_case(
        request,
        case,
        "cases/merge_confirm.html",
        {
            "target": target,
            "form": form,
            "error": error,
            "blocked": bool(blocker),
            "counts": _merge_counts(case),
            "target_counts": _merge_counts(target),
        },
        tab="merge",
        status=status,
    )


@policy(CASE_POLICY)
@never_cache
def merge_undo(request: HttpRequest, pk: int, merge_pk: int) -> HttpResponse:
    """Undo a merge into this case (from the surviving case)."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    merge = CaseMerge.objects.filter(pk=merge_pk, target=case).select_related("source").first()
    if merge is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = UndoMergeForm(request.POST)
    if not form.is_valid():
        return _again(request, case, failed="undo", error=" ".join(str(e) for e in form.errors.get("reason", [])))
    return _run(
        request,
        case,
        name="undo",
        run=lambda: link_actions.do_undo_merge(actor=user, merge=merge, reason=form.cleaned_data["reason"]),
        success=_("Merge undone: case %(number)s has its reports, people, notes, tasks and documents back.")
        % {"number": merge.source.number},
    )


# Splitting ----------------------------------------------------------------------------------------


@policy(CASE_POLICY)
@never_cache
def split(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one report of this case into a new case (at the same school, related to this one)."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    choices = list(CaseReport.objects.filter(case=case).order_by("linked_at", "pk").values_list("report_id", flat=True))
    form = SplitForm(request.POST, reports=[(r, f"R-{r}") for r in choices])
    bound: dict[str, forms.Form] = {"split": form}
    if not form.is_valid():
        return _again(request, case, failed="split", bound=bound)
    link = CaseReport.objects.filter(case=case, report_id=form.cleaned_data["report"]).select_related("report").first()
    if link is None:
        return _again(request, case, failed="split", error=_("That report is not on this case."), bound=bound)
    try:
        new = link_actions.do_split_report(actor=user, case=case, report=link.report, title=form.cleaned_data["title"])
    except CaseError as exc:
        if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.error(request, str(exc))
            return redirect("cases:list")
        return _again(request, case, failed="split", error=str(exc), bound=bound)
    messages.success(
        request,
        _("Report %(ref)s is now on this new case, related to case %(old)s.")
        % {"ref": link.report.reference, "old": case.number},
    )
    return redirect("cases:detail", pk=new.pk)


# From a report's page -----------------------------------------------------------------------------


@policy(ADD_REPORT_POLICY)
@never_cache
def add_report(request: HttpRequest, report_pk: int) -> HttpResponse:
    """Add the report to an existing case of its district, given by number (the user must see and
    work that case). The report records the triage decision "case opened"."""
    from btam.intake.access import get_report_for_user
    from btam.intake.triage_views import _report_page

    user = user_of(request)
    report = get_report_for_user(user, report_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AddToCaseForm(request.POST)
    bound: dict[str, forms.Form] = {"add_to_case": form}
    if not form.is_valid():
        return _report_page(request, report, bound=bound, failed="add_to_case", status=400)
    try:
        case = link_actions.find_case_by_number(
            user, district_id=report.district_id, number=form.cleaned_data["number"]
        )
        if not access.can_write(user, case):
            raise CaseError(
                _("You can read case %(number)s but not change it: ask its team to add the report.")
                % {"number": case.number}
            )
        actions.do_add_report(actor=user, case=case, report=report, note=form.cleaned_data["reason"])
    except CaseError as exc:
        return _report_page(request, report, bound=bound, failed="add_to_case", error=str(exc), status=400)
    messages.success(
        request, _("Report %(ref)s added to case %(number)s.") % {"ref": report.reference, "number": case.number}
    )
    return redirect("cases:detail", pk=case.pk)


urlpatterns = [
    path("<int:pk>/links/add/", link_add, name="link_add"),
    path("<int:pk>/links/<int:link_pk>/remove/", link_remove, name="link_remove"),
    path("<int:pk>/merge/", merge_pick, name="merge_pick"),
    path("<int:pk>/merge/<int:target_pk>/", merge_confirm, name="merge_confirm"),
    path("<int:pk>/merges/<int:merge_pk>/undo/", merge_undo, name="merge_undo"),
    path("<int:pk>/split/", split, name="split"),
    path("reports/<int:report_pk>/add-to-case/", add_report, name="add_report"),
]
