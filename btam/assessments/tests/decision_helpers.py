"""Shared set-up of the assessment and decision tests: a case, assessments started and answered
through the real actions, the decision tree's paths, a second version of an instrument."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from btam.accounts.models import User
from btam.assessments import decision_actions, definitions
from btam.assessments.models import Assessment, CustomDefinition
from btam.cases.models import Case
from btam.lib import clock

TREE = "cstag-decision-tree"
CHECKLIST = "screening-checklist"
THEMES = "ntac-themes"
HTMX = {"HX-Request": "true"}
RATIONALE = "Fictitious rationale: the team weighed the interviews and the records."

# Answers of the decision tree reaching each outcome (Virginia: low, moderate, high).
TRANSIENT = {"step-1-evaluate": "expression-only", "step-2-resolve": "resolved"}
SERIOUS = {"step-1-evaluate": "intent-or-unclear", "step-3-respond": "hurt-without-weapon"}
VERY_SERIOUS = {
    "step-1-evaluate": "intent-or-unclear",
    "step-3-respond": "kill-weapon-serious-injury",
    "step-4-safety-evaluation": "precautions-taken",
    "step-5-safety-plan": "plan-in-place",
}


def start(case: Case, actor: User, instrument_id: str = TREE, **kwargs: Any) -> Assessment:
    return decision_actions.do_start_assessment(actor=actor, case=case, instrument_id=instrument_id, **kwargs)


def answer(assessment: Assessment, actor: User, answers: dict[str, Any]) -> Assessment:
    assessment.refresh_from_db()
    saved, _changed = decision_actions.do_save_answers(
        actor=actor, assessment=assessment, answers=answers, revision=assessment.revision
    )
    return saved


def decide(
    assessment: Assessment, actor: User, level: str, *, override: str = "", rationale: str = RATIONALE
) -> Assessment:
    """Record a decision on the assessment as it is saved now (its current revision)."""
    assessment.refresh_from_db()
    return decision_actions.do_record_decision(
        actor=actor,
        assessment=assessment,
        level_id=level,
        rationale=rationale,
        override_reason=override,
        revision=assessment.revision,
    )


def decided(
    case: Case, actor: User, answers: dict[str, Any], level: str, *, override: str = "", **kwargs: Any
) -> Assessment:
    """An assessment of the decision tree started, answered and decided (by ``actor``)."""
    assessment = start(case, actor, **kwargs)
    answer(assessment, actor, answers)
    return decide(assessment, actor, level, override=override)


def tree_v2(*, step_text: str = "Version two: evaluate the threat.") -> dict[str, Any]:
    """The shipped decision tree as a version 2 with another first question."""
    path = definitions.INSTRUMENTS_DIR / f"{TREE}.v1.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["version"] = 2
    data["steps"][0]["text"] = {"en": step_text}
    return data


def publish_tree_v2(district: Any, by: User, **kwargs: Any) -> CustomDefinition:
    """A district's own version 2 of the decision tree (as settings would store it)."""
    return CustomDefinition.objects.create(
        district=district,
        definition_id=TREE,
        version=2,
        kind="decision_tree",
        content=tree_v2(**kwargs),
        file_name=f"{TREE}.v2.json",
        uploaded_by=by,
        uploaded_at=clock.now(),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
