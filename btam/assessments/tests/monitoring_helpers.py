"""Shared set-up of the monitoring, schedule and reminder tests: a case at a level (put into effect
by the decision's own ``apply_level``), an intervention, a decided assessment, fixed days."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from btam.accounts.models import User
from btam.assessments import levels
from btam.assessments.decision_actions import apply_level
from btam.assessments.models import Assessment, Intervention, ReassessmentSchedule
from btam.cases.models import Case
from btam.lib import clock


def at(day: str, hour: int = 12, minute: int = 0) -> dt.datetime:
    """``hour``:``minute`` of an ISO date in the site's time zone."""
    return dt.datetime.combine(
        dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def set_level(
    case: Case, actor: User, level_id: str = "high", *, scheme_id: str = "virginia", when: dt.datetime | None = None
) -> ReassessmentSchedule:
    """Put ``level_id`` into effect on ``case`` as a decision does (risk fields, history, schedule)."""
    scheme = levels.registry_for(case.district_id).scheme(scheme_id)
    with transaction.atomic():
        apply_level(
            actor=actor,
            case=case,
            assessment=None,
            scheme=scheme,
            level_id=level_id,
            rationale="Reviewed by the team.",
            at=when or clock.now(),
        )
    case.refresh_from_db()
    return ReassessmentSchedule.objects.get(case=case)


def add_intervention(case: Case, actor: User, kind: str = "wellness-check") -> Intervention:
    now = clock.now()
    return Intervention.objects.create(
        case=case, kind=kind, created_by=actor, created_at=now, updated_at=now, starts_on=now.date()
    )


def decided_assessment(case: Case, actor: User, instrument_id: str = "cstag-decision-tree") -> Assessment:
    now = clock.now()
    return Assessment.objects.create(
        case=case,
        district_id=case.district_id,
        instrument_id=instrument_id,
        instrument_version=1,
        instrument_kind="decision_tree",
        status=Assessment.Status.DECIDED,
        started_by=actor,
        started_at=now,
        updated_at=now,
        decided_by=actor,
        decided_at=now,
        level="high",
    )
