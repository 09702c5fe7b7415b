"""Case-conference actions: schedule, move to another time, cancel, record as held (minutes,
attendance, outside participants, decisions) and add a decision to a held conference.

They follow the case modules' pattern (btam/cases/task_actions.py): one transaction under the
case's lock (:func:`~btam.cases.actions.lock_case`, which checks again that the actor may change
the case), :func:`~btam.cases.actions.ensure_editable` (a closed or merged case is a record),
validation, the change, ``touch`` and an audit event holding ids, dates and flags, never the
agenda, minutes, reasons or decisions. Each decision becomes a task of the case through
:func:`btam.cases.task_actions.do_add_task` (its checks, its owner's notification), linked back to
the meeting. Invitees are told through their inbox and by email, by a title that names the case
number and the time only. A change that cannot be made raises
:class:`~btam.cases.actions.CaseError`; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.cases import task_actions
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case, Task
from btam.lib import clock
from btam.meetings import calendar
from btam.meetings.models import CalendarFeed, Meeting, MeetingChange, MeetingDecision, MeetingInvitee
from btam.notifications.delivery import in_site_language

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_AGENDA_CHARS = 10_000
MAX_MINUTES_CHARS = 50_000
MAX_LOCATION_CHARS = 200
MAX_OUTSIDE_CHARS = 2_000
MAX_REASON_CHARS = 2_000
MAX_DECISION_CHARS = task_actions.MAX_TASK_TITLE_CHARS
MAX_DURATION = dt.timedelta(hours=12)
MAX_YEARS_AHEAD = 2
MAX_INVITEES = 40

State = Meeting.State
Attendance = MeetingInvitee.Attendance


@dataclass(frozen=True)
class DecisionInput:
    """A decision as typed: it becomes a task owned by ``owner``, due on ``due_on``."""

    text: str
    owner: User | None
    due_on: dt.date | None


def meeting_path(meeting: Meeting) -> str:
    return reverse("meetings:detail", args=[meeting.case_id, meeting.pk])


def _local(at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at)


@in_site_language
def when_in_words(at: dt.datetime) -> str:
    """ "Dec 3 at 10:00" in the site's time zone and language (notification titles)."""
    local = _local(at)
    return _("%(day)s at %(time)s") % {"day": formats.date_format(local, "M j"), "time": local.strftime("%H:%M")}


# Validation ----------------------------------------------------------------------------------------


