"""The reassessment schedule of a case: when it is next due, how that is worded, and which open
cases are due.

A decision that puts a level into effect (``decision_actions.apply_level``) calls
:func:`schedule_from_level` inside its own transaction: the next reassessment is due the level's
interval after the decision's day (``levels.reassess_days``: the district's setting over the
scheme's default, e.g. Virginia imminent 1 day, high 7, moderate 30, low 90). The team may move
the date by hand with a reason (``monitoring_actions.do_set_reassessment_date``). The date is
kept twice: on :class:`~btam.assessments.models.ReassessmentSchedule` (one per case, with who set
it and the last reminder day) and on ``Case.reassess_due_on`` (lists and filters read it without a
join). Days are counted in the site's time zone (``settings.TIME_ZONE``), as task due dates are.

Closed and merged cases are never due (:func:`due_cases` filters on them); a reopened case keeps
its date, so a reopened case past its date shows as overdue at once.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.assessments import levels
from btam.assessments.models import ReassessmentSchedule
from btam.cases.models import Case, CaseQuerySet, Status
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.assessments.definitions import LevelScheme

# The due list shows reassessments due within this many days (and every overdue one).
DUE_SOON_DAYS = 7


def today() -> dt.date:
    """Today in the site's time zone."""
    return timezone.localdate(clock.now())


def day_of(at: dt.datetime) -> dt.date:
    """The site's calendar day of a moment (a decision at 11 pm in New York counts that day)."""
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


def schedule_from_level(
    *, actor: User, case: Case, scheme: LevelScheme, level_id: str, at: dt.datetime
) -> ReassessmentSchedule:
    """Set the case's next reassessment from the level that takes effect at ``at``: due the level's
    interval after that day. Creates or updates the case's schedule and ``case.reassess_due_on``,
    clears the reason of a date set by hand and the last reminder day.

    Called by the decision inside its transaction (with the case locked); no transaction and no
    audit event of its own: the caller's decision is audited. ``KeyError`` for a level outside
    ``scheme`` (the decision has refused one before).
    """
    days = levels.reassess_days(case.district_id, scheme, level_id)
    due = day_of(at) + dt.timedelta(days=days)
    schedule, _created = ReassessmentSchedule.objects.update_or_create(
        case=case,
        defaults={
            "district_id": case.district_id,
            "due_on": due,
            "interval_days": days,
            "set_by": actor,
            "set_at": at,
            "reminded_on": None,
            "reason": "",
        },
    )
    Case.objects.filter(pk=case.pk).update(reassess_due_on=due)
    case.reassess_due_on = due
    return schedule


def clear_schedule(case: Case) -> None:
    """Forget the case's schedule (no reassessment is due any more). Call it in the caller's
    transaction; closing a case does not need it (closed cases are never listed as due)."""
    ReassessmentSchedule.objects.filter(case_id=case.pk).delete()
    Case.objects.filter(pk=case.pk).update(reassess_due_on=None)
    case.reassess_due_on = None


def schedule_of(case: Case) -> ReassessmentSchedule | None:
    return ReassessmentSchedule.objects.filter(case_id=case.pk).select_related("set_by").first()


# Wording ------------------------------------------------------------------------------------------


def days_left(due_on: dt.date, on: dt.date | None = None) -> int:
    """Days until ``due_on`` (0 today, negative when overdue)."""
    return (due_on - (on or today())).days


def is_overdue(due_on: dt.date | None, on: dt.date | None = None) -> bool:
    return due_on is not None and days_left(due_on, on) < 0


def due_in_words(due_on: dt.date, on: dt.date | None = None) -> str:
    """ "Due today", "Due tomorrow", "Due in 5 days", "1 day overdue", "12 days overdue"."""
    left = days_left(due_on, on)
    if left == 0:
        return _("Due today")
    if left == 1:
        return _("Due tomorrow")
    if left > 1:
        return ngettext("Due in %(count)d day", "Due in %(count)d days", left) % {"count": left}
    late = -left
    return ngettext("%(count)d day overdue", "%(count)d days overdue", late) % {"count": late}


def interval_in_words(days: int) -> str:
    if days == 1:
        return _("every day")
    if days % 7 == 0 and days < 90:
        weeks = days // 7
        return ngettext("every week", "every %(count)d weeks", weeks) % {"count": weeks}
    return ngettext("every %(count)d day", "every %(count)d days", days) % {"count": days}


# Which cases are due ------------------------------------------------------------------------------


def open_cases(qs: CaseQuerySet | None = None) -> CaseQuerySet:
    """Cases that can still be reassessed: not closed, not merged."""
    base = qs if qs is not None else Case.objects.all()
    return base.exclude(status=Status.CLOSED).filter(merged_into__isnull=True)


def due_cases(qs: CaseQuerySet, *, on: dt.date | None = None, within_days: int = DUE_SOON_DAYS) -> CaseQuerySet:
    """Open cases of ``qs`` due for reassessment by ``on`` + ``within_days`` (overdue included),
    the most overdue first."""
    limit = (on or today()) + dt.timedelta(days=within_days)
    return (
        open_cases(qs)
        .filter(reassess_due_on__isnull=False, reassess_due_on__lte=limit)
        .order_by("reassess_due_on", "pk")
    )


def not_reminded(on: dt.date) -> Q:
    """Schedules without a reminder on ``on`` yet."""
    return Q(reminded_on__isnull=True) | Q(reminded_on__lt=on)
