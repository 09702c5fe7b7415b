"""The school team's side of intake: the triage queue, a report's page, its attachments, surge
groups, and the triage decisions (each a POST that calls one action of ``triage_actions.py``).

Every page is for the team roles (``access.TRIAGE_ROLES``) and shows only reports of the schools the
user's team works (``Report.objects.visible_to``): a report of another school is a 404, whatever the
method. A report's page shows its content (decrypted), so every view of it records a VIEWED audit
event; a download of an attachment records DOWNLOADED. The queue and group pages list references,
schools, times and statuses only (no names, no narrative).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, When, Window
from django.db.models.functions import RowNumber
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.core.access import policy, roles
from btam.intake import surge, triage_actions
from btam.intake.access import TRIAGE_ROLES, get_report_for_user
from btam.intake.actions import IntakeError, do_post_team_message
from btam.intake.models import Attachment, Report, ReportQuerySet, SurgeGroup, TriageDecision, Urgency
from btam.intake.triage_actions import TriageError
from btam.intake.triage_forms import (
    DuplicateForm,
    MessageForm,
    NoteForm,
    ObservedBehaviour,
    QueueFilterForm,
    QueueStatus,
    ReasonForm,
    ReferForm,
    UrgencyForm,
)
from btam.orgs.models import School

TRIAGE_POLICY = roles(*TRIAGE_ROLES, label="triage")
QUEUE_PAGE_SIZE = 25
# Reports of a surge group listed in its queue item (all of them are on the group's page).
GROUP_PREVIEW = 10
GROUP_PAGE_SIZE = 50

Status = Report.Status
Kind = TriageDecision.Kind

_EXTENSIONS: dict[str, str] = {
    Attachment.Kind.JPEG: "jpg",
    Attachment.Kind.PNG: "png",
    Attachment.Kind.GIF: "gif",
    Attachment.Kind.WEBP: "webp",
    Attachment.Kind.PDF: "pdf",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


# The queue ----------------------------------------------------------------------------------------
def filter_reports(qs: ReportQuerySet, *, school: Any, status: str) -> ReportQuerySet:
    """The reports a queue filter shows (``qs`` is already scoped to the user)."""
    if school is not None:
        qs = qs.filter(school=school)
    if status == QueueStatus.ABUSE:
        return qs.filter(is_abuse=True)
    qs = qs.filter(is_abuse=False)
    if status == QueueStatus.REFERRED:
        return qs.filter(Q(referred_from__isnull=False) | Q(status=Status.REFERRED))
    if status in (QueueStatus.SCREENED_OUT, QueueStatus.DUPLICATE, QueueStatus.CASE_OPENED):
        return qs.filter(status=status)
    return qs.filter(status__in=Report.OPEN_STATUSES)


@dataclass
class QueueItem:
    """One row of the queue: a report on its own, or a surge group holding ``count`` of the reports."""

    urgency: int
    oldest: dt.datetime
    count: int = 1
    acknowledged: int = 0
    schools: int = 1
    report: Report | None = None
    group: SurgeGroup | None = None
    reports: list[Report] = field(default_factory=list)  # a group's first GROUP_PREVIEW reports

    @property
    def more(self) -> int:
        return self.count - len(self.reports)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return _reason_labels(self.group.reasons or {}) if self.group is not None else []


def _item_key() -> Case:
    """NULL for a report in a surge group (grouped by the group), else the report's own id."""
    return Case(When(surge_group__isnull=True, then=F("pk")), default=None, output_field=IntegerField())


