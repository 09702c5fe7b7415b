"""The case overview page and its workflow forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import actions
from btam.cases.models import Case, CaseSchool, Status
from btam.testing import make_member

pytestmark = pytest.mark.django_db


def url(name: str, case: Case) -> str:
    return reverse(f"cases:{name}", args=[case.pk])


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return actions.do_open_case(
        actor=member, school=world.school, title="Remark <b>at</b> lunch", summary="Said <script>x</script>."
    )


def test_the_overview_shows_the_case_escaped_and_audits_the_view(team: Client, case: Case, member: Any) -> None:
    response = team.get(url("detail", case))
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "Remark &lt;b&gt;at&lt;/b&gt; lunch" in body and "&lt;script&gt;" in body and "<script>x" not in body
    assert case.number in body
    assert AuditEvent.objects.filter(
        verb=Verb.VIEWED, actor=member, target_type="cases.case", target_id=str(case.pk)
    ).exists()


def test_other_schools_and_districts_get_404_whatever_the_method(world: Any, case: Case) -> None:
    south = make_member(Role.TEAM_MEMBER, world.district, schools=[world.other_school])
    for user in (south, world.outsider, world.users[Role.DATABASE_MANAGER]):
        client = Client()
        client.force_login(user)
        for name in ("detail", "edit", "screening", "move", "request_closure", "reopen"):
            assert client.get(url(name, case)).status_code == 404, (user, name)
            assert client.post(url(name, case), {}).status_code == 404, (user, name)


def test_policy_refuses_roles_that_never_see_cases(world: Any, case: Case) -> None:
    for role in (Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN, Role.REFERRING_STAFF):
        client = Client()
        client.force_login(world.users[role])
        assert client.get(url("detail", case)).status_code == 403


def test_a_read_only_school_sees_but_cannot_change(world: Any, case: Case) -> None:
    south = make_member(Role.TEAM_MEMBER, world.district, schools=[world.other_school])
    CaseSchool.objects.create(
        case=case,
        school=world.other_school,
        access=CaseSchool.Access.READ,
        added_at=case.opened_at,
        added_by=case.opened_by,
    )
    client = Client()
    client.force_login(south)
    page = client.get(url("detail", case))
    assert page.status_code == 200 and "Read only" in page.content.decode()
    assert "Record the screening decision" not in page.content.decode()
    response = client.post(url("screening", case), {"screening-decision": "evaluate", "screening-rationale": "r"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.screening_decision == ""


def test_moving_through_the_page(team: Client, case: Case, world: Any) -> None:
    response = team.post(url("move", case), {"move-to_status": "evaluation"})
    assert response.status_code == 400
    assert "Record a screening decision" in response.content.decode()
    response = team.post(
        url("screening", case), {"screening-decision": "evaluate", "screening-rationale": "Needs interviews."}
    )
    assert response.status_code == 302
    assert team.post(url("move", case), {"move-to_status": "evaluation"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.EVALUATION


def test_bad_input_keeps_what_was_typed(team: Client, case: Case) -> None:
    response = team.post(
        url("screening", case), {"screening-decision": "catastrophic", "screening-rationale": "Typed text kept"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Typed text kept" in body and "Select a valid choice" in body
    response = team.post(url("move", case), {"move-to_status": "'; DROP TABLE cases_case; --"})
    assert response.status_code == 400
    assert Case.objects.filter(pk=case.pk).exists()
    response = team.post(url("edit", case), {"edit-title": "", "edit-summary": "kept summary"})
    assert response.status_code == 400 and "kept summary" in response.content.decode()


def test_a_get_on_an_action_is_405(team: Client, case: Case) -> None:
    assert team.get(url("move", case)).status_code == 405


def test_editing_on_its_own_page(world: Any, team: Client, case: Case) -> None:
    page = team.get(url("edit", case))
    assert page.status_code == 200 and 'name="edit-manager"' in page.content.decode()
    rapid = world.users[Role.RAPID_RESPONSE]
    response = team.post(url("edit", case), {"edit-title": "New title", "edit-summary": "S", "edit-manager": rapid.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "New title" and case.manager == rapid
    response = team.post(url("edit", case), {"edit-title": "T", "edit-manager": world.outsider.pk})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_closing_and_reopening_through_the_page(world: Any, team: Client, case: Case) -> None:
    response = team.post(url("request_closure", case), {"closure-reason": "no_threat", "closure-note": "Unfounded."})
    assert response.status_code == 302
    leader = Client()
    leader.force_login(world.users[Role.TEAM_LEADER])
    page = leader.get(url("detail", case)).content.decode()
    assert "Approve and close" in page
    assert team.post(url("approve_closure", case)).status_code == 400  # a member does not approve
    assert leader.post(url("approve_closure", case)).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    page = team.get(url("detail", case)).content.decode()
    assert "This case is closed" in page and "Reopen the case" in page
    response = team.post(url("edit", case), {"edit-title": "Changed", "edit-summary": ""})
    assert response.status_code == 400 and "This case is closed. Reopen it to change it." in response.content.decode()
    assert team.post(url("reopen", case), {"reopen-reason": ""}).status_code == 400
    assert team.post(url("reopen", case), {"reopen-reason": "New report."}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SCREENING


def test_opening_a_blank_case(world: Any, team: Client) -> None:
    page = team.get(reverse("cases:new"))
    assert page.status_code == 200
    response = team.post(reverse("cases:new"), {"school": world.school.pk, "title": "", "summary": "kept"})
    assert response.status_code == 400 and "kept" in response.content.decode()
    response = team.post(reverse("cases:new"), {"school": world.other_district.schools.first().pk, "title": "T"})
    assert response.status_code == 400
    response = team.post(
        reverse("cases:new"), {"school": world.school.pk, "title": "Staff concern", "restricted": "on"}
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", case)
    assert case.restricted and case.title == "Staff concern"


def test_opening_a_case_from_the_triage_page(world: Any, team: Client) -> None:
    from btam.intake.actions import NewReport, do_submit_report

    report = do_submit_report(new=NewReport(school=world.school, narrative="Threat in a chat."), actor=None).report
    response = team.post(reverse("intake:open_case", args=[report.pk]), {"open_case-reason": ""})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", case)
    page = team.get(url("detail", case)).content.decode()
    assert report.reference in page and "Threat in a chat." in page
