"""The Meetings tab of a case (its conferences and the form to schedule one) and a conference's page
(agenda, invitees, record of a held conference, decisions and the tasks they became) with its forms.

Each view fetches the case through ``access.get_case_for_user`` before looking at the method (404
for a case the user cannot see; 403 when read-only and the view changes something), a conference
through its case (one of another case is a 404), and renders through ``render_case`` (the read is
audited). A form with a mistake comes back with the message and what was typed, with a 400; a
change redirects to the conference's page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.cases import access
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.core.access import policy
from btam.lib import clock
from btam.meetings import actions
from btam.meetings.forms import CancelForm, DecisionForm, RecordForm, RescheduleForm, ScheduleForm, decision_forms
from btam.meetings.models import Meeting, MeetingInvitee

TAB = "meetings"


def _people(case: Case) -> list[User]:
    """Who may be invited or own a decision: the people who work the case."""
    return access.assignable_users(case)


def _meeting_of(case: Case, meeting_pk: int) -> Meeting:
    meeting = Meeting.objects.filter(pk=meeting_pk, case=case).select_related("created_by", "recorded_by").first()
    if meeting is None:
        raise Http404
    return meeting


def _editable(request: HttpRequest, case: Case) -> bool:
    return access.can_write(user_of(request), case) and not case.is_closed and not case.is_merged


# The tab -------------------------------------------------------------------------------------------


def _tab(
    request: HttpRequest, case: Case, *, form: ScheduleForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    editable = _editable(request, case)
    if form is None and editable:
        # The person scheduling usually attends: ticked, and can be unticked.
        form = ScheduleForm(prefix="meeting", people=_people(case), initial={"invitees": [user_of(request).pk]})
    upcoming_first = SqlCase(
        When(state=Meeting.State.SCHEDULED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    meetings = list(
        Meeting.objects.filter(case=case)
        .annotate(rank=upcoming_first)
        .order_by("rank", "starts_at", "pk")
        .prefetch_related("invitees__user")
    )
    scheduled = [m for m in meetings if m.is_scheduled]
    past = sorted((m for m in meetings if not m.is_scheduled), key=lambda m: m.starts_at, reverse=True)
    context = {"scheduled": scheduled, "past": past, "form": form, "error": error, "now": clock.now()}
    return render_case(request, case, "meetings/case.html", context, tab=TAB, status=status)


@policy(CASE_POLICY)
@never_cache
def case_meetings(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _tab(request, case)


@policy(CASE_POLICY)
@never_cache
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ScheduleForm(request.POST, prefix="meeting", people=_people(case))
    if not form.is_valid():
        return _tab(request, case, form=form, error=_("The conference was not scheduled: check the form."), status=400)
    data = form.cleaned_data
    try:
        meeting = actions.do_schedule_meeting(
            actor=user,
            case=case,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            location=data["location"],
            agenda=data["agenda"],
            invitees=list(data["invitees"]),
        )
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        return _tab(request, case, form=form, error=str(exc), status=400)
    messages.success(request, _("Conference scheduled; the invitees were told."))
    return redirect("meetings:detail", pk=case.pk, meeting_pk=meeting.pk)


# A conference --------------------------------------------------------------------------------------


def _times_initial(meeting: Meeting) -> dict[str, Any]:
    from django.utils import timezone

    start, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    return {"day": start.date(), "starts": start.time(), "ends": end.time(), "location": meeting.location}


def _detail(
    request: HttpRequest,
    case: Case,
    meeting: Meeting,
    *,
    record_form: RecordForm | None = None,
    decisions: list[DecisionForm] | None = None,
    reschedule_form: RescheduleForm | None = None,
    cancel_form: CancelForm | None = None,
    decision_form: DecisionForm | None = None,
    error: str = "",
    error_form: str = "",
    status: int = 200,
) -> HttpResponse:
    editable = _editable(request, case)
    invitees = list(MeetingInvitee.objects.filter(meeting=meeting).select_related("user"))
    context: dict[str, Any] = {
        "meeting": meeting,
        "invitees": invitees,
        "decisions_made": list(meeting.decisions.select_related("task", "task__assignee")),
        "changes": list(meeting.changes.select_related("actor")),
        "error": error,
        "error_form": error_form,
        "started": meeting.starts_at <= clock.now(),
    }
    if editable and meeting.is_scheduled:
        people = _people(case)
        context["record_form"] = record_form or RecordForm(prefix="record", invitees=invitees)
        context["decision_rows"] = decisions or decision_forms(None, owners=people)
        context["reschedule_form"] = reschedule_form or RescheduleForm(prefix="move", initial=_times_initial(meeting))
        context["cancel_form"] = cancel_form or CancelForm(prefix="cancel")
    if editable and meeting.is_held:
        context["decision_form"] = decision_form or DecisionForm(prefix="decision", owners=_people(case))
    return render_case(request, case, "meetings/detail.html", context, tab=TAB, status=status)


@policy(CASE_POLICY)
@never_cache
def detail(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    meeting = _meeting_of(case, meeting_pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _detail(request, case, meeting)


def _refused(request: HttpRequest, case: Case, exc: CaseError) -> HttpResponse | None:
    gone = lost_access(request, case, exc)
    if gone is None:
        case.refresh_from_db()
    return gone


def _done(request: HttpRequest, meeting: Meeting, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("meetings:detail", pk=meeting.case_id, meeting_pk=meeting.pk)


@policy(CASE_POLICY)
@never_cache
def record(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    meeting = _meeting_of(case, meeting_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    invitees = list(MeetingInvitee.objects.filter(meeting=meeting).select_related("user"))
    form = RecordForm(request.POST, prefix="record", invitees=invitees)
    rows = decision_forms(request.POST, owners=_people(case))
    valid = form.is_valid() & all([r.is_valid() for r in rows])  # every form validated: every error shown
    error = ""
    if not valid:
        error = _("The conference was not recorded: check the form.")
    else:
        try:
            actions.do_record_meeting(
                actor=user,
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                attendance=form.attendance(),
                outside_participants=form.cleaned_data["outside_participants"],
                decisions=[r.decision() for r in rows if r.has_changed()],
            )
        except CaseError as exc:
            if (gone := _refused(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            return _done(request, meeting, _("Conference recorded as held; its decisions are tasks of the case."))
    meeting.refresh_from_db()
    return _detail(
        request, case, meeting, record_form=form, decisions=rows, error=error, error_form="record", status=400
    )


@policy(CASE_POLICY)
@never_cache
def reschedule(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    meeting = _meeting_of(case, meeting_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RescheduleForm(request.POST, prefix="move")
    error = ""
    if not form.is_valid():
        error = _("The conference was not moved: check the form.")
    else:
        data = form.cleaned_data
        try:
            actions.do_reschedule_meeting(
                actor=user,
                meeting=meeting,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                location=data["location"],
                reason=data["reason"],
            )
        except CaseError as exc:
            if (gone := _refused(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            return _done(request, meeting, _("Conference moved; the invitees were told."))
    meeting.refresh_from_db()
    return _detail(request, case, meeting, reschedule_form=form, error=error, error_form="move", status=400)


@policy(CASE_POLICY)
@never_cache
def cancel(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    meeting = _meeting_of(case, meeting_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CancelForm(request.POST, prefix="cancel")
    error = ""
    if not form.is_valid():
        error = _("The conference was not cancelled: give the reason.")
    else:
        try:
            actions.do_cancel_meeting(actor=user, meeting=meeting, reason=form.cleaned_data["reason"])
        except CaseError as exc:
            if (gone := _refused(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            return _done(request, meeting, _("Conference cancelled; the invitees were told."))
    meeting.refresh_from_db()
    return _detail(request, case, meeting, cancel_form=form, error=error, error_form="cancel", status=400)


@policy(CASE_POLICY)
@never_cache
def add_decision(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    meeting = _meeting_of(case, meeting_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DecisionForm(request.POST, prefix="decision", owners=_people(case))
    error = ""
    if not form.is_valid():
        error = _("The decision was not added: check the form.")
    else:
        try:
            actions.do_add_decision(actor=user, meeting=meeting, decision=form.decision())
        except CaseError as exc:
            if (gone := _refused(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            return _done(request, meeting, _("Decision added; it is a task of the case."))
    meeting.refresh_from_db()
    return _detail(request, case, meeting, decision_form=form, error=error, error_form="decision", status=400)


urlpatterns = [
    path("cases/<int:pk>/meetings/", case_meetings, name="case"),
    path("cases/<int:pk>/meetings/schedule/", schedule, name="schedule"),
    path("cases/<int:pk>/meetings/<int:meeting_pk>/", detail, name="detail"),
    path("cases/<int:pk>/meetings/<int:meeting_pk>/record/", record, name="record"),
    path("cases/<int:pk>/meetings/<int:meeting_pk>/reschedule/", reschedule, name="reschedule"),
    path("cases/<int:pk>/meetings/<int:meeting_pk>/cancel/", cancel, name="cancel"),
    path("cases/<int:pk>/meetings/<int:meeting_pk>/decisions/add/", add_decision, name="decision_add"),
]
