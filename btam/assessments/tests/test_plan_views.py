"""The Plan tab: the rules of the level with their "Add" shortcuts, the interventions, adding,
changing, moving and ending one, adding a task to it (htmx and without JS); access and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.assessments.models import AssessmentSettings, Intervention
from btam.assessments.plan_actions import do_set_intervention_status
from btam.assessments.schedule import today
from btam.assessments.tests.plan_helpers import HTMX, intervention, set_level, url
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, Task
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, school_member
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

S = Intervention.Status


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def add_form(kind: str = "wellness-check", owner: Any = None, **extra: Any) -> dict[str, str]:
    data = {
        "add-kind": kind,
        "add-owner": str(owner.pk) if owner is not None else "",
        "add-details": "Counselor checks in on Mondays.",
        "add-starts_on": "",
        "add-ends_on": "",
    }
    data.update({f"add-{k}": str(v) for k, v in extra.items()})
    return data


def end_form(
    item: Intervention, status: str = S.COMPLETED, outcome: str = "Two meetings; no new concern."
) -> dict[str, str]:
    return {f"end-{item.pk}-status": status, f"end-{item.pk}-outcome": outcome}


# The tab -----------------------------------------------------------------------------------------------
def test_the_tab_shows_the_level_its_rules_and_what_is_missing(
    team: Client, world: Any, case: Case, member: Any
) -> None:
    AssessmentSettings.objects.create(
        district=world.district,
        intervention_rules={
            "imminent": {
                "required": ["law-enforcement-referral", "target-protection-plan"],
                "suggested": ["schedule-change"],
            }
        },
    )
    set_level(case, "imminent")
    intervention(case, member, "law-enforcement-referral", details="Met the SRO on Tuesday.")
    response = team.get(url("plan", case))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert 'data-testid="plan-level">Imminent<' in body
    assert body.count('data-testid="rule"') == 3
    row = body[body.index('data-kind="law-enforcement-referral"') :]
    assert row.index("In the plan") < row.index("</tr>")
    missing = body[body.index('data-kind="target-protection-plan"') :]
    missing = missing[: missing.index("</tr>")]
    assert "Missing" in missing and "Required" in missing
    assert f'href="{url("plan", case)}?kind=target-protection-plan#intervention-add"' in missing
    assert "Add the required interventions first: target protection plan." in body
    assert "cannot move to monitoring" in body
    assert "Met the SRO on Tuesday." in body
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="plan").count() == 1


def test_without_a_level_the_tab_says_so(team: Client, case: Case) -> None:
    body = team.get(url("plan", case)).content.decode()
    assert 'data-testid="plan-no-level"' in body and 'data-testid="rule"' not in body
    assert "Add an intervention" in body  # interventions can come before a level (immediate safety steps)


def test_the_add_shortcut_opens_the_form_with_the_kind_chosen(team: Client, case: Case) -> None:
    set_level(case, "imminent")
    body = team.get(url("plan", case) + "?kind=target-protection-plan").content.decode()
    assert '<details class="margin-y-3" id="intervention-add" open>' in body
    assert '<option value="target-protection-plan" selected>' in body
    body = team.get(url("plan", case) + "?kind=no-such-kind").content.decode()
    assert 'id="intervention-add">' in body and "selected>Target" not in body


# Adding -----------------------------------------------------------------------------------------------
def test_adding_without_js_redirects_and_tells_the_owner(team: Client, case: Case, leader: Any) -> None:
    response = team.post(url("intervention_add", case), add_form("parent-conference", leader, starts_on=in_days(1)))
    assert response.status_code == 302 and response["Location"] == url("plan", case)
    item = Intervention.objects.get()
    assert (item.kind, item.owner, item.starts_on) == ("parent-conference", leader, in_days(1))
    assert Notification.objects.filter(recipient=leader, kind=Notification.Kind.INTERVENTION_ASSIGNED).exists()


def test_adding_with_htmx_swaps_the_panel(team: Client, case: Case, member: Any) -> None:
    response = team.post(url("intervention_add", case), add_form(owner=member), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<div id="plan-panel"') and "<html" not in body
    assert "Intervention added to the plan." in body and 'data-testid="intervention"' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "teleportation"}, "Choose an intervention from the list."),
        ({"owner": None}, "Choose who is responsible for the intervention."),
        ({"starts_on": "2026-02-30"}, "Enter a real date, for example 2026-03-14."),
        ({"starts_on": "IN_5", "ends_on": "IN_1"}, "The end or review date is before the start date."),
        ({"details": "x" * 1_048_576}, "Ensure this value has at most 10000 characters (it has 1048576)."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    team: Client, case: Case, member: Any, data: dict[str, Any], message: str
) -> None:
    values = {"owner": member, **data}
    for key in ("starts_on", "ends_on"):
        if isinstance(values.get(key), str) and values[key].startswith("IN_"):
            values[key] = in_days(int(values[key][3:]))
    owner = values.pop("owner")
    kind = values.pop("kind", "wellness-check")
    response = team.post(url("intervention_add", case), add_form(kind, owner, **values))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'")
    assert '<details class="margin-y-3" id="intervention-add" open>' in body
    assert not Intervention.objects.exists()


def test_an_owner_from_another_school_is_refused(world: Any, team: Client, case: Case) -> None:
    stranger = school_member(world, world.other_school)
    response = team.post(url("intervention_add", case), add_form(owner=stranger))
    assert response.status_code == 400
    assert "The owner must be someone on the team working this case." in response.content.decode()
    assert not Intervention.objects.exists()


def test_a_refused_add_with_htmx_keeps_the_panel_and_the_message(team: Client, case: Case, member: Any) -> None:
    response = team.post(url("intervention_add", case), add_form("teleportation", member), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="plan-error"' in body and "<html" not in body
    assert 'value="teleportation"' not in body  # the unknown value is not offered back as a choice


# Moving and ending -----------------------------------------------------------------------------------------------
def test_putting_in_place_and_completing_through_the_page(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    response = team.post(url("intervention_status", case, item.pk), {"status": S.ACTIVE})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.ACTIVE
    response = team.post(url("intervention_status", case, item.pk), end_form(item), headers=HTMX)
    assert response.status_code == 200 and "Intervention marked completed." in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.COMPLETED and item.outcome == "Two meetings; no new concern."
    body = team.get(url("plan", case)).content.decode()
    assert "Two meetings; no new concern." in body and "Put back in place" in body


def test_completing_without_an_outcome_keeps_the_form_open_with_the_message(
    team: Client, case: Case, member: Any
) -> None:
    item = intervention(case, member)
    response = team.post(url("intervention_status", case, item.pk), end_form(item, outcome="  "))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Write the outcome: what was done and what came of it." in body
    assert 'data-testid="intervention-error"' in body
    part = body[body.index(f'id="intervention-{item.pk}"') :]
    assert '<details class="margin-top-1" open>' in part
    item.refresh_from_db()
    assert item.status == S.PLANNED


def test_a_bad_status_is_refused(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    response = team.post(url("intervention_status", case, item.pk), {"status": "archived"})
    assert response.status_code == 400 and "Unknown intervention status." in response.content.decode()
    response = team.post(url("intervention_status", case, item.pk), end_form(item, status="archived"))
    assert response.status_code == 400 and "Choose completed or stopped." in response.content.decode()


# Changing -----------------------------------------------------------------------------------------------
def test_the_change_page_saves_and_redirects(team: Client, case: Case, member: Any, leader: Any) -> None:
    item = intervention(case, member, details="Weekly")
    page = team.get(url("intervention_edit", case, item.pk))
    assert page.status_code == 200 and "Weekly" in page.content.decode()
    data = {
        "edit-kind": "supervision-check-in",
        "edit-owner": str(leader.pk),
        "edit-details": "Daily",
        "edit-starts_on": str(in_days(0)),
        "edit-ends_on": str(in_days(14)),
    }
    response = team.post(url("intervention_edit", case, item.pk), data)
    assert response.status_code == 302 and response["Location"] == url("plan", case)
    item.refresh_from_db()
    assert (item.kind, item.owner, item.details, item.ends_on) == ("supervision-check-in", leader, "Daily", in_days(14))


def test_the_change_page_refuses_an_end_before_the_start(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    data = {
        "edit-kind": item.kind,
        "edit-owner": str(member.pk),
        "edit-details": "",
        "edit-starts_on": str(in_days(9)),
        "edit-ends_on": str(in_days(2)),
    }
    response = team.post(url("intervention_edit", case, item.pk), data)
    assert response.status_code == 400
    assert "The end or review date is before the start date." in response.content.decode()
    item.refresh_from_db()
    assert item.starts_on is None


def test_an_ended_interventions_change_page_asks_for_its_outcome(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    do_set_intervention_status(actor=member, intervention=item, status=S.STOPPED, outcome="Student left.")
    body = team.get(url("intervention_edit", case, item.pk)).content.decode()
    assert 'name="edit-outcome"' in body and "Student left." in body
    data = {"edit-kind": item.kind, "edit-owner": str(member.pk), "edit-details": "", "edit-outcome": ""}
    response = team.post(url("intervention_edit", case, item.pk), data)
    assert response.status_code == 400 and "An ended intervention keeps its outcome." in response.content.decode()


# Tasks -----------------------------------------------------------------------------------------------
def test_adding_a_task_to_an_intervention(team: Client, case: Case, member: Any, leader: Any) -> None:
    item = intervention(case, member)
    data = {
        f"task-{item.pk}-title": "Book the room",
        f"task-{item.pk}-assignee": str(leader.pk),
        f"task-{item.pk}-due_on": "",
    }
    response = team.post(url("intervention_task_add", case, item.pk), data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Task added to the intervention." in body and "Book the room" in body
    task = Task.objects.get()
    assert list(item.tasks.all()) == [task] and task.assignee == leader


def test_a_task_without_a_title_is_refused_in_its_row(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    data = {f"task-{item.pk}-title": "", f"task-{item.pk}-assignee": "", f"task-{item.pk}-due_on": ""}
    response = team.post(url("intervention_task_add", case, item.pk), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The task was not added: check the form." in body and "This field is required." in body
    assert not Task.objects.exists()


# Access -----------------------------------------------------------------------------------------------
def test_a_read_only_school_sees_the_plan_but_cannot_change_it(
    world: Any, client: Client, case: Case, member: Any
) -> None:
    item = intervention(case, member, details="Visible to the old school")
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    client.force_login(reader)
    body = client.get(url("plan", case)).content.decode()
    assert "Visible to the old school" in body and "Add an intervention" not in body and "Put in place" not in body
    for name, extra, data in [
        ("intervention_add", (), add_form(owner=member)),
        ("intervention_status", (item.pk,), {"status": S.ACTIVE}),
        ("intervention_task_add", (item.pk,), {f"task-{item.pk}-title": "X"}),
        ("intervention_edit", (item.pk,), {"edit-kind": item.kind, "edit-owner": str(member.pk)}),
    ]:
        assert client.post(url(name, case, *extra), data).status_code == 403, name
    assert client.get(url("intervention_edit", case, item.pk)).status_code == 403
    assert Intervention.objects.get().status == S.PLANNED and Intervention.objects.count() == 1


def test_another_schools_case_is_not_found(world: Any, client: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    client.force_login(school_member(world, world.other_school))
    assert client.get(url("plan", case)).status_code == 404
    assert client.post(url("intervention_add", case), add_form(owner=member)).status_code == 404
    assert client.post(url("intervention_status", case, item.pk), {"status": S.ACTIVE}).status_code == 404
    client.force_login(world.outsider)
    assert client.get(url("plan", case)).status_code == 404
    assert Intervention.objects.get().status == S.PLANNED


def test_an_intervention_of_another_case_is_not_found(world: Any, team: Client, case: Case, member: Any) -> None:
    other = open_case(world, actor=member)
    item = intervention(other, member)
    assert team.post(url("intervention_status", case, item.pk), {"status": S.ACTIVE}).status_code == 404
    assert team.get(url("intervention_edit", case, item.pk)).status_code == 404


def test_a_closed_case_shows_the_plan_without_forms_and_refuses_changes(
    world: Any, team: Client, case: Case, member: Any
) -> None:
    item = intervention(case, member)
    close(case, world)
    body = team.get(url("plan", case)).content.decode()
    assert "Add an intervention" not in body and "Put in place" not in body
    response = team.post(url("intervention_status", case, item.pk), {"status": S.ACTIVE})
    assert response.status_code == 400 and "This case is closed. Reopen it to change it." in response.content.decode()
    response = team.post(url("intervention_add", case), add_form(owner=member))
    assert response.status_code == 400 and Intervention.objects.count() == 1


def test_wrong_methods_are_refused(team: Client, case: Case, member: Any) -> None:
    item = intervention(case, member)
    assert team.get(url("intervention_add", case)).status_code == 405
    assert team.get(url("intervention_status", case, item.pk)).status_code == 405
    assert team.get(url("intervention_task_add", case, item.pk)).status_code == 405
    assert team.post(url("plan", case)).status_code == 405
