"""The private calendar feed: the iCalendar text (escaping, folding, CRLF), the secret link (shown
once, stored as a keyed hash, replaced, revoked), what the feed holds (no names, no case content;
access recomputed at each fetch), the audit of each fetch and the throttle of wrong links."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.assessments.monitoring_actions import do_set_reassessment_date
from btam.audit.models import AuditEvent, Verb
from btam.cases import participant_actions
from btam.cases.access_actions import do_set_restricted
from btam.cases.models import Case, CaseParticipant
from btam.cases.task_actions import do_add_task, do_set_task_status, today
from btam.cases.tests.notes_tasks_helpers import close, raw_rows
from btam.lib import clock as clock_module
from btam.meetings import actions, calendar
from btam.meetings.calendar import Event, escape_text, fold, render_calendar
from btam.meetings.models import CalendarFeed
from btam.meetings.tests.helpers import SECRET, schedule

pytestmark = pytest.mark.django_db

CALENDAR = reverse("meetings:calendar")
NEW = reverse("meetings:calendar_new")
REVOKE = reverse("meetings:calendar_revoke")
STUDENT = "Ottoline Brackenridge"
TASK_TITLE = "Phone Ottoline's aunt, about the bus"


def unfold(text: str) -> list[str]:
    """The content lines of an iCalendar text (RFC 5545 3.1), after checking its line ends."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def physical_lines(text: str) -> list[bytes]:
    return text.encode("utf-8").split(b"\r\n")[:-1]


def events_of(text: str) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None:
            name, _sep, value = line.partition(":")
            current[name] = value
    return events


# The iCalendar text --------------------------------------------------------------------------------------


def test_text_values_escape_backslashes_semicolons_commas_and_newlines() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    line = "SUMMARY:" + "é" * 100 + "x" * 80
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 2
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line  # each part decodes: no split character
    assert fold("SHORT:line") == "SHORT:line"


def test_a_calendar_is_crlf_text_with_stable_uids_and_a_stamp() -> None:
    stamp = dt.datetime(2026, 12, 1, 15, 4, 5, tzinfo=dt.UTC)
    text = render_calendar(
        [
            Event(
                uid="task-1@example.test",
                summary="Task due: case 2026-0042, urgent; now",
                url="",
                day=dt.date(2026, 12, 3),
            ),
            Event(
                uid="meeting-2@example.test",
                summary="Case conference: case 2026-0042",
                url="https://example.test/cases/1/meetings/2/",
                starts_at=dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC),
                ends_at=dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC),
                sequence=2,
                cancelled=True,
            ),
        ],
        name="OpenBTAM",
        stamp_at=stamp,
    )
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    task, meeting = events_of(text)
    assert task["SUMMARY"] == "Task due: case 2026-0042\\, urgent\\; now"
    assert task["DTSTART;VALUE=DATE"] == "20261203" and task["DTEND;VALUE=DATE"] == "20261204"
    assert task["DTSTAMP"] == "20261201T150405Z" and task["UID"] == "task-1@example.test"
    assert meeting["DTSTART"] == "20261203T150000Z" and meeting["SEQUENCE"] == "2"
    assert meeting["STATUS"] == "CANCELLED"
    assert all(len(line) <= 75 for line in physical_lines(text))


def test_tokens_have_at_least_128_random_bits_and_only_well_formed_ones_are_hashed() -> None:
    token = calendar.new_token()
    assert len(token) == 43 and calendar.TOKEN_BYTES * 8 >= 128
    assert calendar.new_token() != token
    assert calendar.hash_token(token) == calendar.hash_token(token)
    assert len(calendar.hash_token(token) or "") == 64
    assert calendar.hash_token("../etc/passwd") is None
    assert calendar.hash_token("") is None


# The link -----------------------------------------------------------------------------------------------


