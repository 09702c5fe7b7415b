"""Reassessment reminders, run by the worker (``PeriodicJob("reassessment-reminders")``, hourly).

Each run finds the open cases due for reassessment today or overdue that have had no reminder
today, and tells the case manager (else, without an active manager who can still see the case,
the case's team leaders) through the inbox and by email: "Reassessment due: case 2026-0042" or
"Reassessment overdue: case 2026-0042", nothing more. An overdue reassessment at one of the
scheme's levels that need a leader's approval (Virginia high and imminent) is urgent.

At most one reminder per case and day, whatever the number of workers or runs: each case is
claimed with a conditional update of ``reminded_on`` in the transaction that writes the
notifications (the loser of two workers updates no row and moves on; a crash rolls the claim back
and the next run reminds), and the notifications' dedupe key names the case and the day.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from btam.assessments import levels, schedule
from btam.assessments.models import ReassessmentSchedule
from btam.cases import access
from btam.cases.models import Case
from btam.notifications.delivery import in_site_language, notify

if TYPE_CHECKING:
    from btam.accounts.models import User

logger = logging.getLogger(__name__)

KIND = "reassessment_due"


def recipients_for(case: Case) -> list[User]:
    """The case manager while active and still able to see the case; else its team leaders."""
    manager = case.manager
    if manager is not None and manager.is_active and Case.objects.visible_to(manager).filter(pk=case.pk).exists():
        return [manager]
    return access.leaders_of(case)


class _Urgency:
    """Whether a case's level is one of its scheme's top levels (those needing a leader's approval),
    the registry read once per district and run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, str], bool] = {}

    def high(self, case: Case) -> bool:
        if not case.risk_level:
            return False
        key = (case.district_id, case.risk_scheme or levels.DEFAULT_SCHEME, case.risk_level)
        if key not in self._cache:
            try:
                scheme = levels.registry_for(case.district_id).scheme(key[1])
                self._cache[key] = scheme.level(key[2]).approval
            except Exception:  # a scheme the district no longer has: treat the level as not high
                logger.warning("Reassessment reminder: level %s of scheme %s not found", key[2], key[1])
                self._cache[key] = False
        return self._cache[key]


def monitoring_path(case: Case) -> str:
    return reverse("assessments:monitoring", args=[case.pk])


@in_site_language
def _remind(schedule_id: int, on: dt.date, urgency: _Urgency) -> bool:
    """Claim one schedule for ``on`` and notify; False when another run took it (or it no longer
    qualifies: the case closed, the date moved)."""
    with transaction.atomic():
        claimed = (
            ReassessmentSchedule.objects.filter(
                schedule.not_reminded(on),
                pk=schedule_id,
                due_on__lte=on,
                case__in=schedule.open_cases(),
            ).update(reminded_on=on)
            == 1
        )
        if not claimed:
            return False
        found = ReassessmentSchedule.objects.select_related("case", "case__manager", "case__school").get(pk=schedule_id)
        case = found.case
        overdue = schedule.is_overdue(found.due_on, on)
        title = (_("Reassessment overdue: case %(number)s") if overdue else _("Reassessment due: case %(number)s")) % {
            "number": case.number
        }
        notify(
            recipients=recipients_for(case),
            district_id=case.district_id,
            kind=KIND,
            title=title,
            link=monitoring_path(case),
            target=case,
            urgent=overdue and urgency.high(case),
            dedupe_scope=f"case:{case.pk}:reassessment:{on.isoformat()}",
            email=True,
        )
    return True


def send_reminders(on: dt.date | None = None) -> int:
    """Remind every open case due by ``on`` (today) and not reminded that day; the number reminded.
    One case's failure is logged and does not stop the others (it is retried at the next run)."""
    on = on or schedule.today()
    ids = list(
        ReassessmentSchedule.objects.filter(schedule.not_reminded(on), due_on__lte=on, case__in=schedule.open_cases())
        .order_by("due_on", "pk")
        .values_list("pk", flat=True)
    )
    urgency = _Urgency()
    sent = 0
    for schedule_id in ids:
        try:
            sent += _remind(schedule_id, on, urgency)
        except Exception:
            logger.exception("Reassessment reminder for schedule %s failed; retried at the next run", schedule_id)
    return sent


@task(queue_name="default")
def send_reassessment_reminders() -> int:
    """Hourly: remind the cases due for reassessment today or overdue (once a day each)."""
    return send_reminders()
