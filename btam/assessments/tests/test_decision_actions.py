"""Conducting an assessment: starting (and reassessing), partial saves by several members, the
decision with its rationale and override reason, approval by a leader, declining, dissent,
discarding, and the level taking effect (apply_level). Every refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role
from btam.assessments import decision_actions, levels
from btam.assessments.decision_actions import AssessmentError, StaleSave, apply_level
from btam.assessments.models import (
    Assessment,
    AssessmentSettings,
    Contribution,
    Dissent,
    LevelChange,
    ReassessmentSchedule,
)
from btam.assessments.tests.decision_helpers import (
    CHECKLIST,
    RATIONALE,
    SERIOUS,
    THEMES,
    TRANSIENT,
    TREE,
    VERY_SERIOUS,
    answer,
    decide,
    decided,
    publish_tree_v2,
    start,
)
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, raw_rows, school_member
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

SECRET = "Quinby Marchetti-Oldfield said it in the cafeteria"
S = Assessment.Status


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def events(target: Any) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).order_by("id")
    )


def fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


# Starting ----------------------------------------------------------------------------------------
def test_starting_records_the_instrument_version_and_is_audited(case: Case, member: Any) -> None:
    assessment = start(case, member)
    assert (assessment.instrument_id, assessment.instrument_version, assessment.instrument_kind) == (
        TREE,
        1,
        "decision_tree",
    )
    assert assessment.status == S.DRAFT and assessment.started_by == member and assessment.revision == 0
    (event,) = events(assessment)
    assert event.verb == Verb.CREATED
    assert event.detail == {
        "case": case.pk,
        "case_number": case.number,
        "assessment": assessment.pk,
        "instrument": TREE,
        "instrument_version": 1,
        "previous": None,
    }


@pytest.mark.parametrize(
    ("instrument", "version", "message"),
    [
        ("no-such-instrument", None, "is not an instrument your district uses"),
        ("'; DROP TABLE x; --", None, "is not an instrument your district uses"),
        (TREE, 7, "has no version 7"),
    ],
)
def test_an_unknown_instrument_or_version_is_refused(
    case: Case, member: Any, instrument: str, version: int | None, message: str
) -> None:
    with pytest.raises(AssessmentError, match=message):
        start(case, member, instrument_id=instrument, version=version)
    assert not Assessment.objects.exists()


def test_only_the_districts_chosen_instruments_are_offered(world: Any, case: Case, member: Any) -> None:
    AssessmentSettings.objects.create(district=world.district, instruments=[CHECKLIST])
    assert [i.id for i in decision_actions.offered_instruments(world.district.pk)] == [CHECKLIST]
    with pytest.raises(AssessmentError, match="not an instrument your district uses"):
        start(case, member, instrument_id=TREE)
    assert start(case, member, instrument_id=CHECKLIST).instrument_id == CHECKLIST


def test_a_second_assessment_in_progress_with_one_instrument_is_refused(case: Case, member: Any) -> None:
    start(case, member)
    with pytest.raises(AssessmentError, match="already in progress"):
        start(case, member)
    assert start(case, member, instrument_id=THEMES).instrument_id == THEMES
    assert Assessment.objects.count() == 2


def test_a_closed_case_or_a_read_only_school_cannot_start(world: Any, case: Case, member: Any) -> None:
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    with pytest.raises(CaseError, match="can no longer change this case"):
        start(case, reader)
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        start(case, member)
    assert not Assessment.objects.exists()


def test_a_new_version_is_used_for_new_assessments_and_the_old_one_on_request(
    world: Any, case: Case, member: Any
) -> None:
    publish_tree_v2(world.district, member)
    assert start(case, member).instrument_version == 2
    other = open_case(world, actor=member)
    assert start(other, member, version=1).instrument_version == 1


# Reassessing -------------------------------------------------------------------------------------
def test_a_reassessment_follows_the_latest_decided_assessment(case: Case, member: Any) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    again = start(case, member, previous=first)
    assert again.previous == first and again.is_reassessment
    assert events(again)[0].detail["previous"] == first.pk


def test_a_reassessment_of_an_undecided_or_older_or_foreign_assessment_is_refused(
    world: Any, case: Case, member: Any
) -> None:
    draft = start(case, member, instrument_id=THEMES)
    with pytest.raises(AssessmentError, match="Only a decided assessment of this case"):
        start(case, member, previous=draft)
    first = decided(case, member, SERIOUS, "moderate")
    second = decided(case, member, TRANSIENT, "low", previous=first)
    with pytest.raises(AssessmentError, match="A newer decision exists"):
        start(case, member, previous=first)
    other = open_case(world, actor=member)
    with pytest.raises(AssessmentError, match="Only a decided assessment of this case"):
        start(other, member, previous=second)
    with pytest.raises(AssessmentError, match="Only a decided assessment of this case"):
        start(case, member, previous=999_999)
    assert decision_actions.latest_decided(case) == second


# Saving answers ----------------------------------------------------------------------------------
def test_a_save_merges_the_items_posted_and_records_the_contribution(case: Case, member: Any, leader: Any) -> None:
    assessment = start(case, member)
    answer(assessment, member, {"step-1-evaluate": "intent-or-unclear"})
    saved = answer(assessment, leader, {"step-3-respond": "hurt-without-weapon"})
    assert saved.answers == SERIOUS and saved.revision == 2
    contributions = list(Contribution.objects.filter(assessment=assessment).order_by("at", "pk"))
    assert [(c.user, c.items) for c in contributions] == [
        (member, ["step-1-evaluate"]),
        (leader, ["step-3-respond"]),
    ]
    event = events(assessment)[-1]
    assert event.detail["answers_saved"] == ["step-3-respond"] and event.detail["revision"] == 2
    assert fresh(case).updated_at == saved.updated_at


def test_an_empty_value_clears_an_answer_and_a_save_that_changes_nothing_writes_nothing(
    case: Case, member: Any
) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    same, changed = decision_actions.do_save_answers(
        actor=member, assessment=assessment, answers=SERIOUS, revision=assessment.revision
    )
    assert changed == [] and same.revision == 1 and Contribution.objects.count() == 1
    cleared = answer(assessment, member, {"step-3-respond": None})
    assert cleared.answers == {"step-1-evaluate": "intent-or-unclear"} and cleared.revision == 2


def test_evidence_is_encrypted_at_rest_and_never_in_the_audit_trail(case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=THEMES)
    evidence = {"text": SECRET, "source": "Interview with the counselor", "date": "2025-01-10"}
    saved = answer(assessment, member, {"motives": {"finding": "concern", "evidence": [evidence]}})
    assert saved.answers["motives"]["evidence"] == [evidence]
    assert "Quinby" not in raw_rows("assessments_assessment")
    assert "Quinby" not in raw_rows("audit_auditevent") and "counselor" not in raw_rows("audit_auditevent")


def test_a_save_from_a_stale_page_is_refused_and_changes_nothing(case: Case, member: Any, leader: Any) -> None:
    assessment = start(case, member)
    stale_revision = assessment.revision
    answer(assessment, leader, {"step-1-evaluate": "expression-only"})
    with pytest.raises(StaleSave, match="Someone saved this assessment after you opened it") as refused:
        decision_actions.do_save_answers(
            actor=member,
            assessment=assessment,
            answers={"step-1-evaluate": "intent-or-unclear"},
            revision=stale_revision,
        )
    assert refused.value.current_revision == 1
    assert fresh(assessment).answers == {"step-1-evaluate": "expression-only"}
    assert Contribution.objects.count() == 1


@pytest.mark.parametrize(
    ("answers", "version", "message"),
    [
        ({"step-9": "yes"}, None, "“step-9” is not part of version 1"),
        ({"step-1-evaluate": "maybe"}, None, '"maybe" is not one of the answers'),
        ({"step-1-evaluate": ["expression-only"]}, None, "is not one of the answers"),
        ({"step-1-evaluate": "expression-only"}, 2, "These answers are for version 2 of"),
    ],
)
def test_answers_for_unknown_items_options_or_another_version_are_refused(
    case: Case, member: Any, answers: dict[str, Any], version: int | None, message: str
) -> None:
    assessment = start(case, member)
    with pytest.raises(AssessmentError, match=message):
        decision_actions.do_save_answers(
            actor=member, assessment=assessment, answers=answers, revision=0, version=version
        )
    assert fresh(assessment).revision == 0 and fresh(assessment).answers == {}
    assert not Contribution.objects.exists()


def test_evidence_without_a_source_or_with_a_future_date_is_refused(case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=THEMES)
    for entry, message in (
        ({"text": "Seen", "source": "", "date": "2025-01-10"}, '"source" is required'),
        ({"text": "Seen", "source": "Teacher", "date": "2999-01-01"}, "is in the future"),
    ):
        with pytest.raises(AssessmentError, match=message):
            answer(assessment, member, {"motives": {"finding": "concern", "evidence": [entry]}})
    assert fresh(assessment).answers == {}


def test_answers_of_a_decided_assessment_never_change(case: Case, member: Any) -> None:
    assessment = decided(case, member, SERIOUS, "moderate")
    with pytest.raises(AssessmentError, match="This assessment is decided"):
        answer(assessment, member, {"step-3-respond": "not-sure"})


# The decision ------------------------------------------------------------------------------------
def test_a_decision_that_follows_the_suggestion_takes_effect(case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    result = decide(assessment, member, "moderate")
    assert result.status == S.DECIDED and result.decided_by == member and result.approved_by is None
    assert (result.suggested_outcome, result.suggested_level) == ("substantive-serious", "moderate")
    assert len(result.suggestion_reasons) == 2 and result.override_reason == ""
    assert (result.scheme_id, result.scheme_version, result.level, result.level_rank) == ("virginia", 1, "moderate", 1)
    case = fresh(case)
    assert (case.risk_level, case.risk_scheme, case.risk_rank, case.risk_rationale) == (
        "moderate",
        "virginia",
        1,
        RATIONALE,
    )
    assert case.risk_set_by == member and case.risk_level_label == "Moderate"
    change = LevelChange.objects.get(case=case)
    assert (change.assessment, change.level, change.rank, change.previous_level) == (result, "moderate", 1, "")
    schedule = ReassessmentSchedule.objects.get(case=case)
    assert schedule.interval_days == levels.scheme_for(case.district_id).level("moderate").reassess_days
    assert case.reassess_due_on == schedule.due_on
    decision = events(result)[-1]
    assert decision.detail["level"] == "moderate" and decision.detail["override"] is False
    case_event = events(case)[-1]
    assert case_event.detail["level_change"] == change.pk and case_event.after["risk_level"] == "moderate"
    assert RATIONALE not in raw_rows("audit_auditevent")


def test_a_decision_that_differs_from_the_suggestion_needs_a_reason(case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, TRANSIENT)
    with pytest.raises(AssessmentError, match=r"differs from the suggested level \(Low\): give the reason"):
        decide(assessment, member, "moderate")
    assert fresh(assessment).status == S.DRAFT and not LevelChange.objects.exists()
    assert fresh(case).risk_level == ""
    result = decide(assessment, member, "moderate", override="A second report came in after the apology.")
    assert result.level == "moderate" and result.suggested_level == "low"
    assert result.override_reason == "A second report came in after the apology."
    assert events(result)[-1].detail["override"] is True


def test_an_incomplete_tree_has_no_suggestion_and_deciding_needs_a_reason(case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, {"step-1-evaluate": "intent-or-unclear"})
    with pytest.raises(AssessmentError, match="The instrument is not complete"):
        decide(assessment, member, "moderate")
    result = decide(assessment, member, "moderate", override="Safety could not wait for the interviews.")
    assert result.suggested_level == "" and result.suggested_outcome == ""


def test_a_themes_assessment_suggests_no_level_and_needs_no_reason(case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=THEMES)
    result = decide(assessment, member, "low", override="ignored: nothing to explain")
    assert result.status == S.DECIDED and result.suggested_level == "" and result.override_reason == ""
    assert result.suggested_outcome == "information_gaps"


@pytest.mark.parametrize(
    ("level", "rationale", "message"),
    [
        ("severe", RATIONALE, "“severe” is not a level of your district's scheme"),
        ("", RATIONALE, "is not a level of your district's scheme"),
        ("moderate", "   ", "The rationale is required."),
        ("moderate", "x" * 20_001, "The rationale is too long"),
        ("moderate", "nul\x00", "cannot be stored"),
    ],
)
def test_a_bad_decision_is_refused_and_writes_nothing(
    case: Case, member: Any, level: str, rationale: str, message: str
) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    with pytest.raises(CaseError, match=message):
        decide(assessment, member, level, rationale=rationale)
    assessment = fresh(assessment)
    assert assessment.status == S.DRAFT and assessment.level == "" and assessment.rationale == ""
    assert not LevelChange.objects.exists() and fresh(case).risk_level == ""


def test_the_level_must_be_of_the_districts_scheme(world: Any, case: Case, member: Any, leader: Any) -> None:
    AssessmentSettings.objects.create(district=world.district, level_scheme="florida")
    assessment = answer(start(case, member), member, SERIOUS)
    with pytest.raises(AssessmentError, match="“moderate” is not a level"):
        decide(assessment, member, "moderate")
    result = decide(assessment, member, "medium")  # Florida's two top levels need approval
    assert (result.scheme_id, result.level, result.status) == ("florida", "medium", S.PENDING_APPROVAL)
    decision_actions.do_approve_decision(actor=leader, assessment=result)
    assert (fresh(case).risk_scheme, fresh(case).risk_level, fresh(case).risk_rank) == ("florida", "medium", 1)


def test_a_decision_from_a_stale_page_is_refused(case: Case, member: Any, leader: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    answer(assessment, leader, {"step-3-respond": "kill-weapon-serious-injury"})
    with pytest.raises(StaleSave, match="The answers changed after you opened the page"):
        decision_actions.do_record_decision(
            actor=member, assessment=assessment, level_id="moderate", rationale=RATIONALE, revision=1
        )
    assert fresh(assessment).status == S.DRAFT


def test_deciding_on_a_closed_case_is_refused(world: Any, case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        decide(assessment, member, "moderate")
    assert fresh(assessment).status == S.DRAFT


# Approval ----------------------------------------------------------------------------------------
def test_a_top_level_waits_for_a_leader_who_is_told(world: Any, case: Case, member: Any, leader: Any) -> None:
    school_leader = school_member(world, world.school, Role.TEAM_LEADER)
    other_leader = school_member(world, world.other_school, Role.TEAM_LEADER)
    assessment = answer(start(case, member), member, VERY_SERIOUS)
    result = decide(assessment, member, "high")
    assert result.status == S.PENDING_APPROVAL and result.approved_by is None
    assert fresh(case).risk_level == "" and not LevelChange.objects.exists()
    told = Notification.objects.filter(kind="decision_approval")
    assert {n.recipient for n in told} == {leader, school_leader}
    assert other_leader not in {n.recipient for n in told}
    note = told.first()
    assert note is not None
    assert note.title == f"A risk-level decision on case {case.number} needs your approval"
    assert note.link == f"/cases/{case.pk}/assessments/{assessment.pk}/"
    assert events(result)[-1].detail["decision"] == S.PENDING_APPROVAL


def test_a_leaders_own_decision_is_its_own_approval(case: Case, leader: Any) -> None:
    assessment = answer(start(case, leader), leader, VERY_SERIOUS)
    result = decide(assessment, leader, "high")
    assert result.status == S.DECIDED and result.approved_by == leader
    assert fresh(case).risk_level == "high"
    assert not Notification.objects.filter(kind="decision_approval").exists()
    assert events(result)[-1].detail["self_approved"] is True


def test_a_leader_approves_and_the_level_takes_effect(case: Case, member: Any, leader: Any) -> None:
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    result = decision_actions.do_approve_decision(actor=leader, assessment=assessment)
    assert result.status == S.DECIDED and result.approved_by == leader and result.decided_by == member
    case = fresh(case)
    assert (case.risk_level, case.risk_rank, case.risk_set_by) == ("high", 2, leader)
    assert LevelChange.objects.get(case=case).set_by == leader
    assert ReassessmentSchedule.objects.get(case=case).interval_days == 7
    assert events(result)[-1].detail["approved"] is True
    with pytest.raises(AssessmentError, match="already decided"):
        decision_actions.do_approve_decision(actor=leader, assessment=assessment)
    assert LevelChange.objects.count() == 1


def test_a_member_cannot_approve_even_their_own_decision(world: Any, case: Case, member: Any) -> None:
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    rapid = world.users[Role.RAPID_RESPONSE]
    for actor in (member, rapid):
        with pytest.raises(AssessmentError, match="Only a team leader of the case's school can approve"):
            decision_actions.do_approve_decision(actor=actor, assessment=assessment)
    other_leader = school_member(world, world.other_school, Role.TEAM_LEADER)
    with pytest.raises(CaseError):
        decision_actions.do_approve_decision(actor=other_leader, assessment=assessment)
    assert fresh(assessment).status == S.PENDING_APPROVAL and fresh(case).risk_level == ""


def test_there_is_nothing_to_approve_on_a_draft(case: Case, member: Any, leader: Any) -> None:
    assessment = start(case, member)
    with pytest.raises(AssessmentError, match="No decision of this assessment is waiting"):
        decision_actions.do_approve_decision(actor=leader, assessment=assessment)


def test_a_leader_declines_with_a_reason_and_the_recorder_is_told(case: Case, member: Any, leader: Any) -> None:
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    with pytest.raises(CaseError, match="The reason for declining is required"):
        decision_actions.do_decline_decision(actor=leader, assessment=assessment, reason=" ")
    with pytest.raises(AssessmentError, match="Only a team leader"):
        decision_actions.do_decline_decision(actor=member, assessment=assessment, reason="No.")
    result = decision_actions.do_decline_decision(
        actor=leader, assessment=assessment, reason="Interview the SRO first."
    )
    assert result.status == S.DRAFT and result.level == "" and result.decided_by is None
    assert (result.declined_by, result.decline_reason) == (leader, "Interview the SRO first.")
    assert result.rationale == RATIONALE  # kept for the next attempt
    (note,) = Notification.objects.filter(kind="decision_declined")
    assert note.recipient == member and note.title == f"A risk-level decision on case {case.number} was declined"
    assert "SRO" not in raw_rows("notifications_notification") and "SRO" not in raw_rows("audit_auditevent")
    assert fresh(case).risk_level == ""
    # The draft can be answered and decided again.
    answer(result, member, {"step-5-safety-plan": "plan-pending"})
    assert decide(result, member, "moderate", override="Precautions are in place.").status == S.DECIDED


# Dissent and discarding --------------------------------------------------------------------------
def test_a_dissent_is_recorded_with_a_decided_or_pending_decision(world: Any, case: Case, member: Any) -> None:
    colleague = world.users[Role.RAPID_RESPONSE]
    draft = answer(start(case, member), member, VERY_SERIOUS)
    with pytest.raises(AssessmentError, match="no decision to disagree with"):
        decision_actions.do_record_dissent(actor=colleague, assessment=draft, text="I disagree.")
    pending = decide(draft, member, "high")
    dissent = decision_actions.do_record_dissent(actor=colleague, assessment=pending, text=SECRET)
    assert dissent.author == colleague and dissent.text == SECRET
    with pytest.raises(CaseError, match="The dissent is required"):
        decision_actions.do_record_dissent(actor=colleague, assessment=pending, text="  ")
    assert Dissent.objects.count() == 1
    assert "Quinby" not in raw_rows("assessments_dissent") and "Quinby" not in raw_rows("audit_auditevent")
    assert events(dissent)[0].detail["dissent"] == dissent.pk


def test_a_dissent_on_a_closed_case_is_refused(world: Any, case: Case, member: Any) -> None:
    result = decided(case, member, SERIOUS, "moderate")
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        decision_actions.do_record_dissent(actor=member, assessment=result, text="Too low.")


def test_a_draft_is_discarded_and_a_decision_never(case: Case, member: Any) -> None:
    draft = start(case, member)
    result = decision_actions.do_discard_assessment(actor=member, assessment=draft)
    assert result.status == S.DISCARDED and events(result)[-1].detail["discarded"] is True
    with pytest.raises(AssessmentError, match="was discarded"):
        answer(result, member, SERIOUS)
    again = decided(case, member, SERIOUS, "moderate")
    with pytest.raises(AssessmentError, match="This assessment is decided"):
        decision_actions.do_discard_assessment(actor=member, assessment=again)
    pending = decide(answer(start(case, member, previous=again), member, VERY_SERIOUS), member, "high")
    with pytest.raises(AssessmentError, match="waiting for a leader's approval"):
        decision_actions.do_discard_assessment(actor=member, assessment=pending)


# apply_level -------------------------------------------------------------------------------------
def test_apply_level_records_the_level_it_replaces(case: Case, member: Any, leader: Any) -> None:
    decided(case, member, SERIOUS, "moderate")
    first = decision_actions.latest_decided(case)
    second = decided(case, leader, VERY_SERIOUS, "high", previous=first)
    change = LevelChange.objects.get(assessment=second)
    assert (change.previous_level, change.previous_rank, change.level, change.rank) == ("moderate", 1, "high", 2)


def test_apply_level_alone_sets_the_level_with_its_history_and_schedule(case: Case, member: Any) -> None:
    scheme = levels.scheme_for(case.district_id)
    change = apply_level(
        actor=member, case=case, assessment=None, scheme=scheme, level_id="low", rationale="x", at=case.opened_at
    )
    assert case.risk_level == "low" and fresh(case).risk_level == "low" and change.assessment is None
    assert fresh(case).reassess_due_on == ReassessmentSchedule.objects.get(case=case).due_on == case.reassess_due_on


def test_apply_level_refuses_a_closed_case(world: Any, case: Case, member: Any) -> None:
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        apply_level(
            actor=member,
            case=case,
            assessment=None,
            scheme=levels.scheme_for(case.district_id),
            level_id="low",
            rationale="x",
            at=case.opened_at,
        )
    assert not LevelChange.objects.exists()
