"""The monitoring tab (schedule, concerns, check-ins, "Reassess now"), its two forms with and
without htmx, bad input, access; and the list of reassessments due (scope, order, query count)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments.models import Assessment, CheckIn, ReassessmentSchedule
from btam.assessments.monitoring_actions import do_add_check_in, do_set_reassessment_date
from btam.assessments.tests.monitoring_helpers import add_intervention, at, decided_assessment, set_level
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import SECRET, close, give_read_access, open_case, school_member
from btam.testing import make_member

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
HTMX = {"HX-Request": "true"}
DUE = reverse("assessments:due")


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any, clock: Any) -> Case:
    clock.freeze(at("2026-03-10", 9))
    return open_case(world, actor=member)


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def url(name: str, case: Case) -> str:
    return reverse(f"assessments:{name}", args=[case.pk])


def check_in_form(**changes: Any) -> dict[str, str]:
    data = {
        "checkin-occurred_on": "2026-03-10",
        "checkin-method": "in_person",
        "checkin-summary": "Met at lunch; calmer, talking about the robotics club.",
        "checkin-intervention": "",
    }
    data.update(changes)
    return data


def date_form(due: str = "2026-03-20", reason: str = "Family away until the 19th.") -> dict[str, str]:
    return {"schedule-due_on": due, "schedule-reason": reason}


def start_url(case: Case) -> str:
    return reverse("assessments:start", args=[case.pk])


# The tab ------------------------------------------------------------------------------------------
def test_the_tab_shows_the_schedule_and_the_log_and_records_the_view(team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")  # due 03-17
    do_add_check_in(actor=member, case=case, occurred_on=D("2026-03-09"), method="phone", summary=SECRET, concern=False)
    response = team.get(url("monitoring", case))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Due in 7 days" in body and 'datetime="2026-03-17"' in body
    assert "reassessed every week" in body and "From the risk level decided on" in body
    assert SECRET in body and "Phone" in body and 'data-testid="concerns-raised"' not in body
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="monitoring").count() == 1
    assert "no-store" in response["Cache-Control"]


def test_an_overdue_reassessment_and_a_concern_stand_out(team: Client, case: Case, member: Any, clock: Any) -> None:
    set_level(case, member, "imminent")  # due 03-11
    clock.freeze(at("2026-03-14"))
    do_add_check_in(
        actor=member, case=case, occurred_on=D("2026-03-13"), method="staff_report", summary="x", concern=True
    )
    body = team.get(url("monitoring", case)).content.decode()
    assert "3 days overdue" in body and 'data-overdue="true"' in body
    assert 'data-testid="concerns-raised"' in body and "A check-in raised a new concern" in body
    assert body.count('data-concern="true"') == 1 and "New concern" in body


def test_a_concern_before_the_current_level_is_not_raised_again(
    team: Client, case: Case, member: Any, clock: Any
) -> None:
    do_add_check_in(actor=member, case=case, occurred_on=D("2026-03-09"), method="phone", summary="x", concern=True)
    clock.freeze(at("2026-03-11"))
    set_level(case, member, "high")
    body = team.get(url("monitoring", case)).content.decode()
    assert 'data-testid="concerns-raised"' not in body and 'data-concern="true"' in body


def test_without_a_level_the_tab_says_so(team: Client, case: Case) -> None:
    body = team.get(url("monitoring", case)).content.decode()
    assert 'data-testid="no-schedule"' in body and "No check-in on this case yet." in body


def test_reassess_now_starts_from_the_latest_decided_assessment(team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    older = decided_assessment(case, member)
    latest = decided_assessment(case, member)
    body = team.get(url("monitoring", case)).content.decode()
    assert f'action="{start_url(case)}"' in body and 'data-testid="reassess-now"' in body
    assert f'name="previous" value="{latest.pk}"' in body and f'value="{older.pk}"' not in body
    assert 'name="instrument" value="cstag-decision-tree"' in body


def test_an_assessment_under_way_is_continued_not_started_again(team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    draft = decided_assessment(case, member)
    Assessment.objects.filter(pk=draft.pk).update(status=Assessment.Status.DRAFT)
    body = team.get(url("monitoring", case)).content.decode()
    assert 'data-testid="reassess-now"' not in body and "An assessment of this case is under way." in body


def test_a_closed_case_shows_the_record_without_forms(world: Any, team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    decided_assessment(case, member)
    close(case, world)
    body = team.get(url("monitoring", case)).content.decode()
    assert "the case is closed" in body
    assert "Add a check-in" not in body and "Change the reassessment date" not in body and "reassess-now" not in body


# Adding a check-in --------------------------------------------------------------------------------
def test_adding_a_check_in_without_js_redirects(team: Client, case: Case, member: Any) -> None:
    intervention = add_intervention(case, member)
    response = team.post(
        url("check_in_add", case),
        check_in_form(**{"checkin-intervention": str(intervention.pk), "checkin-concern": "on"}),
    )
    assert response.status_code == 302 and response["Location"] == url("monitoring", case)
    item = CheckIn.objects.get()
    assert item.intervention == intervention and item.concern and item.author == member
    body = team.get(url("monitoring", case)).content.decode()
    assert "Check-in saved." in body and "Wellness check" in body


def test_adding_with_htmx_swaps_the_panel(team: Client, case: Case) -> None:
    response = team.post(url("check_in_add", case), check_in_form(), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="monitoring-panel"' in body and "<html" not in body
    assert "Check-in saved." in body and "robotics club" in body
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"checkin-occurred_on": "2026-03-11"}, "cannot be in the future"),
        ({"checkin-occurred_on": "2026-02-30"}, "Enter a real date"),
        ({"checkin-occurred_on": ""}, "Enter the date."),
        ({"checkin-summary": ""}, "Write what was seen or said."),
        ({"checkin-summary": "x" * 1_000_000}, "at most 20000 characters (it has 1000000)"),
        ({"checkin-method": "carrier-pigeon"}, "Select a valid choice"),
        ({"checkin-intervention": "999999"}, "Choose one of this case&#x27;s interventions, or none."),
    ],
)
def test_bad_check_ins_get_a_400_with_the_message_and_nothing_is_saved(
    team: Client, case: Case, changes: dict[str, str], message: str
) -> None:
    response = team.post(url("check_in_add", case), check_in_form(**changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if "checkin-summary" not in changes:
        assert "robotics club" in body  # what was typed is kept
    assert not CheckIn.objects.exists()


def test_an_intervention_of_another_case_is_refused(world: Any, team: Client, case: Case, member: Any) -> None:
    foreign = add_intervention(open_case(world, actor=member), member)
    response = team.post(url("check_in_add", case), check_in_form(**{"checkin-intervention": str(foreign.pk)}))
    assert response.status_code == 400 and "interventions, or none." in response.content.decode()
    assert not CheckIn.objects.exists()


def test_a_bad_check_in_with_htmx_is_a_200_panel_with_the_error(team: Client, case: Case) -> None:
    response = team.post(
        url("check_in_add", case), check_in_form(**{"checkin-occurred_on": "2026-04-01"}), headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="monitoring-error"' in body and "<html" not in body
    assert "The check-in was not saved" in body or "cannot be in the future" in body
    assert not CheckIn.objects.exists()


def test_a_closed_case_refuses_a_check_in(world: Any, team: Client, case: Case) -> None:
    close(case, world)
    response = team.post(url("check_in_add", case), check_in_form())
    assert response.status_code == 400 and "This case is closed" in response.content.decode()
    assert not CheckIn.objects.exists()


# The date by hand ---------------------------------------------------------------------------------
def test_moving_the_date_shows_who_and_why(team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    response = team.post(url("reassessment_date", case), date_form())
    assert response.status_code == 302
    assert ReassessmentSchedule.objects.get(case=case).due_on == D("2026-03-20")
    body = team.get(url("monitoring", case)).content.decode()
    assert "Reassessment date changed." in body and "By hand, by" in body and "Family away until the 19th." in body
    assert "Due in 10 days" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (date_form(due="2026-03-09"), "has passed"),
        (date_form(reason=""), "Give the reason for the change."),
        (date_form(due=""), "Enter the date."),
        (date_form(due="next tuesday"), "Enter a real date"),
        (date_form(due="2031-01-01"), "more than two years away"),
        (date_form(due="2026-03-17"), "already due on 2026-03-17"),
    ],
)
def test_bad_dates_get_a_400_and_change_nothing(team: Client, case: Case, member: Any, data: Any, message: str) -> None:
    set_level(case, member, "high")
    response = team.post(url("reassessment_date", case), data)
    assert response.status_code == 400 and message in response.content.decode()
    found = ReassessmentSchedule.objects.get(case=case)
    assert (found.due_on, found.reason) == (D("2026-03-17"), "")


def test_moving_the_date_with_htmx_swaps_the_panel(team: Client, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    response = team.post(url("reassessment_date", case), date_form(), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="monitoring-panel"' in body and "Due in 10 days" in body


# Access -------------------------------------------------------------------------------------------
def test_a_read_only_school_sees_but_cannot_post(world: Any, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    client = Client()
    client.force_login(reader)
    body = client.get(url("monitoring", case)).content.decode()
    assert "Due in 7 days" in body and "Add a check-in" not in body and "Change the reassessment date" not in body
    assert client.post(url("check_in_add", case), check_in_form()).status_code == 403
    assert client.post(url("reassessment_date", case), date_form()).status_code == 403
    assert not CheckIn.objects.exists() and ReassessmentSchedule.objects.get(case=case).due_on == D("2026-03-17")


@pytest.mark.parametrize("who", ["other_school", "other_district"])
def test_another_schools_or_districts_case_is_a_404(world: Any, case: Case, who: str) -> None:
    stranger = school_member(world, world.other_school) if who == "other_school" else world.outsider
    client = Client()
    client.force_login(stranger)
    for name in ("monitoring", "check_in_add", "reassessment_date"):
        assert client.get(url(name, case)).status_code == 404
    assert client.post(url("check_in_add", case), check_in_form()).status_code == 404
    assert client.post(url("reassessment_date", case), date_form()).status_code == 404
    assert not CheckIn.objects.exists()


def test_wrong_methods_are_refused(team: Client, case: Case) -> None:
    assert team.post(url("monitoring", case)).status_code == 405
    assert team.get(url("check_in_add", case)).status_code == 405
    assert team.get(url("reassessment_date", case)).status_code == 405
    assert team.post(DUE).status_code == 405


# Reassessments due --------------------------------------------------------------------------------
def _due_world(world: Any, member: Any, clock: Any) -> dict[str, Case]:
    """Cases decided on 03-01 at different levels, seen on 03-25."""
    clock.freeze(at("2026-03-01", 9))
    made: dict[str, Case] = {}
    for name, level, school in [
        ("overdue", "high", world.school),  # due 03-08
        ("soon", "moderate", world.school),  # due 03-31
        ("later", "low", world.school),  # due 05-30
        ("closed", "imminent", world.school),
        ("other_school", "imminent", world.other_school),  # due 03-02
    ]:
        made[name] = open_case(world, actor=world.users[Role.TEAM_LEADER], school=school)
        set_level(made[name], member, level)
    Case.objects.filter(pk=made["soon"].pk).update(manager=member)
    close(made["closed"], world)
    clock.freeze(at("2026-03-25"))
    return made


def test_the_due_list_shows_overdue_first_then_due_soon_of_open_cases(world: Any, member: Any, clock: Any) -> None:
    made = _due_world(world, member, clock)
    leader = world.users[Role.TEAM_LEADER]
    client = Client()
    client.force_login(leader)
    response = client.get(DUE)
    assert response.status_code == 200
    body = response.content.decode()
    numbers = [made[n].number for n in ("other_school", "overdue", "soon")]
    assert [body.index(n) for n in numbers] == sorted(body.index(n) for n in numbers)
    assert made["later"].number not in body and made["closed"].number not in body
    assert "23 days overdue" in body and "17 days overdue" in body and "Due in 6 days" in body
    assert "High" in body and "Moderate" in body and world.other_school.name in body
    assert "3 reassessments due, 2 overdue." in body
    assert body.count('data-overdue="true"') == 2
    assert reverse("assessments:monitoring", args=[made["soon"].pk]) in body
    event = AuditEvent.objects.get(verb=Verb.VIEWED, detail__page="reassessments_due")
    assert event.detail["cases"] == [made[n].pk for n in ("other_school", "overdue", "soon")]


def test_the_due_list_shows_only_cases_the_user_can_see(world: Any, member: Any, clock: Any) -> None:
    made = _due_world(world, member, clock)
    north_only = school_member(world, world.school)
    client = Client()
    client.force_login(north_only)
    body = client.get(DUE).content.decode()
    assert made["overdue"].number in body and made["other_school"].number not in body
    client.force_login(world.outsider)
    body = client.get(DUE).content.decode()
    assert "No reassessment is due." in body and made["overdue"].number not in body


def test_mine_shows_the_cases_i_manage(world: Any, member: Any, clock: Any) -> None:
    made = _due_world(world, member, clock)
    client = Client()
    client.force_login(member)
    body = client.get(DUE, {"mine": "1"}).content.decode()
    assert made["soon"].number in body and made["overdue"].number not in body


def test_the_due_list_costs_the_same_queries_for_few_and_many_cases(world: Any, member: Any, clock: Any) -> None:
    leader = world.users[Role.TEAM_LEADER]
    clock.freeze(at("2026-03-01", 9))
    client = Client()
    client.force_login(leader)

    def add_cases(count: int) -> None:
        for i in range(count):
            manager = make_member(Role.TEAM_MEMBER, world.district) if i % 2 else None
            case = open_case(world, actor=leader, school=world.school if i % 3 else world.other_school)
            if manager is not None:
                Case.objects.filter(pk=case.pk).update(manager=manager)
            set_level(case, leader, ["high", "moderate", "imminent"][i % 3])
            if i % 4 == 0:
                do_set_reassessment_date(actor=leader, case=case, due_on=D("2026-03-03"), reason="By hand.")

    def queries() -> int:
        client.get(DUE)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DUE).status_code == 200
        return len(captured)

    add_cases(2)
    clock.freeze(at("2026-03-25"))
    few = queries()
    clock.freeze(at("2026-03-01", 9))
    add_cases(25)
    clock.freeze(at("2026-03-25"))
    assert queries() == few


def test_the_due_list_across_two_districts_records_one_read_per_district(world: Any, member: Any, clock: Any) -> None:
    """District auditors filter the trail by district: each district's cases are filed under it."""
    from btam.accounts.models import Membership

    made = _due_world(world, member, clock)
    leader = world.users[Role.TEAM_LEADER]
    Membership.objects.create(user=leader, district=world.other_district, role=Role.TEAM_LEADER)
    leader = type(leader).objects.get(pk=leader.pk)  # its access levels are read once per object
    clock.freeze(at("2026-03-20", 9))
    there = open_case(world, actor=leader, school=world.other_district.schools.get())
    set_level(there, leader, "imminent")
    clock.freeze(at("2026-03-25"))
    client = Client()
    client.force_login(leader)
    assert client.get(DUE).status_code == 200
    events = {
        e.district_id: e.detail["cases"]
        for e in AuditEvent.objects.filter(verb=Verb.VIEWED, detail__page="reassessments_due")
    }
    assert events == {
        world.district.pk: [made[n].pk for n in ("other_school", "overdue", "soon")],
        world.other_district.pk: [there.pk],
    }