def _clean_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise CaseError(_("The meeting's times need a time zone."))
    if ends_at <= starts_at:
        raise CaseError(_("The meeting ends before it starts: the end must be after the start."))
    if ends_at - starts_at > MAX_DURATION:
        raise CaseError(
            _("A case conference lasts at most %(hours)d hours: check the times.")
            % {"hours": MAX_DURATION.total_seconds() // 3600}
        )
    now = clock.now()
    if starts_at < now:
        raise CaseError(_("The start has passed: a conference is scheduled for a later time."))
    if starts_at > now + dt.timedelta(days=365 * MAX_YEARS_AHEAD + 1):
        raise CaseError(_("The start is more than %(years)d years away: check the year.") % {"years": MAX_YEARS_AHEAD})


def may_be_invited(case: Case, user: User) -> bool:
    """Whether ``user`` sees the case (the case's access decides: btam/cases/access.py)."""
    return bool(user.is_active) and Case.objects.visible_to(user).filter(pk=case.pk).exists()


def _check_invitees(case: Case, invitees: Sequence[User]) -> list[User]:
    unique: dict[int, User] = {}
    for user in invitees:
        unique.setdefault(user.pk, user)
    if len(unique) > MAX_INVITEES:
        raise CaseError(_("At most %(max)d people can be invited.") % {"max": MAX_INVITEES})
    outside = [u for u in unique.values() if not may_be_invited(case, u)]
    if outside:
        raise CaseError(
            _("%(who)s cannot see this case and cannot be invited. Give them access first, or invite someone else.")
            % {"who": ", ".join(str(u) for u in outside)}
        )
    return list(unique.values())


def _locked_meeting(meeting: Meeting, case: Case) -> Meeting:
    fresh = Meeting.objects.select_for_update().filter(pk=meeting.pk, case_id=case.pk).first()
    if fresh is None:
        raise CaseError(_("This conference is no longer on this case."))
    return fresh


def _ensure_state(meeting: Meeting, target: str) -> None:
    if meeting.can_transition_to(target):
        return
    if meeting.is_cancelled:
        raise CaseError(_("This conference was cancelled: nothing can be recorded or changed on it."))
    if meeting.is_held:
        raise CaseError(_("This conference was held already: its record cannot be changed this way."))
    raise CaseError(_("This conference cannot be changed this way."))


def _state(meeting: Meeting) -> dict[str, Any]:
    """The audited state of a meeting (no free text)."""
    return {
        "state": meeting.state,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
        "sequence": meeting.sequence,
    }


# Notifications -------------------------------------------------------------------------------------


@in_site_language
def _tell(
    *, meeting: Meeting, case: Case, recipients: Iterable[User], actor: User, kind: str, title: str, scope: str
) -> None:
    from btam.notifications.delivery import notify

    # Only people who still see the case: an invitee may have lost access (left the school, the
    # case restricted) since being invited, and a title names the case.
    people = [u for u in recipients if u.pk != actor.pk and may_be_invited(case, u)]
    if not people:
        return
    notify(
        recipients=people,
        district_id=case.district_id,
        kind=kind,
        title=title,
        link=meeting_path(meeting),
        target=meeting,
        urgent=False,
        dedupe_scope=scope,
        email=True,
    )


def _invitee_users(meeting: Meeting) -> list[User]:
    return [i.user for i in MeetingInvitee.objects.filter(meeting=meeting).select_related("user")]


# Actions -------------------------------------------------------------------------------------------


def do_schedule_meeting(
    *,
    actor: User,
    case: Case,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    agenda: str,
    invitees: Sequence[User] = (),
) -> Meeting:
    """A case conference on ``case``; the invitees (everyone must see the case) are told."""
    location = clean_text(location, label=_("The place"), max_chars=MAX_LOCATION_CHARS, required=False)
    agenda = clean_text(agenda, label=_("The agenda"), max_chars=MAX_AGENDA_CHARS, required=True)
    _clean_times(starts_at, ends_at)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        people = _check_invitees(case, invitees)
        at = clock.now()
        meeting = Meeting.objects.create(
            case=case,
            district_id=case.district_id,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            agenda=agenda,
            created_at=at,
            created_by=actor,
            updated_at=at,
        )
        MeetingInvitee.objects.bulk_create([MeetingInvitee(meeting=meeting, user=u) for u in people])
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=meeting,
            after=_state(meeting),
            detail={"meeting": meeting.pk, "invitees": sorted(u.pk for u in people)},
        )
        title = _("Case conference for case %(number)s on %(when)s") % {
            "number": case.number,
            "when": when_in_words(starts_at),
        }
        _tell(
            meeting=meeting,
            case=case,
            recipients=people,
            actor=actor,
            kind="meeting_scheduled",
            title=title,
            scope=f"meeting:{meeting.pk}:scheduled",
        )
    return meeting


def do_reschedule_meeting(
    *,
    actor: User,
    meeting: Meeting,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    reason: str,
) -> Meeting:
    """Move a scheduled conference to another time (and place); the invitees are told."""
    location = clean_text(location, label=_("The place"), max_chars=MAX_LOCATION_CHARS, required=False)
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    _clean_times(starts_at, ends_at)
    with transaction.atomic():
        case = lock_case(meeting.case_id, actor)
        ensure_editable(case)
        meeting = _locked_meeting(meeting, case)
        if not meeting.is_scheduled:
            _ensure_state(meeting, State.SCHEDULED)
        if starts_at == meeting.starts_at and ends_at == meeting.ends_at and location == meeting.location:
            raise CaseError(_("Nothing changed: choose another time or place."))
        before, at = _state(meeting), clock.now()
        MeetingChange.objects.create(
            meeting=meeting,
            kind=MeetingChange.Kind.RESCHEDULED,
            from_starts_at=meeting.starts_at,
            to_starts_at=starts_at,
            reason=reason,
            actor=actor,
            created_at=at,
        )
        meeting.starts_at, meeting.ends_at, meeting.location = starts_at, ends_at, location
        meeting.sequence += 1
        meeting.updated_at = at
        meeting.save(update_fields=["starts_at", "ends_at", "location", "sequence", "updated_at"])
        title = _("Case conference for case %(number)s moved to %(when)s") % {
            "number": case.number,
            "when": when_in_words(starts_at),
        }
        _changed(actor, case, meeting, before, at, title=title, scope=f"meeting:{meeting.pk}:moved:{meeting.sequence}")
    return meeting


