"""The leader's monitoring board: its five panels, who sees what (school, restriction, role), the
school filter and its bad input, the poll partial, the audit of each read, and that no student name
or narrative reaches it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.board import panels
from btam.board.tests.board_helpers import (
    CASE_TITLE,
    REPORT_TEXT,
    TASK_TITLE,
    client_for,
    due_for_reassessment,
    leader_of,
    open_case,
    overdue_task,
    pending_decision,
    report,
)
from btam.cases.models import CaseMember, Status, Task
from btam.intake.models import Report, YesNoUnknown
from btam.lib import clock as clock_module
from btam.testing import make_member

pytestmark = pytest.mark.django_db

BOARD = reverse("board:index")
PANELS = reverse("board:panels")
HTMX = {"HX-Request": "true"}


def panel(response: Any, name: str) -> str:
    """The HTML of one panel (``reports``, ``tasks``, ``due``, ``levels``, ``decisions``)."""
    html = response.content.decode()
    found = re.search(rf'<section[^>]*data-testid="panel-{name}".*?</section>', html, re.S)
    assert found, f"no {name} panel on the board"
    return found.group(0)


def count_of(response: Any, name: str) -> int:
    found = re.search(r'data-testid="count">(\d+)<', panel(response, name))
    assert found
    return int(found.group(1))


def tally(response: Any, kind: str, key: str) -> int:
    found = re.search(
        rf'data-testid="board-{kind}" data-{kind}="{re.escape(key)}">.*?data-testid="tally">(\d+)<',
        panel(response, "levels"),
        re.S,
    )
    assert found, f"no {kind} {key} on the board"
    return int(found.group(1))


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def board(leader: Any) -> Client:
    return client_for(leader)


# The panels ---------------------------------------------------------------------------------------


def test_each_panel_lists_its_items_with_a_count_and_a_link(world: Any, leader: Any, board: Client) -> None:
    received = report(world.school, weapon=YesNoUnknown.YES)
    case = open_case(world, manager=leader)
    task = overdue_task(case, days=3, assignee=leader)
    due_for_reassessment(case, in_days=-1, level="high")
    waiting = pending_decision(open_case(world), leader)

    response = board.get(BOARD)

    assert response.status_code == 200
    reports = panel(response, "reports")
    assert count_of(response, "reports") == 1
    assert f'href="{reverse("intake:report", args=[received.pk])}"' in reports
    assert received.reference in reports and "North Test High" in reports and "Urgent" in reports
    tasks = panel(response, "tasks")
    assert count_of(response, "tasks") == 1
    assert f"{reverse('cases:tasks', args=[case.pk])}#task-{task.pk}" in tasks
    assert case.number in tasks and "3 days overdue" in tasks and leader.full_name in tasks
    due = panel(response, "due")
    assert count_of(response, "due") == 1
    assert reverse("assessments:monitoring", args=[case.pk]) in due
    assert "1 day overdue" in due and "High" in due and 'data-overdue="true"' in due
    assert count_of(response, "levels") == 2
    assert tally(response, "level", "high") == 1
    assert tally(response, "level", "none") == 1
    assert tally(response, "stage", Status.SCREENING) == 2
    decisions = panel(response, "decisions")
    assert count_of(response, "decisions") == 1
    assert reverse("assessments:detail", args=[waiting.case_id, waiting.pk]) in decisions
    assert "Imminent" in decisions


def test_reports_come_most_urgent_first_then_oldest_with_their_age(world: Any, board: Client, clock: Any) -> None:
    routine_old = report(world.school)
    clock.advance(minutes=30)
    urgent = report(world.school, weapon=YesNoUnknown.YES)
    clock.advance(minutes=5)
    routine_new = report(world.school)
    clock.advance(minutes=7)

    rows = re.findall(r'data-testid="board-report".*?</tr>', panel(board.get(BOARD), "reports"), re.S)

    assert [re.search(r"R-\d+", row).group(0) for row in rows] == [  # type: ignore[union-attr]
        urgent.reference,
        routine_old.reference,
        routine_new.reference,
    ]
    assert "12 min" in rows[0] and "42 min" in rows[1] and "7 min" in rows[2]
    assert 'data-urgent="true"' in rows[0] and 'data-urgent="true"' not in rows[1]


def test_acknowledged_screened_and_abuse_reports_are_not_waiting(world: Any, board: Client) -> None:
    waiting = report(world.school)
    for status in (Report.Status.ACKNOWLEDGED, Report.Status.SCREENED_OUT):
        done = report(world.school)
        Report.objects.filter(pk=done.pk).update(status=status, acknowledged_at=clock_module.now())
    abuse = report(world.school)
    Report.objects.filter(pk=abuse.pk).update(is_abuse=True)

    reports = panel(board.get(BOARD), "reports")

    assert re.findall(r"R-\d+", reports) == [waiting.reference]


def test_closed_cases_done_tasks_and_tasks_not_yet_due_are_left_out(world: Any, board: Client) -> None:
    case = open_case(world)
    overdue_task(case, days=2, status=Task.Status.DONE)
    overdue_task(case, days=0)  # due today: not overdue
    closed = open_case(world, status=Status.CLOSED)
    overdue_task(closed, days=5)
    due_for_reassessment(closed, in_days=-3)
    far = due_for_reassessment(open_case(world), in_days=panels.schedule.DUE_SOON_DAYS + 1)

    response = board.get(BOARD)

    assert count_of(response, "tasks") == 0
    assert "No task is overdue." in panel(response, "tasks")
    assert count_of(response, "due") == 0
    assert count_of(response, "levels") == 2  # the open case and the one due later; not the closed one
    assert far.number not in panel(response, "due")


def test_reassessments_due_within_a_week_are_listed_after_the_overdue_ones(world: Any, board: Client) -> None:
    soon = due_for_reassessment(open_case(world), in_days=3)
    late = due_for_reassessment(open_case(world), in_days=-10)

    due = panel(board.get(BOARD), "due")

    assert due.index(late.number) < due.index(soon.number)
    assert "Due in 3 days" in due and "10 days overdue" in due
    assert "1 overdue, 1 due within a week." in due


def test_open_cases_are_counted_by_level_of_the_current_scheme_and_by_stage_with_list_links(
    world: Any, board: Client
) -> None:
    due_for_reassessment(open_case(world), in_days=30, level="imminent")
    due_for_reassessment(open_case(world, status=Status.EVALUATION), in_days=30, level="low")
    due_for_reassessment(open_case(world, status=Status.EVALUATION), in_days=30, level="low")

    response = board.get(BOARD)
    levels = panel(response, "levels")

    assert [tally(response, "level", key) for key in ("imminent", "high", "moderate", "low", "none")] == [1, 0, 0, 2, 0]
    assert levels.index('data-level="imminent"') < levels.index('data-level="low"')  # highest first
    assert tally(response, "stage", Status.EVALUATION) == 2
    assert tally(response, "stage", Status.MANAGEMENT) == 0
    assert 'href="/cases/?risk=low"' in levels
    assert 'href="/cases/?stage=evaluation"' in levels
    # The links are filters the case list accepts.
    assert board.get("/cases/?risk=low").status_code == 200
    assert board.get("/cases/?stage=evaluation").status_code == 200


def test_a_case_decided_with_an_earlier_scheme_is_counted_under_its_own_name(world: Any, board: Client) -> None:
    due_for_reassessment(open_case(world), in_days=30, level="level-2", scheme="salem-keizer")

    response = board.get(BOARD)

    assert tally(response, "level", "salem-keizer:level-2") == 1
    assert "(earlier scheme)" in panel(response, "levels")


def test_a_panel_shows_its_first_items_and_links_to_the_rest(world: Any, board: Client) -> None:
    for _ in range(panels.PANEL_SIZE + 2):
        report(world.school)

    reports = panel(board.get(BOARD), "reports")

    assert len(re.findall(r'data-testid="board-report"', reports)) == panels.PANEL_SIZE
    assert "2 more in the reports queue" in reports
    assert f'href="{reverse("intake:queue")}"' in reports


def test_the_board_carries_no_student_name_title_or_narrative(world: Any, leader: Any, board: Client) -> None:
    report(world.school)
    case = open_case(world, manager=leader)
    overdue_task(case)
    due_for_reassessment(case, in_days=-1)
    pending_decision(case, leader)

    for url in (BOARD, PANELS):
        html = board.get(url).content.decode()
        for text in (CASE_TITLE, REPORT_TEXT, TASK_TITLE, "Quillfeather", "Zephyrine", "Marigold"):
            assert text not in html
    assert "no student names and no narratives" in board.get(BOARD).content.decode()


# Who sees what ------------------------------------------------------------------------------------


def test_a_leader_of_one_school_sees_nothing_of_another_school(world: Any) -> None:
    leader_a = leader_of(world, world.school)
    theirs = open_case(world, world.other_school)
    overdue_task(theirs)
    due_for_reassessment(theirs, in_days=-2)
    pending_decision(theirs, world.users[Role.TEAM_LEADER])
    other_report = report(world.other_school)
    mine = open_case(world, world.school)
    overdue_task(mine)

    response = client_for(leader_a).get(BOARD)

    html = response.content.decode()
    assert theirs.number not in html and other_report.reference not in html
    assert "South Test Middle" not in html.split('data-testid="board-panels"')[1]
    assert count_of(response, "reports") == 0
    assert count_of(response, "tasks") == 1
    assert count_of(response, "due") == 0
    assert count_of(response, "levels") == 1
    assert count_of(response, "decisions") == 0
    # The filter offers only the school the leader leads.
    assert f'<option value="{world.other_school.pk}"' not in html


def test_another_district_sees_nothing_of_this_one(world: Any) -> None:
    case = open_case(world)
    overdue_task(case)
    report(world.school)

    response = client_for(world.outsider).get(BOARD)

    assert response.status_code == 200
    assert case.number not in response.content.decode()
    assert count_of(response, "reports") == count_of(response, "tasks") == count_of(response, "levels") == 0


def test_a_restricted_case_is_shown_only_to_a_leader_with_access(world: Any) -> None:
    member = world.users[Role.TEAM_MEMBER]
    restricted = open_case(world, actor=member, manager=member, restricted=True)
    overdue_task(restricted)
    due_for_reassessment(restricted, in_days=-1)
    leader_a = leader_of(world, world.school)

    without = client_for(leader_a).get(BOARD)

    assert restricted.number not in without.content.decode()
    assert count_of(without, "tasks") == count_of(without, "due") == count_of(without, "levels") == 0

    CaseMember.objects.create(case=restricted, user=leader_a, added_at=clock_module.now(), added_by=member)
    named = client_for(leader_a).get(BOARD)

    assert restricted.number in panel(named, "tasks") and restricted.number in panel(named, "due")
    assert count_of(named, "levels") == 1


def test_a_database_manager_without_a_team_role_sees_empty_panels_and_why(world: Any) -> None:
    case = open_case(world)
    overdue_task(case)
    report(world.school)

    response = client_for(world.users[Role.DATABASE_MANAGER]).get(BOARD)

    assert response.status_code == 200
    assert 'data-testid="board-no-team-role"' in response.content.decode()
    assert count_of(response, "reports") == count_of(response, "tasks") == count_of(response, "levels") == 0
    assert 'data-testid="panel-decisions"' not in response.content.decode()  # approving is a leader's


@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.RAPID_RESPONSE, Role.AUDITOR, Role.DISTRICT_VIEWER])
def test_other_roles_are_refused(world: Any, role: str) -> None:
    client = client_for(world.users[role])
    assert client.get(BOARD).status_code == 403
    assert client.get(PANELS).status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(BOARD)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_board_is_read_only(board: Client) -> None:
    assert board.post(BOARD).status_code == 405
    assert board.post(PANELS).status_code == 405


def test_the_navigation_and_the_workspace_link_to_the_board_for_leaders_only(world: Any, board: Client) -> None:
    assert f'href="{BOARD}"' in board.get("/").content.decode()
    member = client_for(world.users[Role.TEAM_MEMBER])
    assert f'href="{BOARD}"' not in member.get("/").content.decode()


# The school filter --------------------------------------------------------------------------------


def test_choosing_a_school_narrows_every_panel(world: Any, board: Client) -> None:
    north = open_case(world, world.school)
    south = open_case(world, world.other_school)
    overdue_task(north)
    overdue_task(south)

    response = board.get(BOARD, {"school": world.other_school.pk})

    assert response.status_code == 200
    assert south.number in panel(response, "tasks") and north.number not in panel(response, "tasks")
    assert count_of(response, "levels") == 1
    assert f"school={world.other_school.pk}" in panel(response, "levels")  # the list links keep the school
    assert f'hx-get="{PANELS}?school={world.other_school.pk}"' in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "-1", "999999", "1.5"])
def test_a_school_that_is_not_on_the_board_is_refused_with_a_message(world: Any, board: Client, value: str) -> None:
    events = AuditEvent.objects.count()

    response = board.get(BOARD, {"school": value})

    assert response.status_code == 400
    assert "That school is not one of the schools on your board." in response.content.decode()
    assert 'data-testid="board-panels"' not in response.content.decode()
    assert 'aria-describedby="board-school-error"' in response.content.decode()
    assert AuditEvent.objects.count() == events  # nothing was read


def test_a_school_of_another_district_is_refused(world: Any, board: Client) -> None:
    elsewhere = world.other_district.schools.get()
    response = board.get(BOARD, {"school": elsewhere.pk})
    assert response.status_code == 400


def test_a_leader_of_one_school_cannot_choose_another(world: Any) -> None:
    response = client_for(leader_of(world, world.school)).get(BOARD, {"school": world.other_school.pk})
    assert response.status_code == 400


def test_a_bad_refresh_value_is_refused(board: Client) -> None:
    response = board.get(BOARD, {"refresh": "sometimes"})
    assert response.status_code == 400
    assert "Automatic refreshing is either on or off." in response.content.decode()


def test_the_poll_refuses_a_bad_school_too(board: Client) -> None:
    response = board.get(PANELS, {"school": "abc"}, headers=HTMX)
    assert response.status_code == 400
    assert "That school is not one of the schools on your board." in response.content.decode()


# Refreshing ---------------------------------------------------------------------------------------


def test_the_panels_poll_every_minute_and_say_when_they_were_updated(board: Client, clock: Any) -> None:
    clock.freeze(dt.datetime(2026, 3, 2, 15, 42, tzinfo=dt.UTC))
    html = board.get(BOARD).content.decode()

    assert f'hx-get="{PANELS}"' in html and 'hx-trigger="every 60s"' in html and 'hx-select="#board-panels"' in html
    assert "Updated at 10:42" in html  # the site's time zone (America/New_York)
    assert f'href="{BOARD}" data-testid="board-refresh"' in html  # works without JavaScript
    assert "<script>" not in html.split('data-testid="board-panels"')[1]  # nothing inline (CSP)


def test_the_poll_answers_the_panels_alone_with_new_items(world: Any, board: Client, clock: Any) -> None:
    board.get(BOARD)
    clock.advance(minutes=1)
    late = report(world.school)

    response = board.get(PANELS, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="board-panels"')
    assert "<html" not in html and "Monitoring board</h1>" not in html
    assert late.reference in html
    assert 'hx-trigger="every 60s"' in html  # the next poll keeps polling


def test_refreshing_can_be_stopped_and_started_again(board: Client) -> None:
    stopped = board.get(BOARD, {"refresh": "off"}).content.decode()

    assert "hx-trigger" not in stopped
    assert "Automatic refreshing is stopped." in stopped
    assert f'href="{BOARD}">Refresh every minute' in stopped
    assert f'href="{BOARD}?refresh=off" data-testid="board-refresh"' in stopped
    assert 'name="refresh" value="off"' in stopped  # choosing a school keeps it stopped


# Audit --------------------------------------------------------------------------------------------


def test_opening_the_board_records_one_read_with_what_it_showed(world: Any, leader: Any, board: Client) -> None:
    received = report(world.school)
    case = open_case(world, manager=leader)
    task = overdue_task(case)
    overdue_task(case)
    due_for_reassessment(case, in_days=-1)
    before = AuditEvent.objects.count()

    board.get(BOARD)

    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert len(events) == 1
    event = events[0]
    assert event.verb == Verb.VIEWED and event.target_type == "board" and event.actor == leader
    assert event.district_id == world.district.pk
    assert event.detail["refresh"] is False
    assert event.detail["reports"] == [received.pk]
    assert task.pk in event.detail["tasks"] and len(event.detail["tasks"]) == 2
    assert event.detail["cases"] == [case.pk]
    assert event.detail["counts"]["overdue_tasks"] == 2


def test_a_board_over_two_districts_records_one_read_per_district_with_its_own_ids(world: Any, leader: Any) -> None:
    """District auditors filter by district: a read spanning two is filed under each, each event
    holding only that district's ids, and naming both districts."""
    from btam.accounts.models import Membership
    from btam.orgs.models import School

    Membership.objects.create(user=leader, district=world.other_district, role=Role.TEAM_LEADER)
    elsewhere = School.objects.get(district=world.other_district)
    here_report, there_report = report(world.school), report(elsewhere)
    here = open_case(world, manager=leader)
    there = open_case(world, elsewhere, actor=leader)
    here_task, there_task = overdue_task(here), overdue_task(there)
    due_for_reassessment(there, in_days=-2)
    before = AuditEvent.objects.filter(target_type="board").count()

    response = client_for(leader).get(BOARD)

    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(target_type="board").order_by("pk")[before:])
    by_district = {e.district_id: e for e in events}
    assert len(events) == 2 and set(by_district) == {world.district.pk, world.other_district.pk}
    home, away = by_district[world.district.pk], by_district[world.other_district.pk]
    assert (home.detail["reports"], home.detail["tasks"], home.detail["cases"]) == (
        [here_report.pk],
        [here_task.pk],
        [here.pk],
    )
    assert (away.detail["reports"], away.detail["tasks"], away.detail["cases"]) == (
        [there_report.pk],
        [there_task.pk],
        [there.pk],
    )
    for event in events:
        assert event.verb == Verb.VIEWED and event.actor == leader and event.detail["refresh"] is False
        assert event.detail["districts"] == sorted([world.district.pk, world.other_district.pk])
        assert event.detail["counts"]["overdue_tasks"] == 2  # the board as shown, whole
        assert event.request_id == events[0].request_id  # one read