@pytest.fixture
def team(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


def new_link(client: Client) -> str:
    response = client.post(NEW)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = re.search(r'value="(https?://[^"]+\.ics)"', response.content.decode())
    assert found is not None
    return urlsplit(found.group(1)).path


def test_a_new_link_is_shown_once_and_only_its_keyed_hash_is_stored(team: Client, member: User) -> None:
    path = new_link(team)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")

    assert token not in raw_rows("meetings_calendarfeed")
    assert CalendarFeed.objects.get(user=member).token_hash == calendar.hash_token(token)
    page = team.get(CALENDAR).content.decode()
    assert token not in page
    assert "You have a calendar link" in page
    assert AuditEvent.objects.filter(verb=Verb.CREATED, target_type="meetings.calendarfeed").count() == 1


def test_a_new_link_replaces_the_old_one(team: Client, member: User) -> None:
    first = new_link(team)
    second = new_link(team)

    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert CalendarFeed.objects.filter(user=member).count() == 2
    assert CalendarFeed.objects.filter(user=member).active().count() == 1


def test_a_revoked_link_answers_404_with_a_short_plain_message(team: Client) -> None:
    path = new_link(team)
    response = team.post(REVOKE)
    assert response.status_code == 302

    gone = Client().get(path)
    assert gone.status_code == 404
    assert gone["Content-Type"].startswith("text/plain")
    assert "revoked or replaced" in gone.content.decode()
    assert team.get(CALENDAR).content.decode().count("You have no calendar link") == 1


def test_revoking_without_a_link_says_so(team: Client) -> None:
    response = team.post(REVOKE)
    assert response.status_code == 400
    assert "no calendar link to revoke" in response.content.decode()


def test_unknown_and_malformed_tokens_answer_404_not_500(client: Client) -> None:
    for token in ["x" * 43, "short", "%00", "a" * 300]:
        response = client.get(f"/calendar/feed/{token}.ics")
        assert response.status_code == 404, token


def test_wrong_links_are_throttled_per_address(client: Client, settings: Any) -> None:
    settings.BTAM_CALENDAR_FAILURES_PER_ADDRESS = 3
    cache.clear()
    try:
        codes = [client.get(f"/calendar/feed/{'y' * 43}.ics").status_code for _ in range(4)]
    finally:
        cache.clear()
    assert codes == [404, 404, 404, 429]


def test_the_calendar_page_is_not_for_roles_without_cases(world: Any) -> None:
    client = Client()
    client.force_login(world.users[Role.AUDITOR])
    assert client.get(CALENDAR).status_code == 403


# The feed ---------------------------------------------------------------------------------------------------


@pytest.fixture
def busy_case(world: Any, case: Case, member: User, leader: User) -> Case:
    """A case the member manages, with a student named on it, a task, a reassessment and a meeting."""
    participant_actions.do_add_participant(actor=member, case=case, role=CaseParticipant.Role.SUBJECT, name=STUDENT)
    do_add_task(actor=member, case=case, title=TASK_TITLE, assignee=member, due_on=today() + dt.timedelta(days=3))
    do_set_reassessment_date(actor=member, case=case, due_on=today() + dt.timedelta(days=10), reason="Level set")
    schedule(case, leader, [member, leader])
    return case


def test_the_feed_lists_tasks_reassessments_and_meetings_by_case_number_only(
    team: Client, busy_case: Case, member: User
) -> None:
    path = new_link(team)

    response = Client().get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    number = busy_case.number
    summaries = sorted(e["SUMMARY"] for e in events_of(text))
    assert summaries == sorted(
        [f"Case conference: case {number}", f"Reassessment due: case {number}", f"Task due: case {number}"]
    )
    for leaked in [STUDENT, "Ottoline", TASK_TITLE, SECRET, "Room 204", busy_case.title, member.full_name]:
        assert leaked not in text
    assert all(len(line) <= 75 for line in physical_lines(text))
    task = next(e for e in events_of(text) if e["SUMMARY"].startswith("Task"))
    assert task["DTSTART;VALUE=DATE"] == (today() + dt.timedelta(days=3)).strftime("%Y%m%d")


def test_uids_stay_the_same_from_one_fetch_to_the_next(team: Client, busy_case: Case, clock: Any) -> None:
    path = new_link(team)
    first = Client().get(path).content.decode()
    clock.advance(hours=1)
    second = Client().get(path).content.decode()

    assert [e["UID"] for e in events_of(first)] == [e["UID"] for e in events_of(second)]
    assert {e["DTSTAMP"] for e in events_of(first)} != {e["DTSTAMP"] for e in events_of(second)}


def test_each_fetch_is_one_audited_read_of_the_feed(team: Client, busy_case: Case, member: User) -> None:
    path = new_link(team)
    before = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").count()

    Client().get(path)
    Client().get(path)

    events = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").order_by("pk")
    assert events.count() == before + 2
    last = events.last()
    assert last is not None and last.actor == member
    assert last.detail["cases"] == [busy_case.pk] and len(last.detail["tasks"]) == 1
    assert last.district_id == busy_case.district_id and last.detail["districts"] == [busy_case.district_id]
    assert CalendarFeed.objects.get(user=member).last_fetched_at is not None


def test_a_feed_spanning_two_districts_is_audited_once_per_district_with_its_own_ids(
    world: Any, team: Client, busy_case: Case, member: User, leader: User
) -> None:
    """District auditors filter by district: each district's event holds only its own ids."""
    from btam.accounts.models import Membership
    from btam.cases.tests.notes_tasks_helpers import open_case

    Membership.objects.create(user=member, district=world.other_district, role=Role.TEAM_MEMBER)
    there = open_case(world, school=world.other_district.schools.get(), actor=world.outsider)
    there_task = do_add_task(
        actor=world.outsider, case=there, title="Elsewhere", assignee=member, due_on=today() + dt.timedelta(days=2)
    )
    here_task = busy_case.tasks.get()
    path = new_link(team)
    before = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").count()

    assert Client().get(path).status_code == 200

    events = list(
        AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").order_by("pk")[before:]
    )
    by_district = {e.district_id: e.detail for e in events}
    assert len(events) == 2 and set(by_district) == {world.district.pk, world.other_district.pk}
    home, away = by_district[world.district.pk], by_district[world.other_district.pk]
    assert home["cases"] == [busy_case.pk] and home["tasks"] == [here_task.pk]
    assert home["reassessments"] == [busy_case.pk] and len(home["meetings"]) == 1
    assert away == {
        "page": "calendar_feed",
        "districts": sorted([world.district.pk, world.other_district.pk]),
        "cases": [there.pk],
        "tasks": [there_task.pk],
        "meetings": [],
        "reassessments": [],
    }
    assert all(e.actor == member for e in events)


def test_an_empty_feed_is_audited_under_each_district_of_the_person(world: Any, team: Client, member: User) -> None:
    from btam.accounts.models import Membership

    Membership.objects.create(user=member, district=world.other_district, role=Role.TEAM_MEMBER)
    path = new_link(team)
    before = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").count()

    Client().get(path)

    events = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="meetings.calendarfeed").order_by("pk")[before:]
    assert {e.district_id for e in events} == {world.district.pk, world.other_district.pk} and len(events) == 2
    assert all(e.detail["cases"] == [] and e.detail["tasks"] == [] for e in events)


