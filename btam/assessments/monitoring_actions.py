"""Monitoring a case: the check-in log and the reassessment date set by hand.

A check-in is a dated contact with the subject or about them (in person, by phone, with a parent,
a staff report, a records review), optionally for one of the case's interventions, with a summary
(encrypted) and whether it raised a new concern. A concern notifies nobody (the person writing it
acts on it, and the team reassesses); the monitoring tab shows it prominently.

The next reassessment follows the level's interval (``schedule.schedule_from_level``, from the
decision); the team may move it by hand with a reason (kept encrypted on the schedule). Both
actions lock the case, refuse a closed or merged case, write an audit event without free text and
touch the case, in one transaction; a refused change raises :class:`CaseError` and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from btam.assessments import schedule
from btam.assessments.models import CheckIn, Intervention, ReassessmentSchedule
from btam.audit.models import Verb
from btam.cases.actions import MAX_REASON_CHARS, CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_CHECK_IN_CHARS = 20_000
# A check-in's date: the day it happened, never in the future, nor before this (a typing mistake).
EARLIEST_CHECK_IN_DATE = dt.date(1990, 1, 1)
# A reassessment date further out than this is a typing mistake (2207 for 2027).
MAX_REASSESS_DAYS = 366 * 2


def _clean_date(occurred_on: dt.date | None) -> dt.date:
    if occurred_on is None:
        raise CaseError(_("Enter the date of the check-in."))
    if occurred_on > schedule.today():
        raise CaseError(_("The check-in date cannot be in the future: record a check-in once it has happened."))
    if occurred_on < EARLIEST_CHECK_IN_DATE:
        raise CaseError(
            _("The check-in date cannot be before %(date)s.") % {"date": EARLIEST_CHECK_IN_DATE.isoformat()}
        )
    return occurred_on


def _clean_method(method: str) -> str:
    if method not in CheckIn.Method.values:
        raise CaseError(_("Choose how the check-in happened."))
    return method


def _clean_summary(summary: str) -> str:
    return clean_text(summary, label=_("The summary"), max_chars=MAX_CHECK_IN_CHARS, required=True)


def _check_intervention(case: Case, intervention: Intervention | None) -> Intervention | None:
    """The intervention must be one of this case's (a stale form may name one that is gone)."""
    if intervention is None:
        return None
    fresh = Intervention.objects.filter(pk=intervention.pk, case_id=case.pk).first()
    if fresh is None:
        raise CaseError(_("Choose one of this case's interventions, or none."))
    return fresh


def _check_in_state(check_in: CheckIn) -> dict[str, Any]:
    """The audited state of a check-in (no summary: it is free text)."""
    return {
        "occurred_on": check_in.occurred_on.isoformat(),
        "method": check_in.method,
        "concern": check_in.concern,
        "intervention": check_in.intervention_id,
    }


def do_add_check_in(
    *,
    actor: User,
    case: Case,
    occurred_on: dt.date | None,
    method: str,
    summary: str,
    concern: bool = False,
    intervention: Intervention | None = None,
) -> CheckIn:
    """Log a check-in. A new concern is recorded and shown; it notifies nobody."""
    occurred_on = _clean_date(occurred_on)
    method = _clean_method(method)
    summary = _clean_summary(summary)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        intervention = _check_intervention(case, intervention)
        at = clock.now()
        check_in = CheckIn.objects.create(
            case=case,
            intervention=intervention,
            occurred_on=occurred_on,
            method=method,
            summary=summary,
            concern=bool(concern),
            author=actor,
            created_at=at,
        )
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=check_in,
            after=_check_in_state(check_in),
            detail={"check_in": check_in.pk, "concern": check_in.concern},
        )
        touch(case, at)
    return check_in


def _clean_due(due_on: dt.date | None) -> dt.date:
    if due_on is None:
        raise CaseError(_("Enter the date of the next reassessment."))
    now = schedule.today()
    if due_on < now:
        raise CaseError(_("The reassessment date has passed: choose today or a later day."))
    if due_on > now + dt.timedelta(days=MAX_REASSESS_DAYS):
        raise CaseError(_("The reassessment date is more than two years away: check the year."))
    return due_on


def _schedule_state(found: ReassessmentSchedule | None) -> dict[str, Any]:
    if found is None:
        return {"due_on": None}
    return {"due_on": found.due_on.isoformat(), "interval_days": found.interval_days, "by_hand": bool(found.reason)}


def do_set_reassessment_date(*, actor: User, case: Case, due_on: dt.date | None, reason: str) -> ReassessmentSchedule:
    """Move the next reassessment to ``due_on`` (today or later) for a written reason. A case
    without a level yet gets a schedule too (its interval stays 0: no level's interval applies).
    The reminder of the day starts again for the new date."""
    due_on = _clean_due(due_on)
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        found = ReassessmentSchedule.objects.select_for_update().filter(case_id=case.pk).first()
        if found is not None and found.due_on == due_on:
            raise CaseError(
                _("The next reassessment is already due on %(date)s. Nothing was changed.")
                % {"date": due_on.isoformat()}
            )
        before = _schedule_state(found)
        at = clock.now()
        if found is None:
            found = ReassessmentSchedule(case=case, district_id=case.district_id, interval_days=0)
        found.due_on = due_on
        found.set_by, found.set_at = actor, at
        found.reason = reason
        found.reminded_on = None
        found.save()
        Case.objects.filter(pk=case.pk).update(reassess_due_on=due_on)
        case.reassess_due_on = due_on
        audit(
            actor=actor,
            case=case,
            target=found,
            before=before,
            after=_schedule_state(found),
            detail={"reassessment_schedule": found.pk, "by_hand": True, "reason_given": True},
        )
        touch(case, at)
    return found
