"""The Meetings tab and a conference's page: who sees and changes what, the forms' happy paths and
their bad inputs (clear message, 400, what was typed kept, never a 500)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, Task
from btam.cases.task_actions import today
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, school_member
from btam.meetings import actions
from btam.meetings.models import Meeting, MeetingInvitee
from btam.meetings.tests.helpers import SECRET, schedule

pytestmark = pytest.mark.django_db


def url(name: str, case: Case, *extra: int) -> str:
    return reverse(f"meetings:{name}", args=[case.pk, *extra])


@pytest.fixture
def team(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


def local_day(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def schedule_form(
    *,
    day: dt.date | None = None,
    starts: str = "10:00",
    ends: str = "11:00",
    invitees: tuple[User, ...] = (),
    agenda: str = "Review the plan",
) -> dict[str, Any]:
    return {
        "meeting-day": (day or local_day(3)).isoformat(),
        "meeting-starts": starts,
        "meeting-ends": ends,
        "meeting-location": "Room 12",
        "meeting-agenda": agenda,
        "meeting-invitees": [str(u.pk) for u in invitees],
    }


# The tab ----------------------------------------------------------------------------------------------


def test_the_tab_lists_the_case_conferences_and_audits_the_read(
    team: Client, case: Case, member: User, leader: User
) -> None:
    meeting = schedule(case, member, [leader])

    response = team.get(url("case", case))

    assert response.status_code == 200
    page = response.content.decode()
    assert url("detail", case, meeting.pk) in page
    assert "Schedule a case conference" in page
    assert f'value="{member.pk}" checked' in page  # the scheduler is ticked as an invitee
    assert f'value="{leader.pk}" checked' not in page
    assert 'aria-current="page"' in page and "Meetings" in page
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="meetings").exists()


def test_a_conference_that_has_started_is_marked_to_record(team: Client, case: Case, member: User, clock: Any) -> None:
    schedule(case, member, [])
    assert 'data-testid="to-record"' not in team.get(url("case", case)).content.decode()
    clock.advance(days=3)
    assert 'data-testid="to-record"' in team.get(url("case", case)).content.decode()


def test_a_read_only_school_reads_but_cannot_schedule(world: Any, case: Case, member: User) -> None:
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    meeting = schedule(case, member, [])
    client = Client()
    client.force_login(reader)

    page = client.get(url("case", case)).content.decode()
    assert "Schedule a case conference" not in page
    detail = client.get(url("detail", case, meeting.pk))
    assert detail.status_code == 200 and "Record as held" not in detail.content.decode()
    assert client.post(url("schedule", case), schedule_form()).status_code == 403
    assert client.post(url("cancel", case, meeting.pk), {"cancel-reason": "x"}).status_code == 403


def test_another_school_sees_neither_the_tab_nor_a_conference(world: Any, case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    client = Client()
    client.force_login(school_member(world, world.other_school))
    assert client.get(url("case", case)).status_code == 404
    assert client.get(url("detail", case, meeting.pk)).status_code == 404


def test_a_conference_of_another_case_is_a_404(world: Any, team: Client, case: Case, member: User) -> None:
    other = open_case(world, actor=member)
    meeting = schedule(other, member, [])
    assert team.get(url("detail", case, meeting.pk)).status_code == 404


# Scheduling -----------------------------------------------------------------------------------------------


def test_scheduling_from_the_tab(team: Client, case: Case, leader: User) -> None:
    response = team.post(url("schedule", case), schedule_form(invitees=(leader,)))

    meeting = Meeting.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == url("detail", case, meeting.pk)
    assert timezone.localtime(meeting.starts_at).hour == 10
    assert list(meeting.invitees.values_list("user_id", flat=True)) == [leader.pk]
    page = team.get(response["Location"]).content.decode()
    assert "Review the plan" in page and "Record as held" in page


def test_an_end_before_the_start_is_refused_with_what_was_typed(team: Client, case: Case) -> None:
    response = team.post(url("schedule", case), schedule_form(starts="14:00", ends="13:00", agenda=SECRET))

    assert response.status_code == 400
    page = response.content.decode()
    assert "ends before it starts" in page
    assert "Quinby Marchetti-Oldfield" in page  # the agenda typed is still in the form
    assert not Meeting.objects.exists()


def test_a_start_in_the_past_is_refused(team: Client, case: Case) -> None:
    response = team.post(url("schedule", case), schedule_form(day=local_day(-1)))
    assert response.status_code == 400
    assert "start has passed" in response.content.decode()


def test_an_invitee_off_the_case_is_refused(world: Any, team: Client, case: Case) -> None:
    elsewhere = school_member(world, world.other_school)
    response = team.post(url("schedule", case), schedule_form(invitees=(elsewhere,)))
    assert response.status_code == 400
    assert "Invite only people who work on this case" in response.content.decode()
    assert not Meeting.objects.exists()


def test_missing_and_malformed_fields_are_refused_not_a_500(team: Client, case: Case) -> None:
    response = team.post(url("schedule", case), {"meeting-day": "2026-02-31", "meeting-starts": "25:99"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a real date" in page and "Enter a time" in page and "This field is required" in page


def test_a_closed_case_cannot_schedule(world: Any, team: Client, case: Case) -> None:
    close(case, world)
    assert "Schedule a case conference" not in team.get(url("case", case)).content.decode()
    response = team.post(url("schedule", case), schedule_form())
    assert response.status_code == 400
    assert "This case is closed" in response.content.decode()


# Recording, moving, cancelling -----------------------------------------------------------------------------


def record_form(invitees: dict[User, str], decisions: tuple[tuple[str, User | None, str], ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"record-minutes": "We agreed on next steps.", "record-outside_participants": "parent"}
    for user, value in invitees.items():
        data[f"record-attendance_{user.pk}"] = value
    for n, (text, owner, due) in enumerate(decisions):
        data[f"decision-{n}-text"] = text
        data[f"decision-{n}-owner"] = str(owner.pk) if owner else ""
        data[f"decision-{n}-due_on"] = due
    return data


def test_recording_a_held_conference_makes_its_decisions_tasks(
    team: Client, case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [leader])
    clock.advance(days=3)
    due = (today() + dt.timedelta(days=5)).isoformat()

    response = team.post(
        url("record", case, meeting.pk),
        record_form({leader: "present"}, (("Call the parent", leader, due),)),
    )

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_held and meeting.minutes == "We agreed on next steps."
    assert MeetingInvitee.objects.get(meeting=meeting).attendance == "present"
    task = Task.objects.get(case=case)
    assert task.title == "Call the parent" and task.assignee == leader
    page = team.get(url("detail", case, meeting.pk)).content.decode()
    assert "We agreed on next steps." in page and "Call the parent" in page and "Add a decision" in page


def test_a_decision_row_without_owner_or_due_date_is_refused_and_the_minutes_kept(
    team: Client, case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [leader])
    clock.advance(days=3)

    response = team.post(
        url("record", case, meeting.pk), record_form({leader: "present"}, (("Call the parent", None, ""),))
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "choose who owns it" in page and "give it a due date" in page
    assert "We agreed on next steps." in page and "Call the parent" in page
    meeting.refresh_from_db()
    assert meeting.is_scheduled and not Task.objects.exists()


def test_missing_attendance_is_refused(team: Client, case: Case, member: User, leader: User, clock: Any) -> None:
    meeting = schedule(case, member, [leader])
    clock.advance(days=3)
    response = team.post(url("record", case, meeting.pk), record_form({}))
    assert response.status_code == 400
    assert "present, absent or excused" in response.content.decode()


def test_recording_minutes_of_a_cancelled_conference_is_refused(
    team: Client, case: Case, member: User, clock: Any
) -> None:
    meeting = schedule(case, member, [])
    actions.do_cancel_meeting(actor=member, meeting=meeting, reason="Not needed")
    clock.advance(days=3)

    response = team.post(url("record", case, meeting.pk), record_form({}))

    assert response.status_code == 400
    assert "was cancelled: nothing can be recorded" in response.content.decode()
    assert "Record as held" not in response.content.decode()


def test_moving_and_cancelling_from_the_page(team: Client, case: Case, member: User, leader: User) -> None:
    meeting = schedule(case, member, [leader])
    day = local_day(6).isoformat()

    moved = team.post(
        url("reschedule", case, meeting.pk),
        {"move-day": day, "move-starts": "09:00", "move-ends": "09:30", "move-reason": "Room taken"},
    )
    assert moved.status_code == 302
    meeting.refresh_from_db()
    assert timezone.localtime(meeting.starts_at).date().isoformat() == day and meeting.sequence == 1

    no_reason = team.post(url("cancel", case, meeting.pk), {"cancel-reason": ""})
    assert no_reason.status_code == 400 and "give the reason" in no_reason.content.decode()

    cancelled = team.post(url("cancel", case, meeting.pk), {"cancel-reason": "Family moved"})
    assert cancelled.status_code == 302
    page = team.get(url("detail", case, meeting.pk)).content.decode()
    assert "Room taken" in page and "Family moved" in page and "Cancelled" in page


def test_moving_to_the_past_is_refused_with_the_reason_kept(team: Client, case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    response = team.post(
        url("reschedule", case, meeting.pk),
        {"move-day": local_day(-2).isoformat(), "move-starts": "09:00", "move-ends": "10:00", "move-reason": "Earlier"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "start has passed" in page and "Earlier" in page


def test_adding_a_decision_to_a_held_conference(
    team: Client, case: Case, member: User, leader: User, clock: Any
) -> None:
    meeting = schedule(case, member, [])
    clock.advance(days=3)
    actions.do_record_meeting(actor=member, meeting=meeting, minutes="Notes.", attendance={})
    due = (today() + dt.timedelta(days=2)).isoformat()

    missing = team.post(url("decision_add", case, meeting.pk), {"decision-text": "Visit", "decision-due_on": due})
    assert missing.status_code == 400 and "choose who owns it" in missing.content.decode()

    added = team.post(
        url("decision_add", case, meeting.pk),
        {"decision-text": "Visit", "decision-owner": str(leader.pk), "decision-due_on": due},
    )
    assert added.status_code == 302
    assert Task.objects.get(case=case).assignee == leader


def test_get_on_a_post_only_page_is_405(team: Client, case: Case, member: User) -> None:
    meeting = schedule(case, member, [])
    assert team.get(url("schedule", case)).status_code == 405
    assert team.get(url("record", case, meeting.pk)).status_code == 405
