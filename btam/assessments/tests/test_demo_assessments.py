"""The demo cases' assessments, plans and monitoring (btam/assessments/demo_plans.py), in detail: each
stage shows what a team would have recorded by then, all through the real actions, and every page
of it opens for the demo leader."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from btam.assessments import access, plan, schedule
from btam.assessments.demo_plans import PLANS
from btam.assessments.models import (
    Assessment,
    CheckIn,
    Contribution,
    Dissent,
    Intervention,
    LevelChange,
    ReassessmentSchedule,
    SafetyPlan,
)
from btam.audit.models import AuditEvent, Verb
from btam.cases.demo_stories import STORIES
from btam.cases.models import Case, Status, Task
from btam.cases.tests import test_demo_cases
from btam.cases.tests.test_demo_cases import Demo, demo_user, past_evaluation
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

# The demo, loaded once for this module too, by the fixtures of the demo cases' tests.
loaded = test_demo_cases.loaded
demo = test_demo_cases.demo

Decided = Assessment.Status.DECIDED


def cases_in(demo: Demo, *statuses: str) -> list[Case]:
    return list(Case.objects.filter(district=demo.district, status__in=statuses).order_by("pk"))


def test_every_plan_belongs_to_one_story() -> None:
    named = sorted(id(story.plan) for story in STORIES if story.plan is not None)
    assert named == sorted(id(p) for p in PLANS.values())


def test_screening_cases_have_at_most_a_screening_checklist_in_progress(demo: Demo) -> None:
    started = 0
    for case in cases_in(demo, Status.SCREENING):
        rows = list(Assessment.objects.filter(case=case))
        assert len(rows) <= 1, case.number
        for row in rows:
            assert (row.instrument_id, row.status) == ("screening-checklist", Assessment.Status.DRAFT)
            started += 1
        assert not Intervention.objects.filter(case=case).exists()
    assert started >= 2


def test_evaluation_cases_have_assessments_in_progress_with_contributions_of_two_members(demo: Demo) -> None:
    drafts = Assessment.objects.filter(
        case__status=Status.EVALUATION,
        case__district=demo.district,
        status=Assessment.Status.DRAFT,
        instrument_id__in=["cstag-decision-tree", "ntac-themes"],
    )
    assert {a.instrument_id for a in drafts} == {"cstag-decision-tree", "ntac-themes"}
    shared = [a for a in drafts if Contribution.objects.filter(assessment=a).values("user").distinct().count() >= 2]
    assert len(shared) >= 2
    for assessment in drafts:
        contributions = Contribution.objects.filter(assessment=assessment)
        assert contributions.exists() and assessment.revision == contributions.count()
        assert set().union(*(c.items for c in contributions)) == set(assessment.answers)


def test_the_decision_waiting_for_approval_is_in_the_leaders_inbox_and_the_leader_may_approve_it(
    demo: Demo,
) -> None:
    waiting = Assessment.objects.get(case__district=demo.district, status=Assessment.Status.PENDING_APPROVAL)
    assert access.can_approve(demo.leader, waiting.case)
    assert not access.can_approve(demo_user("counselor"), waiting.case)
    item = Notification.objects.get(recipient=demo.leader, kind="decision_approval", read_at__isnull=True)
    assert item.link == reverse("assessments:detail", args=[waiting.case_id, waiting.pk])
    assert waiting.case.number in item.title
    # Recent: the leader sees it as new.
    assert demo.now - item.created_at < dt.timedelta(days=2)


def test_decisions_have_rationales_one_differs_from_the_suggestion_with_its_reason_and_one_has_a_dissent(
    demo: Demo,
) -> None:
    decided = Assessment.objects.filter(case__district=demo.district, status=Decided)
    assert decided.count() >= 12
    for assessment in decided:
        assert assessment.rationale and assessment.decided_by and assessment.decided_at, assessment.pk
        assert assessment.scheme_id == "virginia" and assessment.level_rank is not None
        if assessment.suggested_level and assessment.suggested_level != assessment.level:
            assert assessment.override_reason, assessment.pk
        else:
            assert not assessment.override_reason, assessment.pk
    overridden = [a for a in decided if a.override_reason]
    assert overridden and all(a.suggested_level not in ("", a.level) for a in overridden)
    # A top level decided by a member waited for a leader, who approved it; a leader's own is its own approval.
    approved = decided.filter(level="high").exclude(approved_by=None)
    assert {a.approved_by for a in approved} == {demo.leader}
    assert any(a.decided_by != a.approved_by for a in approved)
    dissent = Dissent.objects.get(assessment__case__district=demo.district)
    assert dissent.text and dissent.author == demo_user("sro") and dissent.assessment.status == Decided


def test_plans_have_owners_the_kinds_their_level_suggests_a_linked_task_and_safety_plans(demo: Demo) -> None:
    interventions = Intervention.objects.filter(case__district=demo.district)
    assert interventions.count() >= 40
    assert not interventions.filter(owner=None).exists()
    owners = set(interventions.values_list("owner__email", flat=True))
    assert {email.split("@")[0] for email in owners} >= {"leader", "counselor", "sro"}
    assert set(interventions.values_list("status", flat=True)) == set(Intervention.Status.values)
    suggested_in_plan = 0
    for case in past_evaluation(demo.district):
        _required, suggested = plan.level_rules(case)
        suggested_in_plan += interventions.filter(case=case, kind__in=suggested).count()
    assert suggested_in_plan >= 5
    linked = Task.objects.filter(case__district=demo.district, interventions__isnull=False)
    assert linked.count() >= 3
    for task in linked:
        assert task.interventions.get().case_id == task.case_id
    plans = SafetyPlan.objects.filter(case__district=demo.district)
    assert plans.count() >= 2
    for safety_plan in plans:
        sections = safety_plan.sections
        assert set(sections) <= {*plan.SECTION_IDS, plan.REVIEW_KEY} and len(sections) >= 4
        assert dt.date.fromisoformat(sections[plan.REVIEW_KEY]) > timezone.localdate(demo.now)
        assert safety_plan.case.status in (Status.MANAGEMENT, Status.MONITORING)


def test_the_due_list_has_overdue_reassessments_and_some_due_within_the_week(demo: Demo) -> None:
    today = timezone.localdate(demo.now)
    due = list(schedule.due_cases(Case.objects.filter(district=demo.district), on=today))
    overdue = [c for c in due if c.reassess_due_on and c.reassess_due_on < today]
    soon = [c for c in due if c.reassess_due_on and c.reassess_due_on >= today]
    assert overdue and soon, [(c.number, c.reassess_due_on) for c in due]
    assert all(c.status != Status.CLOSED for c in due)
    # One was moved by hand, with its reason (the reopened case: reassessed this week).
    rows = list(ReassessmentSchedule.objects.filter(case__district=demo.district).select_related("case"))
    by_hand = [row for row in rows if row.reason]
    assert len(by_hand) == 1 and by_hand[0].due_on - today <= dt.timedelta(days=7)
    assert by_hand[0].case.status == Status.MONITORING and by_hand[0].interval_days > 0  # it followed its level
    # The others follow their level's interval from the day it was decided.
    for row in rows:
        if not row.reason:
            assert row.case.risk_set_at is not None, row.case.number
            assert row.due_on == schedule.day_of(row.case.risk_set_at) + dt.timedelta(days=row.interval_days)


def test_check_ins_log_the_monitoring_and_one_raised_a_concern(demo: Demo) -> None:
    check_ins = CheckIn.objects.filter(case__district=demo.district)
    assert check_ins.count() >= 10
    assert check_ins.filter(concern=True).exists()
    assert check_ins.filter(intervention__isnull=False).exists()
    assert len(set(check_ins.values_list("method", flat=True))) >= 4
    for check_in in check_ins:
        assert check_in.occurred_on <= timezone.localdate(check_in.created_at), check_in.pk
        assert check_in.case.status in (Status.MONITORING, Status.CLOSED), check_in.case.number


def test_closed_cases_have_decided_assessments_and_ended_interventions_with_outcomes(demo: Demo) -> None:
    closed = cases_in(demo, Status.CLOSED)
    with_plan = [c for c in closed if Intervention.objects.filter(case=c).exists()]
    assert len(with_plan) >= 3
    for case in closed:
        assert not Assessment.objects.filter(case=case).exclude(status=Decided).exists(), case.number
        for item in Intervention.objects.filter(case=case):
            assert item.status in (Intervention.Status.COMPLETED, Intervention.Status.STOPPED), case.number
            assert item.outcome and item.ends_on, case.number
    stopped = Intervention.objects.filter(case__district=demo.district, status=Intervention.Status.STOPPED)
    assert stopped.exists() and all(i.case.is_closed for i in stopped)


def test_the_level_history_follows_the_decisions(demo: Demo) -> None:
    decided = Assessment.objects.filter(case__district=demo.district, status=Decided)
    changes = LevelChange.objects.filter(case__district=demo.district)
    assert changes.count() == decided.count()
    assert set(changes.values_list("assessment", flat=True)) == set(decided.values_list("pk", flat=True))
    for case_id in set(changes.values_list("case", flat=True)):
        history = list(changes.filter(case_id=case_id).order_by("set_at", "pk"))
        previous = ""
        for change in history:
            assert change.previous_level == previous, case_id
            previous = change.level
        # A reassessment follows the case's decision before it.
        later = [c.assessment for c in history[1:]]
        assert all(a is not None and a.previous_id == b.assessment_id for a, b in zip(later, history, strict=False))


def test_every_assessment_intervention_and_check_in_was_recorded_through_the_actions(demo: Demo) -> None:
    for model, target_type in (
        (Assessment, "assessments.assessment"),
        (Intervention, "assessments.intervention"),
        (CheckIn, "assessments.checkin"),
    ):
        ids = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
        created = AuditEvent.objects.filter(verb=Verb.CREATED, target_type=target_type)
        assert set(created.values_list("target_id", flat=True)) == ids, target_type


def test_the_assessment_plan_and_monitoring_pages_of_the_demo_open_for_the_leader(demo: Demo, settings: Any) -> None:
    settings.DEMO_MODE = True  # demo accounts have no second factor
    client = Client()
    client.force_login(demo.leader)
    for case in Case.objects.filter(district=demo.district).order_by("pk"):
        for name in ("assessments:case", "assessments:plan", "assessments:monitoring"):
            response = client.get(reverse(name, args=[case.pk]))
            assert response.status_code == 200, (name, case.number)
        for assessment in Assessment.objects.filter(case=case):
            response = client.get(reverse("assessments:detail", args=[case.pk, assessment.pk]))
            assert response.status_code == 200, (case.number, assessment.pk)
    with_plan = SafetyPlan.objects.filter(case__district=demo.district).first()
    assert with_plan is not None
    for readers in ("staff", "family"):
        pdf = client.get(reverse("assessments:safety_plan_pdf", args=[with_plan.case_id]), {"for": readers})
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    due = client.get(reverse("assessments:due"))
    assert due.status_code == 200
    page = due.content.decode()
    overdue = Case.objects.filter(district=demo.district, reassess_due_on__lt=timezone.localdate(demo.now))
    for case in overdue.exclude(status=Status.CLOSED):
        assert case.number in page