def queue_page(qs: ReportQuerySet, page_number: Any) -> tuple[Page[Any], list[QueueItem]]:
    """A page of queue items, most urgent first, then oldest first; a surge group is one item
    (its urgency is its most urgent report's, its age its oldest report's).

    Three queries whatever the page holds: the count, the page of items, and their reports (a
    group's first GROUP_PREVIEW only, with school, acknowledging user and group joined).
    """
    items = (
        qs.annotate(solo=_item_key())
        .values("surge_group_id", "solo")
        .annotate(
            top=Max("urgency"),
            oldest=Min("created_at"),
            n=Count("pk"),
            acked=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            n_schools=Count("school", distinct=True),
        )
        .order_by("-top", "oldest", "surge_group_id", "solo")
    )
    page = Paginator(items, QUEUE_PAGE_SIZE).get_page(page_number)
    rows = list(page.object_list)
    solo_ids = [row["solo"] for row in rows if row["solo"] is not None]
    group_ids = [row["surge_group_id"] for row in rows if row["surge_group_id"] is not None]
    reports: list[Report] = []
    if rows:
        reports = list(
            qs.filter(Q(pk__in=solo_ids) | Q(surge_group_id__in=group_ids))
            .select_related("school", "acknowledged_by", "referred_from", "surge_group")
            .annotate(
                solo=_item_key(),
                rank=Window(
                    RowNumber(),
                    partition_by=[F("surge_group_id"), F("solo")],
                    order_by=[F("urgency").desc(), F("created_at").asc(), F("pk").asc()],
                ),
            )
            .filter(rank__lte=GROUP_PREVIEW)
            .order_by("-urgency", "created_at", "pk")
        )
    by_pk = {r.pk: r for r in reports}
    by_group: dict[int, list[Report]] = {}
    for r in reports:
        if r.surge_group_id is not None:
            by_group.setdefault(r.surge_group_id, []).append(r)
    result: list[QueueItem] = []
    for row in rows:
        item = QueueItem(
            urgency=row["top"],
            oldest=row["oldest"],
            count=row["n"],
            acknowledged=row["acked"],
            schools=row["n_schools"],
        )
        if row["solo"] is not None:
            item.report = by_pk.get(row["solo"])
            if item.report is None:  # gone between the two queries (referred away): skip it
                continue
        else:
            item.reports = by_group.get(row["surge_group_id"], [])
            if not item.reports:
                continue
            item.group = item.reports[0].surge_group
            if item.count == 1:  # the only report of its group in this list: shown as a report
                item.report = item.reports[0]
        result.append(item)
    return page, result


@policy(TRIAGE_POLICY)
@never_cache
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The reports of the user's schools, most urgent first, then oldest first. With htmx, a change
    of filter swaps the results only."""
    user = _user(request)
    form = QueueFilterForm(request.GET or None, user=user)
    school, status = form.chosen()
    qs = filter_reports(Report.objects.visible_to(user), school=school, status=status)
    page, items = queue_page(qs, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "items": items,
        "status": status,
        "status_label": QueueStatus(status).label,
        "school": school,
        "filter_query": query.urlencode(),
    }
    if getattr(request, "htmx", False):
        return render(request, "intake/triage/partials/_queue_results.html", context)
    return render(request, "intake/triage/queue.html", context)


# A surge group ------------------------------------------------------------------------------------
def get_group_for_user(user: User, pk: int) -> SurgeGroup:
    """A surge group holding at least one report the user's team works; 404 otherwise."""
    visible = Report.objects.visible_to(user).filter(surge_group=OuterRef("pk"))
    group = SurgeGroup.objects.filter(pk=pk).filter(Exists(visible)).first()
    if group is None:
        raise Http404
    return group


def _reason_labels(reasons: dict[str, int]) -> list[tuple[str, int]]:
    return [(str(surge.REASON_LABELS[key]), int(n)) for key, n in reasons.items() if key in surge.REASON_LABELS]


