"""The decision record (review findings 1, 2, 7, 13): one decision waits for approval at a time and
an older one cannot replace a newer level; the suggestion's reasons are encrypted at rest; a
declined decision stays in the record (the assessment page, the case timeline); a decision is made
on a known revision of the answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments import decision_actions
from btam.assessments.decision_actions import AssessmentError, PendingDecision, StaleSave
from btam.assessments.models import Assessment, DeclinedDecision, LevelChange
from btam.assessments.tests.decision_helpers import (
    CHECKLIST,
    RATIONALE,
    SERIOUS,
    TREE,
    VERY_SERIOUS,
    answer,
    decide,
    signed_in,
    start,
)
from btam.audit.models import AuditEvent
from btam.cases import actions, timeline
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import open_case, raw_rows
from btam.testing import make_member

pytestmark = pytest.mark.django_db

S = Assessment.Status
NEWER = "A newer decision took effect since; decline this one or reassess."


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def url(name: str, case: Case, assessment: Assessment) -> str:
    return reverse(f"assessments:{name}", args=[case.pk, assessment.pk])


def fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


def pending_high(case: Case, member: Any) -> Assessment:
    """A decision of the tree at "high" (a level needing approval) recorded by a member: pending."""
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    assert assessment.status == S.PENDING_APPROVAL
    return assessment


# Finding 1: one decision waits at a time; an older one cannot replace a newer level --------------
def test_no_decision_is_recorded_while_another_waits_for_approval(case: Case, member: Any, leader: Any) -> None:
    waiting = pending_high(case, member)
    other = start(case, leader, CHECKLIST)
    events_before = AuditEvent.objects.count()
    for actor in (leader, member):  # a leader's own decision (its own approval) is refused too
        with pytest.raises(PendingDecision) as refused:
            decide(other, actor, "imminent", override="A weapon was found at home.")
        message = str(refused.value)
        assert "waiting for a team leader's approval (High" in message and "Threat classification" in message
        assert refused.value.pending == waiting
        assert refused.value.link == reverse("assessments:detail", args=[case.pk, waiting.pk])
    assert fresh(other).status == S.DRAFT and fresh(other).level == "" and fresh(other).decided_at is None
    assert not LevelChange.objects.exists() and fresh(case).risk_level == ""
    assert AuditEvent.objects.count() == events_before
    # Once the waiting decision is approved, the other can be recorded.
    decision_actions.do_approve_decision(actor=leader, assessment=waiting)
    recorded = decide(other, leader, "imminent", override="A weapon was found at home.")
    assert recorded.status == S.DECIDED and fresh(case).risk_level == "imminent"


def test_after_a_decline_another_decision_can_be_recorded(case: Case, member: Any, leader: Any) -> None:
    waiting = pending_high(case, member)
    other = start(case, leader, CHECKLIST)
    with pytest.raises(PendingDecision):
        decide(other, leader, "moderate", override="Reviewed with the SRO.")
    decision_actions.do_decline_decision(actor=leader, assessment=waiting, reason="Interview the SRO first.")
    assert decide(other, leader, "moderate", override="Reviewed with the SRO.").status == S.DECIDED


def test_approval_is_refused_when_a_newer_decision_took_effect(
    world: Any, case: Case, member: Any, leader: Any, clock: Any
) -> None:
    """The order of the review's repro: an old pending decision (recorded before one decision could
    wait at a time) must not replace the newer level when approved later."""
    old = pending_high(case, member)
    clock.advance(days=1)
    # A decision recorded meanwhile (as the old code allowed): hide the pending one while recording it.
    Assessment.objects.filter(pk=old.pk).update(status=S.DRAFT)
    newer = decide(start(case, leader, CHECKLIST), leader, "imminent", override="A weapon was found at home.")
    Assessment.objects.filter(pk=old.pk).update(status=S.PENDING_APPROVAL)
    assert newer.status == S.DECIDED
    clock.advance(days=1)
    other_leader = make_member(Role.TEAM_LEADER, world.district)
    changes = LevelChange.objects.count()
    with pytest.raises(AssessmentError, match=NEWER):
        decision_actions.do_approve_decision(actor=other_leader, assessment=old)
    assert fresh(old).status == S.PENDING_APPROVAL and fresh(case).risk_level == "imminent"
    assert LevelChange.objects.count() == changes
    # It can be declined (and then reassessed).
    declined = decision_actions.do_decline_decision(actor=other_leader, assessment=old, reason="Superseded.")
    assert declined.status == S.DRAFT and fresh(case).risk_level == "imminent"


def test_approval_is_refused_after_a_level_set_on_the_case(case: Case, member: Any, leader: Any, clock: Any) -> None:
    waiting = pending_high(case, member)
    clock.advance(hours=2)
    actions.do_set_risk_level(actor=leader, case=case, level="moderate", rationale="Carried over from the old system.")
    assert decision_actions.superseded(fresh(waiting))
    with pytest.raises(AssessmentError, match=NEWER):
        decision_actions.do_approve_decision(actor=leader, assessment=waiting)
    assert fresh(case).risk_level == "moderate" and fresh(waiting).status == S.PENDING_APPROVAL


def test_a_level_that_took_effect_before_the_decision_does_not_block_it(
    case: Case, member: Any, leader: Any, clock: Any
) -> None:
    actions.do_set_risk_level(actor=leader, case=case, level="moderate", rationale="Carried over from the old system.")
    clock.advance(hours=2)
    waiting = pending_high(case, member)
    assert not decision_actions.superseded(waiting)
    assert decision_actions.do_approve_decision(actor=leader, assessment=waiting).status == S.DECIDED
    assert fresh(case).risk_level == "high"


def test_the_pages_say_a_decision_waits_and_that_an_old_one_is_superseded(
    case: Case, member: Any, leader: Any, clock: Any
) -> None:
    waiting = pending_high(case, member)
    other = start(case, leader, CHECKLIST)
    boss = signed_in(leader)
    page = boss.get(url("detail", case, other)).content.decode()
    assert 'data-testid="pending-elsewhere"' in page and url("detail", case, waiting) in page
    response = boss.post(
        url("decide", case, other),
        {"level": "moderate", "rationale": RATIONALE, "override_reason": "Reviewed.", "revision": "0"},
    )
    body = response.content.decode()
    assert response.status_code == 400 and "waiting for a team leader&#x27;s approval (High" in body
    assert f'href="{url("detail", case, waiting)}" data-testid="error-link"' in body
    assert fresh(other).status == S.DRAFT
    # A level takes effect after the waiting decision was recorded: it can no longer be approved.
    clock.advance(hours=1)
    actions.do_set_risk_level(actor=leader, case=case, level="moderate", rationale="Carried over.")
    page = boss.get(url("detail", case, waiting)).content.decode()
    assert 'data-testid="superseded"' in page and "Approve the decision" not in page
    refused = boss.post(url("approve", case, waiting))
    assert refused.status_code == 400 and "A newer decision took effect since" in refused.content.decode()
    assert fresh(waiting).status == S.PENDING_APPROVAL and fresh(case).risk_level == "moderate"


# Finding 2: the suggestion's reasons are encrypted --------------------------------------------------
def test_the_suggestions_reasons_are_encrypted_at_rest(case: Case, member: Any) -> None:
    result = decide(answer(start(case, member), member, SERIOUS), member, "moderate")
    reasons = fresh(result).suggestion_reasons
    assert len(reasons) == 2 and reasons == result.suggestion_reasons
    stored = raw_rows("assessments_assessment")
    for reason in reasons:
        for words in (reason, reason[:25]):
            assert words not in stored
    assert fresh(result).suggestion_reasons_json.startswith("[")  # JSON once decrypted


def test_an_assessment_without_a_suggestion_has_no_reasons(case: Case, member: Any) -> None:
    assessment = start(case, member)
    assert assessment.suggestion_reasons == [] and fresh(assessment).suggestion_reasons_json == ""
    assessment.suggestion_reasons = []
    assert assessment.suggestion_reasons_json == ""


# Finding 7: a declined decision stays in the record -------------------------------------------------
def test_each_declined_decision_is_kept_with_its_level_rationale_and_reason(
    case: Case, member: Any, leader: Any, clock: Any
) -> None:
    assessment = pending_high(case, member)
    first_decided_at = assessment.decided_at
    clock.advance(minutes=5)
    decision_actions.do_decline_decision(actor=leader, assessment=assessment, reason="Interview Quinby's SRO first.")
    clock.advance(minutes=5)
    again = decide(assessment, member, "imminent", override="The SRO confirmed a weapon at home.")
    assert again.status == S.PENDING_APPROVAL
    clock.advance(minutes=5)
    decision_actions.do_decline_decision(actor=leader, assessment=again, reason="Call the parents first.")
    first, second = DeclinedDecision.objects.filter(assessment=assessment).order_by("declined_at")
    assert (first.level, first.scheme_id, first.scheme_version, first.level_rank) == ("high", "virginia", 1, 2)
    assert (first.rationale, first.override_reason) == (RATIONALE, "")
    assert (first.decided_by, first.decided_at, first.declined_by) == (member, first_decided_at, leader)
    assert first.reason == "Interview Quinby's SRO first." and first.suggested_level == "high"
    assert (second.level, second.override_reason) == ("imminent", "The SRO confirmed a weapon at home.")
    assert second.reason == "Call the parents first." and second.declined_at > first.declined_at
    stored = raw_rows("assessments_declineddecision")
    for secret in ("Quinby", "Call the parents", "weapon at home", "weighed the interviews"):
        assert secret not in stored
    detail = AuditEvent.objects.filter(detail__declined=True).order_by("id").last()
    assert detail is not None and detail.detail["declined_decision"] == second.pk
    assert "parents" not in raw_rows("audit_auditevent")


def test_declined_decisions_show_on_the_page_and_the_timeline(case: Case, member: Any, leader: Any, clock: Any) -> None:
    assessment = pending_high(case, member)
    clock.advance(minutes=5)
    decision_actions.do_decline_decision(actor=leader, assessment=assessment, reason="Interview the SRO first.")
    clock.advance(minutes=5)
    decide(assessment, member, "imminent", override="The SRO confirmed a weapon at home.")
    clock.advance(minutes=5)
    decision_actions.do_decline_decision(actor=leader, assessment=assessment, reason="Call the parents first.")

    page = signed_in(member).get(url("detail", case, assessment)).content.decode()
    assert page.count('data-testid="declined-decision"') == 2 and "Declined decisions" in page
    assert "Interview the SRO first." in page and "Call the parents first." in page
    assert "The SRO confirmed a weapon at home." in page  # the declined decision's own reason for differing

    _page, entries = timeline.page_of(case, kinds=["assessment"], page_number=1)
    declined = [e for e in entries if e.sub == "assessment_declined"]
    assert [(e.what, e.excerpt) for e in declined] == [
        ("Decision declined by the leader: Imminent", "Call the parents first."),
        ("Decision declined by the leader: High", "Interview the SRO first."),
    ]
    assert all(e.link == url("detail", case, assessment) for e in declined)


def test_a_decline_from_before_the_record_kept_levels_shows_without_one(
    case: Case, member: Any, leader: Any, clock: Any
) -> None:
    """Rows copied by the migration from an assessment's last decline have no level."""
    assessment = start(case, member, TREE)
    DeclinedDecision.objects.create(
        assessment=assessment, declined_by=leader, declined_at=clock.now(), reason="Talk to the parents first."
    )
    page = signed_in(member).get(url("detail", case, assessment)).content.decode()
    assert "Not recorded (declined before levels were kept)" in page
    _page, entries = timeline.page_of(case, kinds=["assessment"], page_number=1)
    (entry,) = [e for e in entries if e.sub == "assessment_declined"]
    assert entry.what == "Decision declined by the leader" and entry.excerpt == "Talk to the parents first."


# Finding 13: the decision is made on a known revision -----------------------------------------------
def test_the_action_needs_the_revision_the_decision_was_made_on(case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    with pytest.raises(TypeError):
        decision_actions.do_record_decision(  # type: ignore[call-arg]
            actor=member, assessment=assessment, level_id="moderate", rationale=RATIONALE
        )
    with pytest.raises(StaleSave):
        decision_actions.do_record_decision(
            actor=member, assessment=assessment, level_id="moderate", rationale=RATIONALE, revision=0
        )
    assert fresh(assessment).status == S.DRAFT


def test_a_decision_posted_without_its_revision_is_a_400(case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    team: Client = signed_in(member)
    response = team.post(url("decide", case, assessment), {"level": "moderate", "rationale": RATIONALE})
    body = response.content.decode()
    assert response.status_code == 400 and "its revision is missing): reload the page." in body
    assert fresh(assessment).status == S.DRAFT and not LevelChange.objects.exists()
