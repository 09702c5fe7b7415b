"""The plan stays complete while a case is monitored: the last intervention of a kind the level
requires can be neither stopped nor given another kind (through the actions and the pages), and a
monitored case whose level now requires kinds the plan lacks (a decision raised it) shows a warning
naming them, with their "Add" links, on the Plan and Monitoring tabs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from btam.accounts.models import Role
from btam.assessments import plan
from btam.assessments.models import AssessmentSettings, Intervention
from btam.assessments.plan_actions import do_set_intervention_status, do_update_intervention
from btam.assessments.tests import monitoring_helpers
from btam.assessments.tests.plan_helpers import HTMX, intervention, set_level, to_management, url
from btam.audit.models import AuditEvent
from btam.cases import actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, Status
from btam.cases.tests.notes_tasks_helpers import give_read_access, open_case, school_member

pytestmark = pytest.mark.django_db

S = Intervention.Status
REFUSED = (
    "is required at this level while the case is monitored: add another one first, or move the case back to management."
)
# Virginia, moderate: the safety plan and the parent conference are required.
MODERATE_REQUIRED = ("safety-plan", "parent-conference")


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


@pytest.fixture
def monitored(world: Any, member: Any) -> tuple[Case, dict[str, Intervention]]:
    """A moderate case in monitoring, its plan holding exactly the two required interventions."""
    case = to_management(open_case(world, actor=member), member, "moderate")
    items = {kind: intervention(case, member, kind) for kind in MODERATE_REQUIRED}
    case = actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)
    return case, items


def intervention_events() -> int:
    return AuditEvent.objects.filter(target_type="assessments.intervention").count()


def status_of(item: Intervention) -> str:
    item.refresh_from_db()
    return item.status


def stop(item: Intervention, actor: Any) -> Intervention:
    return do_set_intervention_status(actor=actor, intervention=item, status=S.STOPPED, outcome="Family declined.")


def change_kind(item: Intervention, actor: Any, kind: str) -> Intervention:
    return do_update_intervention(
        actor=actor, intervention=item, kind=kind, owner=item.owner, details="", starts_on=None, ends_on=None
    )


def warning_of(body: str) -> str:
    start = body.index('data-testid="required-missing"')
    return body[start : body.index("</div></div>", start)]


# The actions -----------------------------------------------------------------------------------------------
def test_stopping_the_last_required_intervention_of_a_monitored_case_is_refused(monitored: Any, member: Any) -> None:
    case, items = monitored
    events, touched = intervention_events(), case.updated_at
    with pytest.raises(CaseError) as refused:
        stop(items["safety-plan"], member)
    assert str(refused.value) == f"“Safety plan” {REFUSED}"
    assert status_of(items["safety-plan"]) == S.PLANNED and intervention_events() == events
    case.refresh_from_db()
    assert case.updated_at == touched and plan.required_missing(case) == []


def test_an_active_one_is_refused_too_and_completing_it_is_allowed(monitored: Any, member: Any) -> None:
    _case, items = monitored
    item = do_set_intervention_status(actor=member, intervention=items["parent-conference"], status=S.ACTIVE)
    with pytest.raises(CaseError, match="Parent conference"):
        stop(item, member)
    assert status_of(item) == S.ACTIVE
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome="Met both parents.")
    assert status_of(item) == S.COMPLETED  # a completed intervention still provides its kind


def test_stopping_is_allowed_while_another_of_the_kind_is_in_the_plan(monitored: Any, member: Any) -> None:
    case, items = monitored
    second = intervention(case, member, "safety-plan")
    stop(items["safety-plan"], member)
    assert status_of(items["safety-plan"]) == S.STOPPED
    with pytest.raises(CaseError, match="Safety plan"):
        stop(second, member)  # now the last one
    assert status_of(second) == S.PLANNED


def test_another_completed_one_of_the_kind_counts(monitored: Any, member: Any) -> None:
    case, items = monitored
    done = intervention(case, member, "safety-plan")
    do_set_intervention_status(actor=member, intervention=done, status=S.COMPLETED, outcome="Reviewed, kept.")
    stop(items["safety-plan"], member)
    assert status_of(items["safety-plan"]) == S.STOPPED and plan.required_missing(case) == []


def test_a_kind_the_level_does_not_require_can_be_stopped(monitored: Any, member: Any) -> None:
    case, _items = monitored
    suggested = intervention(case, member, "supervision-check-in")
    stop(suggested, member)
    assert status_of(suggested) == S.STOPPED


def test_changing_the_kind_of_the_last_required_intervention_is_refused(monitored: Any, member: Any) -> None:
    case, items = monitored
    item = items["safety-plan"]
    with pytest.raises(CaseError) as refused:
        change_kind(item, member, "wellness-check")
    assert str(refused.value) == f"“Safety plan” {REFUSED}"
    item.refresh_from_db()
    assert item.kind == "safety-plan"
    # Its other fields still change; with a second one of the kind its kind may change too.
    do_update_intervention(
        actor=member,
        intervention=item,
        kind="safety-plan",
        owner=member,
        details="Reviewed",
        starts_on=None,
        ends_on=None,
    )
    intervention(case, member, "safety-plan")
    change_kind(item, member, "wellness-check")
    item.refresh_from_db()
    assert (item.kind, item.details) == ("wellness-check", "")


def test_before_monitoring_a_required_intervention_can_be_stopped(world: Any, member: Any) -> None:
    """In management the plan is being built: the guard checks it when the case enters monitoring."""
    case = to_management(open_case(world, actor=member), member, "moderate")
    item = intervention(case, member, "safety-plan")
    stop(item, member)
    assert status_of(item) == S.STOPPED


def test_back_in_management_the_intervention_can_be_stopped(monitored: Any, member: Any) -> None:
    case, items = monitored
    actions.do_transition(actor=member, case=case, to_status=Status.MANAGEMENT)
    stop(items["safety-plan"], member)
    assert status_of(items["safety-plan"]) == S.STOPPED
    with pytest.raises(CaseError, match="Add the required interventions first: safety plan."):
        actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)


def test_the_districts_own_rules_decide_what_is_required(world: Any, monitored: Any, member: Any) -> None:
    case, items = monitored
    AssessmentSettings.objects.create(
        district=world.district, intervention_rules={"moderate": {"required": ["parent-conference"], "suggested": []}}
    )
    stop(items["safety-plan"], member)  # no longer required by this district
    assert status_of(items["safety-plan"]) == S.STOPPED
    with pytest.raises(CaseError, match="Parent conference"):
        stop(items["parent-conference"], member)


# The pages: refusals -----------------------------------------------------------------------------------------------
def test_stopping_through_the_page_is_refused_with_the_message(team: Client, monitored: Any) -> None:
    case, items = monitored
    item = items["safety-plan"]
    data = {f"end-{item.pk}-status": S.STOPPED, f"end-{item.pk}-outcome": "Family declined."}
    response = team.post(url("intervention_status", case, item.pk), data)
    assert response.status_code == 400 and f"“Safety plan” {REFUSED}" in response.content.decode()
    response = team.post(url("intervention_status", case, item.pk), data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and REFUSED in body
    assert status_of(item) == S.PLANNED


def test_changing_the_kind_through_the_page_is_refused_with_the_message(
    team: Client, monitored: Any, member: Any
) -> None:
    case, items = monitored
    item = items["parent-conference"]
    data = {"edit-kind": "wellness-check", "edit-owner": str(member.pk), "edit-details": "", "edit-starts_on": ""}
    response = team.post(url("intervention_edit", case, item.pk), {**data, "edit-ends_on": ""})
    assert response.status_code == 400 and f"“Parent conference” {REFUSED}" in response.content.decode()
    item.refresh_from_db()
    assert item.kind == "parent-conference"


# The pages: the warning -----------------------------------------------------------------------------------------------
def test_a_raised_level_in_monitoring_shows_the_missing_kinds_on_the_plan_tab(team: Client, monitored: Any) -> None:
    case, _items = monitored
    set_level(case, "high")  # also requires supervision / check-in and a mental-health evaluation
    body = team.get(url("plan", case)).content.decode()
    warning = warning_of(body)
    assert "The plan lacks interventions this level requires" in warning
    assert warning.count('data-testid="required-missing-kind"') == 2
    for kind in ("supervision-check-in", "mental-health-evaluation"):
        assert f'href="{url("plan", case)}?kind={kind}#intervention-add"' in warning
    assert "Supervision / check-in" in warning and "Mental-health evaluation" in warning
    assert "Safety plan" not in warning and "move the case back to management" in warning
    # The stage was reached: the page does not say the case cannot move to monitoring.
    assert "cannot move to monitoring" not in body


def test_adding_the_missing_kinds_clears_the_warning(team: Client, monitored: Any, member: Any) -> None:
    case, _items = monitored
    set_level(case, "high")
    data = {"add-kind": "supervision-check-in", "add-owner": str(member.pk), "add-details": ""}
    body = team.post(url("intervention_add", case), {**data, "add-starts_on": "", "add-ends_on": ""}, headers=HTMX)
    warning = warning_of(body.content.decode())
    assert 'data-kind="supervision-check-in"' not in warning and 'data-kind="mental-health-evaluation"' in warning
    intervention(case, member, "mental-health-evaluation")
    assert 'data-testid="required-missing"' not in team.get(url("plan", case)).content.decode()
    assert 'data-testid="required-missing"' not in team.get(url("monitoring", case)).content.decode()


def test_the_monitoring_tab_shows_the_warning_after_a_decision(team: Client, monitored: Any, member: Any) -> None:
    case, _items = monitored
    assert 'data-testid="required-missing"' not in team.get(url("monitoring", case)).content.decode()
    monitoring_helpers.set_level(case, member, "high")  # the decision's own apply_level
    case.refresh_from_db()
    assert case.status == Status.MONITORING and plan.required_missing(case) == [
        "supervision-check-in",
        "mental-health-evaluation",
    ]
    warning = warning_of(team.get(url("monitoring", case)).content.decode())
    assert warning.count('data-testid="required-missing-kind"') == 2
    assert f'href="{url("plan", case)}?kind=mental-health-evaluation#intervention-add"' in warning


def test_a_read_only_school_sees_the_warning_without_add_links(world: Any, client: Client, monitored: Any) -> None:
    case, _items = monitored
    set_level(case, "high")
    give_read_access(case, world.other_school, world.users[Role.TEAM_MEMBER])
    client.force_login(school_member(world, world.other_school))
    for tab in ("plan", "monitoring"):
        warning = warning_of(client.get(url(tab, case)).content.decode())
        assert warning.count('data-testid="required-missing-kind"') == 2
        assert 'data-testid="required-missing-add"' not in warning and "The team adds them" in warning


def test_a_case_in_management_gets_the_entry_message_not_the_warning(team: Client, world: Any, member: Any) -> None:
    case = to_management(open_case(world, actor=member), member, "moderate")
    body = team.get(url("plan", case)).content.decode()
    assert 'data-testid="required-missing"' not in body and "cannot move to monitoring" in body
    assert 'data-testid="required-missing"' not in team.get(url("monitoring", case)).content.decode()


def test_the_warning_costs_no_query_per_missing_kind(team: Client, monitored: Any, member: Any) -> None:
    case, _items = monitored

    def queries(tab: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert team.get(url(tab, case)).status_code == 200
        return len(captured)

    set_level(case, "high")  # two missing
    queries("plan")  # the first request of the session (its expiry, the caches) is not the point
    few = {tab: queries(tab) for tab in ("plan", "monitoring")}
    set_level(case, "imminent")  # more missing
    assert len(plan.required_missing(case)) > 2
    assert {tab: queries(tab) for tab in ("plan", "monitoring")} == few