def test_choosing_one_school_records_the_read_under_its_district_only(world: Any, leader: Any) -> None:
    from btam.accounts.models import Membership
    from btam.orgs.models import School

    Membership.objects.create(user=leader, district=world.other_district, role=Role.TEAM_LEADER)
    elsewhere = School.objects.get(district=world.other_district)
    before = AuditEvent.objects.filter(target_type="board").count()

    client_for(leader).get(BOARD, {"school": elsewhere.pk})

    [event] = AuditEvent.objects.filter(target_type="board").order_by("pk")[before:]
    assert event.district_id == world.other_district.pk
    assert event.detail["districts"] == [world.other_district.pk]


def test_each_poll_records_one_read_marked_as_a_refresh(board: Client) -> None:
    before = AuditEvent.objects.filter(target_type="board").count()

    board.get(PANELS, headers=HTMX)
    board.get(PANELS, headers=HTMX)

    events = AuditEvent.objects.filter(target_type="board").order_by("pk")[before:]
    assert [e.detail["refresh"] for e in events] == [True, True]


# Wording ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(0, "just now"), (1, "1 min"), (59, "59 min"), (60, "1 h"), (47 * 60 + 59, "47 h"), (48 * 60, "2 days")],
)
def test_the_age_of_a_report_in_words(minutes: int, words: str) -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert panels.age_in_words(now - dt.timedelta(minutes=minutes), now) == words


def test_a_leader_with_a_team_role_elsewhere_sees_only_the_schools_led(world: Any) -> None:
    # Leads North, works South as a team member: the board is North's.
    leader_a = leader_of(world, world.school)
    from btam.accounts.models import Membership

    Membership.objects.create(user=leader_a, district=world.district, role=Role.TEAM_MEMBER).schools.set(
        [world.other_school]
    )
    south = open_case(world, world.other_school)
    overdue_task(south)

    response = client_for(leader_a).get(BOARD)

    assert south.number not in response.content.decode()
    assert count_of(response, "tasks") == 0


def test_a_member_made_leader_later_gets_the_board(world: Any) -> None:
    member = make_member(Role.TEAM_MEMBER, world.district, [world.school])
    assert client_for(member).get(BOARD).status_code == 403
    from btam.accounts.models import Membership

    Membership.objects.create(user=member, district=world.district, role=Role.TEAM_LEADER)
    assert client_for(member).get(BOARD).status_code == 200