def do_cancel_meeting(*, actor: User, meeting: Meeting, reason: str) -> Meeting:
    """Cancel a scheduled conference, with a reason; the invitees are told."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(meeting.case_id, actor)
        ensure_editable(case)
        meeting = _locked_meeting(meeting, case)
        _ensure_state(meeting, State.CANCELLED)
        before, at = _state(meeting), clock.now()
        MeetingChange.objects.create(
            meeting=meeting,
            kind=MeetingChange.Kind.CANCELLED,
            from_starts_at=meeting.starts_at,
            reason=reason,
            actor=actor,
            created_at=at,
        )
        meeting.state = State.CANCELLED
        meeting.updated_at = at
        meeting.save(update_fields=["state", "updated_at"])
        title = _("Case conference for case %(number)s on %(when)s cancelled") % {
            "number": case.number,
            "when": when_in_words(meeting.starts_at),
        }
        _changed(actor, case, meeting, before, at, title=title, scope=f"meeting:{meeting.pk}:cancelled")
    return meeting


def _changed(
    actor: User, case: Case, meeting: Meeting, before: dict[str, Any], at: dt.datetime, *, title: str, scope: str
) -> None:
    """A scheduled conference was moved or cancelled (in the action's transaction): the case is
    touched, the change audited, and the invitees told."""
    touch(case, at)
    audit(actor=actor, case=case, target=meeting, before=before, after=_state(meeting), detail={"meeting": meeting.pk})
    _tell(
        meeting=meeting,
        case=case,
        recipients=_invitee_users(meeting),
        actor=actor,
        kind="meeting_changed",
        title=title,
        scope=scope,
    )


def _add_decision(
    *, actor: User, case: Case, meeting: Meeting, decision: DecisionInput, number: int
) -> MeetingDecision:
    text = clean_text(
        decision.text,
        label=_("Decision %(n)d") % {"n": number},
        max_chars=MAX_DECISION_CHARS,
        required=True,
    )
    if decision.owner is None:
        raise CaseError(
            _("Decision %(n)d becomes a task: choose who owns it.") % {"n": number},
        )
    if decision.due_on is None:
        raise CaseError(_("Decision %(n)d becomes a task: give it a due date.") % {"n": number})
    try:
        task: Task = task_actions.do_add_task(
            actor=actor, case=case, title=text, assignee=decision.owner, due_on=decision.due_on
        )
    except CaseError as exc:
        raise CaseError(_("Decision %(n)d: %(error)s") % {"n": number, "error": exc}) from None
    return MeetingDecision.objects.create(
        meeting=meeting, text=text, task=task, created_at=clock.now(), created_by=actor
    )


def do_record_meeting(
    *,
    actor: User,
    meeting: Meeting,
    minutes: str,
    attendance: Mapping[int, str],
    outside_participants: str = "",
    decisions: Sequence[DecisionInput] = (),
) -> Meeting:
    """Record a scheduled conference as held: minutes, each invitee's attendance (by user id),
    outside participants, and decisions, each of which becomes a task of the case."""
    minutes = clean_text(minutes, label=_("The minutes"), max_chars=MAX_MINUTES_CHARS, required=True)
    outside_participants = clean_text(
        outside_participants, label=_("Outside participants"), max_chars=MAX_OUTSIDE_CHARS, required=False
    )
    with transaction.atomic():
        case = lock_case(meeting.case_id, actor)
        ensure_editable(case)
        meeting = _locked_meeting(meeting, case)
        _ensure_state(meeting, State.HELD)
        at = clock.now()
        if meeting.starts_at > at:
            raise CaseError(_("This conference has not started yet: record it once it has taken place."))
        invitees = {i.user_id: i for i in MeetingInvitee.objects.filter(meeting=meeting)}
        unknown = set(attendance) - set(invitees)
        if unknown:
            raise CaseError(_("Attendance can be recorded for invited team members only."))
        for user_id, invitee in invitees.items():
            value = attendance.get(user_id, "")
            if value not in (Attendance.PRESENT, Attendance.ABSENT, Attendance.EXCUSED):
                raise CaseError(_("Record whether each invited member was present, absent or excused."))
            invitee.attendance = value
        MeetingInvitee.objects.bulk_update(list(invitees.values()), ["attendance"])
        before = _state(meeting)
        meeting.state = State.HELD
        meeting.minutes = minutes
        meeting.outside_participants = outside_participants
        meeting.recorded_at, meeting.recorded_by = at, actor
        meeting.updated_at = at
        meeting.save(
            update_fields=["state", "minutes", "outside_participants", "recorded_at", "recorded_by", "updated_at"]
        )
        made = [
            _add_decision(actor=actor, case=case, meeting=meeting, decision=d, number=n)
            for n, d in enumerate(decisions, start=1)
        ]
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=meeting,
            before=before,
            after=_state(meeting),
            detail={
                "meeting": meeting.pk,
                "attendance": {str(k): v.attendance for k, v in sorted(invitees.items())},
                "outside_participants": bool(outside_participants),
                "tasks": [d.task_id for d in made],
            },
        )
    return meeting


def do_add_decision(*, actor: User, meeting: Meeting, decision: DecisionInput) -> MeetingDecision:
    """A decision added to a held conference's record (it becomes a task like the others)."""
    with transaction.atomic():
        case = lock_case(meeting.case_id, actor)
        ensure_editable(case)
        meeting = _locked_meeting(meeting, case)
        if not meeting.is_held:
            raise CaseError(_("Decisions are added to a conference once it is recorded as held."))
        number = MeetingDecision.objects.filter(meeting=meeting).count() + 1
        made = _add_decision(actor=actor, case=case, meeting=meeting, decision=decision, number=number)
        at = clock.now()
        Meeting.objects.filter(pk=meeting.pk).update(updated_at=at)
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=made,
            detail={"meeting": meeting.pk, "decision": made.pk, "task": made.task_id},
        )
    return made


