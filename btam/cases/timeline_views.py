"""The case's Timeline and Reporter tabs.

* Timeline: everything that happened on the case, newest first, 100 entries a page, filtered by
  kind (checkboxes; the query string holds kind codes and a page number only, never free text).
  Built by ``timeline.py`` in a fixed number of queries whatever the case's size.
* Reporter: the thread with the reporter of each of the case's reports that has one (made with a
  receipt code), the reporter's files downloadable through the case's audited address, and a form
  to write to the reporter (``reporter_actions.do_message_reporter``). Opening the tab as a member
  of the team working the case marks the reporter's messages read.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from btam.cases import access, reporter_actions, timeline
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.core.access import policy
from btam.intake.actions import MAX_MESSAGE_CHARS
from btam.intake.models import Report, ReporterMessage

# Timeline ------------------------------------------------------------------------------------------


@policy(CASE_POLICY)
@never_cache
def timeline_tab(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    kinds = timeline.chosen_kinds(request.GET.getlist("kind"))
    page, entries = timeline.page_of(case, kinds=kinds, page_number=request.GET.get("page"), viewer=user_of(request))
    context = {
        "kinds": [(code, label, code in kinds) for code, label in timeline.KINDS.items()],
        "filtered": bool(kinds),
        "page": page,
        "entries": entries,
        "filter_query": urlencode([("kind", code) for code in kinds]),
    }
    return render_case(
        request, case, "cases/timeline.html", context, tab="timeline", partial="cases/partials/_timeline_entries.html"
    )


# Reporter ------------------------------------------------------------------------------------------


class ReporterMessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message to the reporter"),
        max_length=MAX_MESSAGE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "The reporter reads this with their receipt code. Write nothing they should not see: "
            "the team's notes belong on the Notes tab, which the reporter never sees."
        ),
        error_messages={
            "required": gettext_lazy("Write a message."),
            "max_length": gettext_lazy(
                "The message is too long: at most %(limit_value)d characters (it has %(show_value)d)."
            ),
        },
    )


def _prefix(report_pk: int) -> str:
    return f"report{report_pk}"


@dataclass
class Thread:
    report: Report
    messages: list[ReporterMessage]
    form: ReporterMessageForm | None
    error: str = ""


def _reporter_page(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[int, ReporterMessageForm] | None = None,
    error: str = "",
    status: int = 200,
    mark_read: bool = False,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    thread_messages = ReporterMessage.objects.select_related("author").prefetch_related("attachments")
    reports = list(
        Report.objects.filter(case_link__case=case, receipt_hash__isnull=False)
        .select_related("school")
        .prefetch_related(Prefetch("messages", queryset=thread_messages.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    without_thread = Report.objects.filter(case_link__case=case, receipt_hash__isnull=True).count()
    threads = []
    for report in reports:
        form = None
        thread_error = ""
        if bound is not None and bound[0] == report.pk:
            form, thread_error = bound[1], error
        elif editable:
            form = ReporterMessageForm(prefix=_prefix(report.pk))
        threads.append(Thread(report=report, messages=list(report.messages.all()), form=form, error=thread_error))
    if mark_read and can_write:
        # After reading the threads: the page still shows which messages were new.
        reporter_actions.do_mark_reporter_messages_read(actor=user, case=case)
    context = {
        "can_write": can_write,
        "threads": threads,
        "without_thread": without_thread,
        "failed": bound[0] if bound is not None else None,
    }
    return render_case(request, case, "cases/reporter.html", context, tab="reporter", status=status)


@policy(CASE_POLICY)
@never_cache
def reporter_tab(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _reporter_page(request, case, mark_read=True)


@policy(CASE_POLICY)
@never_cache
def message_reporter(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    report = Report.objects.filter(pk=report_pk, case_link__case=case).first()
    if report is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReporterMessageForm(request.POST, prefix=_prefix(report.pk))
    if not form.is_valid():
        return _reporter_page(request, case, bound=(report.pk, form), error=_("The message was not sent."), status=400)
    try:
        reporter_actions.do_message_reporter(actor=user, case=case, report=report, body=form.cleaned_data["body"])
    except CaseError as exc:
        if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.error(request, str(exc))
            return redirect("cases:list")
        case.refresh_from_db()
        return _reporter_page(request, case, bound=(report.pk, form), error=str(exc), status=400)
    messages.success(request, _("Message sent. The reporter sees it when they next open their report."))
    return redirect(reverse("cases:reporter", args=[case.pk]) + f"#report-{report.pk}")


urlpatterns = [
    path("<int:pk>/timeline/", timeline_tab, name="timeline"),
    path("<int:pk>/reporter/", reporter_tab, name="reporter"),
    path("<int:pk>/reporter/<int:report_pk>/messages/", message_reporter, name="message_reporter"),
]
