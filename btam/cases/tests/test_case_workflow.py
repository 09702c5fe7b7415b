"""Opening a case and moving it through the workflow: guards, closure with the leader's approval,
reopening, numbering, and the record a closed case becomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import actions, workflow
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseMember, CaseParticipant, CaseReport, CaseSchool, Status, StatusChange
from btam.intake.models import Report, TriageDecision
from btam.notifications.models import Notification
from btam.testing import make_member

pytestmark = pytest.mark.django_db


def _report(world: Any, **kwargs: Any) -> Report:
    from btam.intake.actions import NamedPerson, NewReport, do_submit_report

    people = [NamedPerson("Avery Testperson", "subject", "Grade 9"), NamedPerson("Blair Example", "target", "")]
    new = NewReport(
        school=world.school,
        narrative=kwargs.pop("narrative", "A student said something worrying at lunch."),
        people=kwargs.pop("people", people),
        **kwargs,
    )
    return do_submit_report(new=new, actor=None).report


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


def _open(world: Any, actor: Any, **kwargs: Any) -> Case:
    return actions.do_open_case(actor=actor, school=world.school, title=kwargs.pop("title", "Lunch remark"), **kwargs)


def test_cases_are_numbered_per_district_and_year(world: Any, member: Any, clock: Any) -> None:
    clock.freeze(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    first, second = _open(world, member), _open(world, member)
    other = actions.do_open_case(actor=world.outsider, school=world.other_district.schools.first(), title="Elsewhere")
    clock.freeze(dt.datetime(2027, 1, 2, 9, tzinfo=dt.UTC))
    next_year = _open(world, member)
    assert [first.number, second.number, other.number, next_year.number] == [
        "2026-0001",
        "2026-0002",
        "2026-0001",
        "2027-0001",
    ]


def test_opening_a_case_from_a_report_links_it_and_its_people(world: Any, member: Any) -> None:
    report = _report(world, reporter_name="Casey Reporter", reporter_contact="555-0100")
    case = actions.do_open_case(actor=member, school=world.school, reports=[report])
    assert CaseReport.objects.get(report=report).case == case
    report.refresh_from_db()
    assert report.status == Report.Status.CASE_OPENED
    decision = TriageDecision.objects.get(report=report, kind=TriageDecision.Kind.OPEN_CASE)
    assert decision.detail == {"case": case.number}
    people = {(p.role, p.name) for p in CaseParticipant.objects.filter(case=case)}
    assert people == {("subject", "Avery Testperson"), ("target", "Blair Example"), ("reporter", "Casey Reporter")}
    assert case.title.startswith("Concern at North Test High")
    assert CaseSchool.objects.get(case=case).access == CaseSchool.Access.FULL
    assert case.manager == member and CaseMember.objects.filter(case=case, user=member).exists()
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="cases.case", target_id=str(case.pk))
    assert event.detail["reports"] == [report.pk]
    assert "Avery" not in str(event.detail) and "Avery" not in str(event.after)


def test_a_report_joins_one_case_only(world: Any, member: Any) -> None:
    report = _report(world)
    actions.do_open_case(actor=member, school=world.school, reports=[report])
    with pytest.raises(CaseError, match="already on a case"):
        actions.do_open_case(actor=member, school=world.school, reports=[report])
    assert Case.objects.count() == 1


def test_a_failed_open_writes_nothing(world: Any, member: Any) -> None:
    report = _report(world)
    actions.do_open_case(actor=member, school=world.school, reports=[report])
    other = _report(world)
    before = (Case.objects.count(), StatusChange.objects.count(), AuditEvent.objects.count())
    with pytest.raises(CaseError):
        actions.do_open_case(actor=member, school=world.school, reports=[other, report])
    assert (Case.objects.count(), StatusChange.objects.count(), AuditEvent.objects.count()) == before
    other.refresh_from_db()
    assert other.status == Report.Status.NEW


def test_only_the_schools_team_opens_a_case_there(world: Any) -> None:
    south_member = make_member(Role.TEAM_MEMBER, world.district, schools=[world.other_school])
    with pytest.raises(CaseError, match="schools your team works"):
        actions.do_open_case(actor=south_member, school=world.school, title="Not mine")
    with pytest.raises(CaseError):
        actions.do_open_case(actor=world.users[Role.AUDITOR], school=world.school, title="No")


def test_titles_are_checked(world: Any, member: Any) -> None:
    with pytest.raises(CaseError, match="too long"):
        _open(world, member, title="x" * 201)
    with pytest.raises(CaseError, match="cannot be stored"):
        _open(world, member, title="bad\x00title")


def test_evaluation_needs_a_screening_decision(world: Any, member: Any) -> None:
    case = _open(world, member)
    with pytest.raises(CaseError, match="screening decision"):
        actions.do_transition(actor=member, case=case, to_status=Status.EVALUATION)
    actions.do_record_screening(actor=member, case=case, decision="no_further_action", rationale="Joke, resolved.")
    with pytest.raises(CaseError, match="screening decision"):
        actions.do_transition(actor=member, case=case, to_status=Status.EVALUATION)
    actions.do_record_screening(actor=member, case=case, decision="evaluate", rationale="Needs interviews.")
    case = actions.do_transition(actor=member, case=case, to_status=Status.EVALUATION)
    assert case.status == Status.EVALUATION


def test_management_needs_a_risk_level_with_a_rationale(world: Any, member: Any) -> None:
    case = _open(world, member)
    actions.do_record_screening(actor=member, case=case, decision="evaluate", rationale="Needs interviews.")
    actions.do_transition(actor=member, case=case, to_status=Status.EVALUATION)
    with pytest.raises(CaseError, match="risk level"):
        actions.do_transition(actor=member, case=case, to_status=Status.MANAGEMENT)
    with pytest.raises(CaseError, match="rationale"):
        actions.do_set_risk_level(actor=member, case=case, level="moderate", rationale="  ")
    actions.do_set_risk_level(actor=member, case=case, level="moderate", rationale="Continuing intent, no means.")
    assert actions.do_transition(actor=member, case=case, to_status=Status.MANAGEMENT).status == Status.MANAGEMENT


def test_a_registered_guard_blocks_a_move(world: Any, member: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflow, "_GUARDS", {k: list(v) for k, v in workflow._GUARDS.items()})
    workflow.register_guard(Status.EVALUATION, lambda case: "An approved assessment is needed.")
    case = _open(world, member)
    actions.do_record_screening(actor=member, case=case, decision="evaluate", rationale="r")
    with pytest.raises(CaseError, match="approved assessment"):
        actions.do_transition(actor=member, case=case, to_status=Status.EVALUATION)


def test_moves_out_of_order_are_refused(world: Any, member: Any) -> None:
    case = _open(world, member)
    with pytest.raises(CaseError, match="cannot move"):
        actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)
    with pytest.raises(CaseError, match="closure reason"):
        actions.do_transition(actor=member, case=case, to_status=Status.CLOSED)
    with pytest.raises(CaseError, match="Unknown stage"):
        actions.do_transition(actor=member, case=case, to_status="archived")
    case.refresh_from_db()
    assert case.status == Status.SCREENING


def test_a_members_closure_waits_for_the_leader(world: Any, member: Any, leader: Any) -> None:
    case = _open(world, member)
    case = actions.do_request_closure(actor=member, case=case, reason="no_threat", note="Transient, apologised.")
    assert case.status == Status.SCREENING and case.closure_pending
    assert Notification.objects.filter(recipient=leader, kind="closure_requested").exists()
    with pytest.raises(CaseError, match="team leader"):
        actions.do_approve_closure(actor=member, case=case)
    case = actions.do_approve_closure(actor=leader, case=case)
    assert case.status == Status.CLOSED and case.closed_by == leader and case.closed_from == Status.SCREENING


def test_a_leaders_request_is_its_own_approval(world: Any, leader: Any) -> None:
    case = _open(world, leader)
    case = actions.do_request_closure(actor=leader, case=case, reason="resolved", note="Plan completed.")
    assert case.status == Status.CLOSED


def test_a_school_leader_of_another_school_does_not_approve(world: Any, member: Any) -> None:
    south_leader = make_member(Role.TEAM_LEADER, world.district, schools=[world.other_school])
    case = _open(world, member)
    actions.do_request_closure(actor=member, case=case, reason="resolved", note="Done.")
    with pytest.raises(CaseError):
        actions.do_approve_closure(actor=south_leader, case=case)


def test_a_declined_closure_keeps_the_case_open(world: Any, member: Any, leader: Any) -> None:
    case = _open(world, member)
    actions.do_request_closure(actor=member, case=case, reason="resolved", note="Done.")
    case = actions.do_decline_closure(actor=leader, case=case, reason="Check in with the parents first.")
    assert case.status == Status.SCREENING and not case.closure_pending and case.closure_reason == ""
    assert Notification.objects.filter(recipient=member, kind="closure_requested").exists()
    with pytest.raises(CaseError, match="No closure"):
        actions.do_approve_closure(actor=leader, case=case)


def test_a_closure_needs_a_reason_and_a_note(world: Any, member: Any) -> None:
    case = _open(world, member)
    with pytest.raises(CaseError, match="closure reason"):
        actions.do_request_closure(actor=member, case=case, reason="", note="Done.")
    with pytest.raises(CaseError, match="closure note"):
        actions.do_request_closure(actor=member, case=case, reason="resolved", note="")


def test_a_closed_case_is_a_record_until_reopened(world: Any, member: Any, leader: Any) -> None:
    case = _open(world, leader)
    actions.do_record_screening(actor=leader, case=case, decision="evaluate", rationale="r")
    actions.do_transition(actor=leader, case=case, to_status=Status.EVALUATION)
    actions.do_request_closure(actor=leader, case=case, reason="no_threat", note="Unfounded.")
    for change in (
        lambda: actions.do_update_case(actor=member, case=case, title="New", summary="", manager=None),
        lambda: actions.do_record_screening(actor=member, case=case, decision="evaluate", rationale="x"),
        lambda: actions.do_set_risk_level(actor=member, case=case, level="low", rationale="x"),
        lambda: actions.do_transition(actor=member, case=case, to_status=Status.MANAGEMENT),
        lambda: actions.do_request_closure(actor=member, case=case, reason="resolved", note="x"),
    ):
        with pytest.raises(CaseError, match="closed"):
            change()
    case = actions.do_reopen_case(actor=member, case=case, reason="A new report came in.")
    assert case.status == Status.EVALUATION and case.closed_at is None and case.closure_reason == ""
    with pytest.raises(CaseError, match="not closed"):
        actions.do_reopen_case(actor=member, case=case, reason="again")
    history = list(StatusChange.objects.filter(case=case).values_list("from_status", "to_status"))
    assert history == [
        ("", "screening"),
        ("screening", "evaluation"),
        ("evaluation", "closed"),
        ("closed", "evaluation"),
    ]


def test_the_manager_must_be_on_the_team(world: Any, member: Any) -> None:
    case = _open(world, member)
    with pytest.raises(CaseError, match="case manager"):
        actions.do_update_case(
            actor=member, case=case, title="T", summary="", manager=world.users[Role.REFERRING_STAFF]
        )
    with pytest.raises(CaseError, match="case manager"):
        actions.do_update_case(actor=member, case=case, title="T", summary="", manager=world.outsider)
    rapid = world.users[Role.RAPID_RESPONSE]
    case = actions.do_update_case(actor=member, case=case, title="T", summary="S", manager=rapid)
    assert case.manager == rapid
    assert Notification.objects.filter(recipient=rapid, kind="case_assigned").exists()


def test_a_user_whose_access_went_changes_nothing(world: Any) -> None:
    north = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    case = actions.do_open_case(actor=north, school=world.school, title="Mine")
    north.memberships.update(is_active=False)
    north = type(north).objects.get(pk=north.pk)
    with pytest.raises(CaseError, match="no longer change"):
        actions.do_record_screening(actor=north, case=case, decision="evaluate", rationale="r")