@policy(TRIAGE_POLICY)
@never_cache
@require_GET
def surge_group(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    group = get_group_for_user(user, pk)
    reports = (
        Report.objects.visible_to(user)
        .filter(surge_group=group)
        .select_related("school", "acknowledged_by", "referred_from")
        .order_by("-urgency", "created_at", "pk")
    )
    page = Paginator(reports, GROUP_PAGE_SIZE).get_page(request.GET.get("page"))
    new_count = Report.objects.visible_to(user).filter(surge_group=group, status=Status.NEW, is_abuse=False).count()
    return render(
        request,
        "intake/triage/surge_group.html",
        {"group": group, "page": page, "reasons": _reason_labels(group.reasons or {}), "new_count": new_count},
    )


@policy(TRIAGE_POLICY)
@never_cache
def acknowledge_group(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    group = get_group_for_user(user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    count = triage_actions.do_acknowledge_group(actor=user, group=group)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d report of the group acknowledged.", "%(count)d reports of the group acknowledged.", count
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("There was no new report in the group to acknowledge."))
    target = request.POST.get("next")
    if target == "queue":
        return redirect("intake:queue")
    return redirect("intake:surge_group", pk=group.pk)


# A report -----------------------------------------------------------------------------------------
def _forms(request: HttpRequest, report: Report, bound: dict[str, forms.Form]) -> dict[str, forms.Form]:
    user = _user(request)
    unbound: dict[str, forms.Form] = {
        "urgency": UrgencyForm(prefix="urgency", initial={"urgency": report.urgency}),
        "screen_out": ReasonForm(prefix="screen_out"),
        "refer": ReferForm(prefix="refer", report=report),
        "duplicate": DuplicateForm(prefix="duplicate", user=user),
        "open_case": NoteForm(prefix="open_case"),
        "abuse": ReasonForm(prefix="abuse"),
        "unabuse": ReasonForm(prefix="unabuse"),
        "reopen": ReasonForm(prefix="reopen"),
        "message": MessageForm(prefix="message"),
    }
    unbound.update(bound)
    return unbound


def _allowed_actions(report: Report) -> dict[str, bool]:
    return {
        "acknowledge": report.status == Status.NEW,
        "urgency": report.status in Report.OPEN_STATUSES,
        "screen_out": report.can_transition_to(Status.SCREENED_OUT),
        "refer": report.can_transition_to(Status.REFERRED),
        "duplicate": report.can_transition_to(Status.DUPLICATE),
        "open_case": report.can_transition_to(Status.CASE_OPENED),
        "abuse": not report.is_abuse,
        "unabuse": report.is_abuse,
        "reopen": report.status in (Status.SCREENED_OUT, Status.DUPLICATE),
    }


def _report_page(
    request: HttpRequest,
    report: Report,
    *,
    bound: dict[str, forms.Form] | None = None,
    failed: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    # Read again, through the user's scope: the report may have left their schools since the request
    # fetched it (a concurrent referral), and then nothing of it is shown.
    fresh = (
        Report.objects.visible_to(user)
        .select_related(
            "school", "district", "acknowledged_by", "referred_from", "duplicate_of", "surge_group", "submitted_by"
        )
        .filter(pk=report.pk)
        .first()
    )
    if fresh is None:
        raise Http404
    report = fresh
    people = list(report.involved.select_related("person"))
    attachments = list(report.attachments.order_by("created_at", "pk"))
    thread = list(report.messages.select_related("author").prefetch_related("attachments"))
    decisions = list(report.decisions.select_related("actor").order_by("created_at", "pk"))
    school_ids = {
        int(d.detail[key]) for d in decisions if d.kind == Kind.REFER for key in ("from", "to") if d.detail.get(key)
    }
    school_names = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "name")) if school_ids else {}
    behaviours = dict(ObservedBehaviour.choices)
    AuditEvent.objects.record(actor=user, verb=Verb.VIEWED, target=report, detail={"page": "report"})
    group_size = (
        Report.objects.visible_to(user).filter(surge_group_id=report.surge_group_id).count()
        if report.surge_group_id
        else 0
    )
    return render(
        request,
        "intake/triage/report.html",
        {
            "report": report,
            "people": people,
            "attachments": attachments,
            "thread": thread,
            "decisions": [(d, _decision_detail(d, school_names)) for d in decisions],
            "behaviours": [behaviours.get(code, code) for code in report.observed_behaviours or []],
            "forms": _forms(request, report, bound or {}),
            "allowed": _allowed_actions(report),
            "failed": failed,
            "error": error if failed != "message" else "",
            "thread_error": error if failed == "message" else "",
            "group_size": group_size,
            "has_thread": report.receipt_hash is not None,
        },
        status=status,
    )


def _decision_detail(decision: TriageDecision, school_names: dict[int, str]) -> str:
    """The facts of a decision in words (its reason is shown apart)."""
    detail = decision.detail or {}
    if decision.kind == Kind.URGENCY:
        labels: dict[Any, Any] = dict(Urgency.choices)
        return _("from %(old)s to %(new)s") % {
            "old": labels.get(detail.get("from"), detail.get("from")),
            "new": labels.get(detail.get("to"), detail.get("to")),
        }
    if decision.kind == Kind.REFER:
        return _("from %(old)s to %(new)s") % {
            "old": school_names.get(int(detail.get("from") or 0), "?"),
            "new": school_names.get(int(detail.get("to") or 0), "?"),
        }
    if decision.kind == Kind.DUPLICATE and detail.get("original"):
        return _("duplicate of R-%(number)s") % {"number": detail["original"]}
    if decision.kind == Kind.ACKNOWLEDGE and detail.get("surge_group"):
        return _("with its surge group")
    return ""


@policy(TRIAGE_POLICY)
@never_cache
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(_user(request), pk)
    return _report_page(request, report)


def _after(request: HttpRequest, report: Report, message: str) -> HttpResponse:
    """After a decision: back to the report, or to the queue when the report left the user's
    schools (referred to a school they do not work)."""
    messages.success(request, message)
    if Report.objects.visible_to(_user(request)).filter(pk=report.pk).exists():
        return redirect("intake:report", pk=report.pk)
    return redirect("intake:queue")


def _decision_view(
    request: HttpRequest,
    pk: int,
    *,
    name: str,
    make_form: Callable[[HttpRequest, Report], forms.Form] | None,
    run: Callable[[User, Report, dict[str, Any]], Report],
    success: str,
) -> HttpResponse:
    """One decision: the report is fetched first (404 when not the user's team's, whatever the
    method), then only a POST acts. Bad input re-renders the report page with the message (400)."""
    user = _user(request)
    report = get_report_for_user(user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = make_form(request, report) if make_form else None
    bound = {name: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _report_page(request, report, bound=bound, failed=name, status=400)
    try:
        run(user, report, form.cleaned_data if form is not None else {})
    except TriageError as exc:
        if not Report.objects.visible_to(user).filter(pk=report.pk).exists():
            # It left the user's schools while this request waited (a concurrent referral).
            messages.error(request, str(exc))
            return redirect("intake:queue")
        return _report_page(request, report, bound=bound, failed=name, error=str(exc), status=400)
    return _after(request, report, success)


@policy(TRIAGE_POLICY)
@never_cache
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="acknowledge",
        make_form=None,
        run=lambda user, report, data: triage_actions.do_acknowledge(actor=user, report=report),
        success=_("Acknowledged: the team can see that you are looking at this report."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def change_urgency(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="urgency",
        make_form=lambda request, report: UrgencyForm(request.POST, prefix="urgency"),
        run=lambda user, report, data: triage_actions.do_change_urgency(
            actor=user, report=report, urgency=data["urgency"], reason=data["reason"]
        ),
        success=_("Urgency changed."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def screen_out(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="screen_out",
        make_form=lambda request, report: ReasonForm(request.POST, prefix="screen_out"),
        run=lambda user, report, data: triage_actions.do_screen_out(actor=user, report=report, reason=data["reason"]),
        success=_("Screened out. The report is kept and can be reopened."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="refer",
        make_form=lambda request, report: ReferForm(request.POST, prefix="refer", report=report),
        run=lambda user, report, data: triage_actions.do_refer(
            actor=user, report=report, school=data["school"], reason=data["reason"]
        ),
        success=_("Referred. The report is now new at the other school, and its team leaders are told."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def mark_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="duplicate",
        make_form=lambda request, report: DuplicateForm(request.POST, prefix="duplicate", user=_user(request)),
        run=lambda user, report, data: triage_actions.do_mark_duplicate(
            actor=user, report=report, original=data["original"], reason=data["reason"]
        ),
        success=_("Marked as a duplicate. It can be reopened."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def open_case(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a case from the report (``btam.cases.actions.do_open_case``): the new case holds the
    report, its reporter thread and attachments, and the people it names; the team lands on it."""
    from btam.cases.actions import CaseError
    from btam.cases.actions import do_open_case as open_new_case

    user = _user(request)
    report = get_report_for_user(user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = NoteForm(request.POST, prefix="open_case")
    if not form.is_valid():
        return _report_page(request, report, bound={"open_case": form}, failed="open_case", status=400)
    try:
        case = open_new_case(actor=user, school=report.school, reports=[report], note=form.cleaned_data["reason"])
    except CaseError as exc:
        return _report_page(request, report, bound={"open_case": form}, failed="open_case", error=str(exc), status=400)
    messages.success(
        request, _("Case %(number)s opened from report %(ref)s.") % {"number": case.number, "ref": report.reference}
    )
    return redirect("cases:detail", pk=case.pk)


@policy(TRIAGE_POLICY)
@never_cache
def mark_abuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="abuse",
        make_form=lambda request, report: ReasonForm(request.POST, prefix="abuse"),
        run=lambda user, report, data: triage_actions.do_mark_abuse(actor=user, report=report, reason=data["reason"]),
        success=_("Marked as abuse. The report is kept, out of the main queue (filter: marked as abuse)."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def unmark_abuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="unabuse",
        make_form=lambda request, report: ReasonForm(request.POST, prefix="unabuse"),
        run=lambda user, report, data: triage_actions.do_unmark_abuse(actor=user, report=report, reason=data["reason"]),
        success=_("The abuse mark was removed."),
    )


@policy(TRIAGE_POLICY)
@never_cache
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision_view(
        request,
        pk,
        name="reopen",
        make_form=lambda request, report: ReasonForm(request.POST, prefix="reopen"),
        run=lambda user, report, data: triage_actions.do_reopen(actor=user, report=report, reason=data["reason"]),
        success=_("Reopened: the report is open again."),
    )


# The reporter thread ------------------------------------------------------------------------------
@policy(TRIAGE_POLICY)
@never_cache
def post_message(request: HttpRequest, pk: int) -> HttpResponse:
    """Write to the reporter. With htmx the thread swaps in place (errors included)."""
    user = _user(request)
    report = get_report_for_user(user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    htmx = bool(getattr(request, "htmx", False))
    form = MessageForm(request.POST, prefix="message")
    error = ""
    if form.is_valid():
        try:
            do_post_team_message(actor=user, report=report, body=form.cleaned_data["body"])
        except IntakeError as exc:
            error = str(exc)
        else:
            if not htmx:
                messages.success(request, _("Message sent. The reporter sees it when they next open the report."))
                return redirect("intake:report", pk=report.pk)
            form = MessageForm(prefix="message")
    if not htmx:
        return _report_page(request, report, bound={"message": form}, failed="message", error=error, status=400)
    thread = list(report.messages.select_related("author").prefetch_related("attachments"))
    AuditEvent.objects.record(actor=user, verb=Verb.VIEWED, target=report, detail={"page": "reporter_thread"})
    return render(
        request,
        "intake/triage/partials/_thread.html",
        {"report": report, "thread": thread, "message_form": form, "thread_error": error, "has_thread": True},
    )


# Attachments --------------------------------------------------------------------------------------
@policy(TRIAGE_POLICY)
@never_cache
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A reporter's file, decrypted and streamed as a download (never shown inline), audited."""
    user = _user(request)
    attachment = (
        Attachment.objects.select_related("report").filter(pk=pk, report__in=Report.objects.visible_to(user)).first()
    )
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    AuditEvent.objects.record(
        actor=user,
        verb=Verb.DOWNLOADED,
        target=attachment,
        district_id=attachment.report.district_id,
        detail={"report": attachment.report_id, "content_type": attachment.content_type, "size": attachment.size},
    )
    extension = _EXTENSIONS.get(attachment.content_type, "bin")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{attachment.report.reference}-file-{attachment.pk}.{extension}",
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response
