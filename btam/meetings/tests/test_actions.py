"""Case-conference actions: schedule, move, cancel, record as held, decisions that become tasks;
their notifications, audit events and refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case, Task
from btam.cases.task_actions import today
from btam.cases.tests.notes_tasks_helpers import close, open_case, raw_rows, school_member
from btam.meetings import actions
from btam.meetings.actions import DecisionInput
from btam.meetings.models import Meeting, MeetingChange, MeetingDecision, MeetingInvitee
from btam.meetings.tests.helpers import SECRET, at, schedule
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

State = Meeting.State
A = MeetingInvitee.Attendance


def held(meeting: Meeting, actor: User, clock: Any, decisions: list[DecisionInput] | None = None) -> Meeting:
    clock.advance(days=3)
    attendance = {i.user_id: A.PRESENT for i in meeting.invitees.all()}
    return actions.do_record_meeting(
        actor=actor,
        meeting=meeting,
        minutes="Agreed on a plan.",
        attendance=attendance,
        outside_participants="parent\noutside therapist",
        decisions=decisions or [],
    )


# Scheduling -------------------------------------------------------------------------------------------


def test_scheduling_invites_and_tells_each_invitee_with_a_generic_title(case: Case, member: User, leader: User) -> None:
    meeting = schedule(case, member, [leader, member])

    assert meeting.state == State.SCHEDULED
    assert set(meeting.invitees.values_list("user_id", flat=True)) == {leader.pk, member.pk}
    told = Notification.objects.get(recipient=leader, kind=Notification.Kind.MEETING_SCHEDULED)
    assert told.title.startswith(f"Case conference for case {case.number} on ")
    assert " at " in told.title
    assert SECRET not in told.title and "Room 204" not in told.title
    assert told.link == f"/cases/{case.pk}/meetings/{meeting.pk}/"
    assert told.email_outbox is not None
    assert SECRET not in str(told.email_outbox.payload)
    # The scheduler is not told of their own meeting.
    assert not Notification.objects.filter(recipient=member, kind=Notification.Kind.MEETING_SCHEDULED).exists()


def test_scheduling_is_audited_without_the_agenda_and_stores_it_encrypted(case: Case, member: User) -> None:
    meeting = schedule(case, member, [])

    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="meetings.meeting", target_id=str(meeting.pk))
    assert event.district_id == case.district_id
    assert SECRET not in str(event.detail) + str(event.after)
    assert SECRET not in raw_rows("meetings_meeting")
    assert "Room 204" not in raw_rows("meetings_meeting")
    assert Meeting.objects.get(pk=meeting.pk).agenda == SECRET


def test_it_refuses_an_end_before_the_start(case: Case, member: User) -> None:
    start = at(2)
    with pytest.raises(CaseError, match="ends before it starts"):
        schedule(case, member, [], starts_at=start, ends_at=start - dt.timedelta(minutes=30))
    with pytest.raises(CaseError, match="ends before it starts"):
        schedule(case, member, [], starts_at=start, ends_at=start)
    assert not Meeting.objects.exists()


def test_it_refuses_a_start_in_the_past(case: Case, member: User) -> None:
    with pytest.raises(CaseError, match="start has passed"):
        schedule(case, member, [], starts_at=at(-1))
    assert not Meeting.objects.exists()


def test_it_refuses_a_start_years_away_and_a_day_long_meeting(case: Case, member: User) -> None:
    with pytest.raises(CaseError, match="years away"):
        schedule(case, member, [], starts_at=at(365 * 3))
    start = at(2)
    with pytest.raises(CaseError, match="at most 12 hours"):
        schedule(case, member, [], starts_at=start, ends_at=start + dt.timedelta(hours=13))


def test_it_refuses_an_empty_agenda(case: Case, member: User) -> None:
    with pytest.raises(CaseError, match="agenda is required"):
        schedule(case, member, [], agenda="   ")


def test_it_refuses_an_invitee_who_cannot_see_the_case(world: Any, case: Case, member: User, leader: User) -> None:
    elsewhere = school_member(world, world.other_school)

    with pytest.raises(CaseError, match="cannot see this case") as refused:
        schedule(case, member, [leader, elsewhere])
    assert str(elsewhere) in str(refused.value)
    with pytest.raises(CaseError, match="cannot see this case"):
        schedule(case, member, [world.outsider])
    assert not Meeting.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.MEETING_SCHEDULED).exists()


def test_an_invitee_listed_twice_is_invited_once(case: Case, member: User, leader: User) -> None:
    meeting = schedule(case, member, [leader, leader])
    assert meeting.invitees.count() == 1


def test_a_closed_case_takes_no_new_meeting(world: Any, case: Case, member: User) -> None:
    close(case, world)
    with pytest.raises(CaseError, match="closed"):
        schedule(case, member, [])


def test_someone_who_may_only_read_the_case_cannot_schedule(world: Any, case: Case) -> None:
    elsewhere = school_member(world, world.other_school)
    with pytest.raises(CaseError, match="no longer change this case"):
        schedule(case, elsewhere, [])


# Moving and cancelling -----------------------------------------------------------------------------------


def test_moving_keeps_the_reason_bumps_the_sequence_and_tells_the_invitees(
    case: Case, member: User, leader: User
) -> None:
    meeting = schedule(case, member, [leader])
    old_start = meeting.starts_at
    new_start = at(5, hour=14)

    moved = actions.do_reschedule_meeting(
        actor=member,
        meeting=meeting,
        starts_at=new_start,
        ends_at=new_start + dt.timedelta(minutes=45),
        location="Library",
        reason="The counselor is away that day",
    )

    assert moved.starts_at == new_start and moved.sequence == 1
    change = MeetingChange.objects.get(meeting=meeting)
    assert change.kind == MeetingChange.Kind.RESCHEDULED
    assert change.from_starts_at == old_start and change.reason == "The counselor is away that day"
    told = Notification.objects.get(recipient=leader, kind=Notification.Kind.MEETING_CHANGED)
    assert told.title.startswith(f"Case conference for case {case.number} moved to ")
    assert "counselor" not in told.title


def test_moving_needs_a_reason_and_a_change(case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    with pytest.raises(CaseError, match="reason is required"):
        actions.do_reschedule_meeting(
            actor=member, meeting=meeting, starts_at=at(3), ends_at=at(3) + dt.timedelta(hours=1), reason=""
        )
    with pytest.raises(CaseError, match="Nothing changed"):
        actions.do_reschedule_meeting(
            actor=member,
            meeting=meeting,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            location=meeting.location,
            reason="Typo",
        )


def test_cancelling_keeps_the_reason_and_tells_the_invitees(case: Case, member: User, leader: User) -> None:
    meeting = schedule(case, member, [leader])

    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="Family moved away")

    meeting.refresh_from_db()
    assert meeting.state == State.CANCELLED
    assert MeetingChange.objects.get(meeting=meeting, kind=MeetingChange.Kind.CANCELLED).reason == "Family moved away"
    told = Notification.objects.get(recipient=leader, kind=Notification.Kind.MEETING_CHANGED)
    assert told.title.endswith("cancelled") and "Family" not in told.title


def test_an_invitee_who_lost_access_is_not_told_of_a_move(world: Any, case: Case, member: User, leader: User) -> None:
    nearby = school_member(world, world.school)
    meeting = schedule(case, member, [leader, nearby])
    nearby.memberships.update(is_active=False)  # left the school's team after being invited

    actions.do_reschedule_meeting(
        actor=member, meeting=meeting, starts_at=at(5), ends_at=at(5) + dt.timedelta(hours=1), reason="Clash"
    )

    changed = Notification.objects.filter(kind=Notification.Kind.MEETING_CHANGED)
    assert list(changed.values_list("recipient_id", flat=True)) == [leader.pk]
    assert meeting.invitees.filter(user=nearby).exists()  # still on the record of who was invited


def test_invitees_who_lost_access_are_not_told_of_a_cancellation(
    world: Any, case: Case, member: User, leader: User
) -> None:
    nearby, switched_off = school_member(world, world.school), school_member(world, world.school)
    meeting = schedule(case, member, [leader, nearby, switched_off])
    nearby.memberships.update(is_active=False)
    User.objects.filter(pk=switched_off.pk).update(is_active=False)

    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="No longer needed")

    changed = Notification.objects.filter(kind=Notification.Kind.MEETING_CHANGED)
    assert list(changed.values_list("recipient_id", flat=True)) == [leader.pk]


def test_a_restricted_case_tells_only_the_invitees_who_still_see_it(
    world: Any, case: Case, member: User, leader: User
) -> None:
    from btam.cases.access_actions import do_set_restricted

    meeting = schedule(case, member, [leader])
    # Restricted to its named members (the member manages it): the district's leader no longer sees it.
    do_set_restricted(actor=member, case=case, restricted=True, reason="Staff involved")

    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="No longer needed")

    assert not Notification.objects.filter(kind=Notification.Kind.MEETING_CHANGED).exists()


def test_a_cancelled_meeting_can_be_neither_moved_nor_cancelled_again(case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="No longer needed")
    with pytest.raises(CaseError, match="was cancelled"):
        actions.do_cancel_meeting(actor=member, meeting=meeting, reason="Again")
    with pytest.raises(CaseError, match="was cancelled"):
        actions.do_reschedule_meeting(
            actor=member, meeting=meeting, starts_at=at(4), ends_at=at(4) + dt.timedelta(hours=1), reason="Later"
        )


def test_the_transition_table_allows_only_scheduled_to_held_or_cancelled() -> None:
    assert Meeting(state=State.SCHEDULED).can_transition_to(State.HELD)
    assert Meeting(state=State.SCHEDULED).can_transition_to(State.CANCELLED)
    assert not Meeting(state=State.HELD).can_transition_to(State.CANCELLED)
    assert not Meeting(state=State.CANCELLED).can_transition_to(State.HELD)
    assert not Meeting(state=State.HELD).can_transition_to(State.SCHEDULED)


# Recording --------------------------------------------------------------------------------------------


def test_recording_keeps_minutes_attendance_and_makes_each_decision_a_task(
    case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [leader, member])
    clock.advance(days=3)
    due = today() + dt.timedelta(days=7)

    actions.do_record_meeting(
        actor=member,
        meeting=meeting,
        minutes="Talked it through.",
        attendance={leader.pk: A.EXCUSED, member.pk: A.PRESENT},
        outside_participants="parent",
        decisions=[
            DecisionInput(text="Call the parent", owner=leader, due_on=due),
            DecisionInput(text="Review the schedule", owner=member, due_on=due + dt.timedelta(days=1)),
        ],
    )

    meeting.refresh_from_db()
    assert meeting.state == State.HELD and meeting.minutes == "Talked it through."
    assert meeting.outside_participants == "parent" and meeting.recorded_by == member
    assert dict(meeting.invitees.values_list("user_id", "attendance")) == {leader.pk: A.EXCUSED, member.pk: A.PRESENT}
    decisions = list(MeetingDecision.objects.filter(meeting=meeting).select_related("task"))
    tasks = [d.task for d in decisions if d.task is not None]
    assert [(d.text, t.title, t.assignee_id, t.due_on) for d, t in zip(decisions, tasks, strict=True)] == [
        ("Call the parent", "Call the parent", leader.pk, due),
        ("Review the schedule", "Review the schedule", member.pk, due + dt.timedelta(days=1)),
    ]
    assert all(t.case_id == case.pk and t.status == Task.Status.OPEN for t in tasks)
    case.refresh_from_db()
    assert case.next_due_on == due  # made the normal way: the case's next due date follows
    assert Notification.objects.filter(recipient=leader, kind=Notification.Kind.TASK_ASSIGNED).count() == 1
    event = AuditEvent.objects.filter(target_type="meetings.meeting", verb=Verb.UPDATED).latest("pk")
    assert event.after["state"] == State.HELD
    assert event.detail["tasks"] == [d.task_id for d in decisions]
    assert "Talked" not in str(event.detail) and "parent" not in str(event.detail)


def test_a_decision_without_an_owner_or_due_date_is_refused_and_nothing_is_written(
    case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [leader])
    clock.advance(days=3)
    due = today() + dt.timedelta(days=7)
    kwargs: dict[str, Any] = {
        "actor": member,
        "meeting": meeting,
        "minutes": "Notes.",
        "attendance": {leader.pk: A.PRESENT},
    }

    with pytest.raises(CaseError, match="Decision 2 becomes a task: choose who owns it"):
        actions.do_record_meeting(
            **kwargs,
            decisions=[DecisionInput("Call", leader, due), DecisionInput("Visit", None, due)],
        )
    with pytest.raises(CaseError, match="Decision 1 becomes a task: give it a due date"):
        actions.do_record_meeting(**kwargs, decisions=[DecisionInput("Call", leader, None)])
    with pytest.raises(CaseError, match="Decision 1: The due date has passed"):
        actions.do_record_meeting(**kwargs, decisions=[DecisionInput("Call", leader, today() - dt.timedelta(days=1))])

    meeting.refresh_from_db()
    assert meeting.state == State.SCHEDULED and meeting.minutes == ""
    assert not Task.objects.filter(case=case).exists()


def test_a_decision_owned_by_someone_off_the_case_is_refused(world: Any, case: Case, member: User, clock: Any) -> None:
    meeting = schedule(case, member, [])
    clock.advance(days=3)
    elsewhere = school_member(world, world.other_school)
    with pytest.raises(CaseError, match="only to someone on the team"):
        actions.do_record_meeting(
            actor=member,
            meeting=meeting,
            minutes="Notes.",
            attendance={},
            decisions=[DecisionInput("Call", elsewhere, today() + dt.timedelta(days=2))],
        )


def test_minutes_of_a_cancelled_meeting_are_refused(case: Case, member: User, clock: Any) -> None:
    meeting = schedule(case, member, [])
    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="Not needed")
    clock.advance(days=3)
    with pytest.raises(CaseError, match="was cancelled: nothing can be recorded"):
        actions.do_record_meeting(actor=member, meeting=meeting, minutes="Notes.", attendance={})


def test_a_meeting_is_recorded_only_once_it_has_started(case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    with pytest.raises(CaseError, match="has not started yet"):
        actions.do_record_meeting(actor=member, meeting=meeting, minutes="Notes.", attendance={})


def test_recording_needs_minutes_and_every_invitees_attendance(
    case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [leader])
    clock.advance(days=3)
    with pytest.raises(CaseError, match="minutes is required"):
        actions.do_record_meeting(actor=member, meeting=meeting, minutes=" ", attendance={leader.pk: A.PRESENT})
    with pytest.raises(CaseError, match="present, absent or excused"):
        actions.do_record_meeting(actor=member, meeting=meeting, minutes="Notes.", attendance={})
    with pytest.raises(CaseError, match="invited team members only"):
        actions.do_record_meeting(
            actor=member, meeting=meeting, minutes="Notes.", attendance={leader.pk: A.PRESENT, member.pk: A.PRESENT}
        )


def test_a_held_meeting_cannot_be_recorded_again_or_cancelled(case: Case, member: User, clock: Any) -> None:
    meeting = held(schedule(case, member, []), member, clock)
    with pytest.raises(CaseError, match="held already"):
        actions.do_record_meeting(actor=member, meeting=meeting, minutes="Again.", attendance={})
    with pytest.raises(CaseError, match="held already"):
        actions.do_cancel_meeting(actor=member, meeting=meeting, reason="Oops")


def test_a_decision_added_to_a_held_meeting_becomes_a_task(case: Case, member: User, leader: User, clock: Any) -> None:
    meeting = held(schedule(case, member, [leader]), member, clock)
    due = today() + dt.timedelta(days=3)

    made = actions.do_add_decision(
        actor=member, meeting=meeting, decision=DecisionInput("Check in Monday", leader, due)
    )

    assert made.task is not None and made.task.assignee == leader and made.task.due_on == due
    with pytest.raises(CaseError, match="becomes a task: choose who owns it"):
        actions.do_add_decision(actor=member, meeting=meeting, decision=DecisionInput("Another", None, due))


def test_a_decision_cannot_be_added_before_the_meeting_is_held(case: Case, member: User, leader: User) -> None:
    meeting = schedule(case, member, [])
    with pytest.raises(CaseError, match="once it is recorded as held"):
        actions.do_add_decision(
            actor=member, meeting=meeting, decision=DecisionInput("Call", leader, today() + dt.timedelta(days=3))
        )


def test_meetings_are_visible_only_with_their_case(world: Any, case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    other = open_case(world, school=world.other_school, actor=school_member(world, world.other_school))
    schedule(other, other.manager, [])  # type: ignore[arg-type]

    assert list(Meeting.objects.visible_to(school_member(world, world.school))) == [meeting]
    assert not Meeting.objects.visible_to(world.outsider).exists()
    assert Meeting.objects.visible_to(world.users[Role.TEAM_LEADER]).count() == 2