# The calendar link ---------------------------------------------------------------------------------


def do_create_calendar_link(*, actor: User) -> tuple[CalendarFeed, str]:
    """A new secret calendar link for ``actor`` (the old one, if any, stops working). Returns the
    link's row and its token: the token is shown once and never stored."""
    from btam.accounts.models import User as UserModel

    if not actor.is_active:
        raise CaseError(_("This account is not active."))
    token = calendar.new_token()
    token_hash = calendar.hash_token(token)
    assert token_hash is not None
    with transaction.atomic():
        at = clock.now()
        # Lock the person's row: two clicks at once still leave one active link.
        UserModel.objects.select_for_update().filter(pk=actor.pk).first()
        revoked = list(CalendarFeed.objects.active().filter(user_id=actor.pk).values_list("pk", flat=True))
        CalendarFeed.objects.filter(pk__in=revoked).update(revoked_at=at)
        feed = CalendarFeed.objects.create(user=actor, token_hash=token_hash, created_at=at)
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.CREATED,
            target=feed,
            detail={"calendar_link": feed.pk, "replaced": revoked},
        )
    return feed, token


def do_revoke_calendar_link(*, actor: User) -> CalendarFeed:
    """End ``actor``'s calendar link: it answers 404 from now on."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().active().filter(user_id=actor.pk).first()
        if feed is None:
            raise CaseError(_("You have no calendar link to revoke."))
        feed.revoked_at = clock.now()
        feed.save(update_fields=["revoked_at"])
        AuditEvent.objects.record(
            actor=actor, verb=Verb.UPDATED, target=feed, detail={"calendar_link_revoked": feed.pk}
        )
    return feed


def do_revoke_all_calendar_links(*, actor: User | None, user: User, reason: str) -> list[int]:
    """End every active calendar link of ``user`` because the account's access was reset (signed
    out everywhere, a new password): a lost phone's calendar program gets nothing from now on.
    ``actor`` is None for a password reset from an emailed link (nobody is signed in). One audit
    event per link ended; returns their ids (none is fine: nothing to end)."""
    with transaction.atomic():
        at = clock.now()
        feeds = list(CalendarFeed.objects.select_for_update().active().filter(user_id=user.pk).order_by("pk"))
        for feed in feeds:
            feed.revoked_at = at
            feed.save(update_fields=["revoked_at"])
            AuditEvent.objects.record(
                actor=actor,
                actor_label=user.get_username(),
                verb=Verb.UPDATED,
                target=feed,
                reason=reason,
                detail={"calendar_link_revoked": feed.pk},
            )
    return [feed.pk for feed in feeds]