def test_done_tasks_and_closed_cases_leave_the_feed(world: Any, team: Client, busy_case: Case, member: User) -> None:
    path = new_link(team)
    task = busy_case.tasks.get()
    do_set_task_status(actor=member, task=task, status="done")
    assert not any(e["SUMMARY"].startswith("Task") for e in events_of(Client().get(path).content.decode()))

    close(busy_case, world)
    summaries = [e["SUMMARY"] for e in events_of(Client().get(path).content.decode())]
    assert not any(s.startswith(("Task", "Reassessment")) for s in summaries)


def test_a_case_no_longer_visible_gives_nothing(busy_case: Case, member: User, leader: User) -> None:
    colleague = Client()
    colleague.force_login(leader)
    path = new_link(colleague)
    assert [e["SUMMARY"] for e in events_of(Client().get(path).content.decode())] == [
        f"Case conference: case {busy_case.number}"
    ]

    # Restricted to its named members (the manager): the district's leader no longer sees it.
    do_set_restricted(actor=member, case=busy_case, restricted=True, reason="Staff involved")

    response = Client().get(path)
    assert response.status_code == 200
    assert events_of(response.content.decode()) == []


def test_an_inactive_account_gets_nothing(team: Client, busy_case: Case, member: User) -> None:
    path = new_link(team)
    User.objects.filter(pk=member.pk).update(is_active=False)
    response = Client().get(path)
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.content.decode()


def test_a_member_who_loses_the_school_loses_its_cases_in_the_feed(world: Any, busy_case: Case) -> None:
    from btam.cases.tests.notes_tasks_helpers import school_member

    nearby = school_member(world, world.school)
    actions.do_schedule_meeting(
        actor=busy_case.manager,  # type: ignore[arg-type]
        case=busy_case,
        starts_at=clock_module.now() + dt.timedelta(days=4),
        ends_at=clock_module.now() + dt.timedelta(days=4, hours=1),
        agenda="Follow-up",
        invitees=[nearby],
    )
    client = Client()
    client.force_login(nearby)
    path = new_link(client)
    assert len(events_of(Client().get(path).content.decode())) == 1

    nearby.memberships.update(is_active=False)
    text = Client().get(path).content.decode()
    assert events_of(text) == []
    assert text.startswith("BEGIN:VCALENDAR")
