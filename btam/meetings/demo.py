"""The demo district's case conferences, made through the real actions with the clock moved.

Two fictitious conferences on the most recently active open cases in management or monitoring
that the demo leader, counselor and SRO all work:

- one held just before the case's last activity and recorded right after it (the case's last
  activity moves by a minute, so the cases demo's spread of ages stays), with attendance, an
  outside participant, minutes and two decisions that became tasks of the case (owned by the
  counselor and the SRO);
- one scheduled for three days from now, to which the leader, the counselor and the SRO are invited.

Idempotent: nothing is added when the district already has conferences (returns 0), or when the
demo accounts or cases are missing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from btam.accounts.models import User
from btam.cases.models import Case, Status
from btam.core.demo import demo_accounts
from btam.lib import clock
from btam.meetings import actions
from btam.meetings.models import Meeting
from btam.orgs.models import District


def _cases(district: District, accounts: dict[str, User]) -> list[Case]:
    """Open, unrestricted cases in management or monitoring that every demo account may change,
    most recently active first."""
    cases = Case.objects.filter(
        district=district,
        restricted=False,
        merged_into__isnull=True,
        status__in=[Status.MANAGEMENT, Status.MONITORING],
    )
    for user in accounts.values():
        cases = cases.filter(pk__in=Case.objects.writable_by(user).values("pk"))
    return list(cases.order_by("-updated_at", "-pk")[:2])


def _local_at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _hour_before(at: dt.datetime, hours: int) -> dt.datetime:
    """A whole local hour at least ``hours`` before ``at``."""
    local = timezone.localtime(at - dt.timedelta(hours=hours))
    return local.replace(minute=0, second=0, microsecond=0)


def _held(case: Case, accounts: dict[str, User]) -> bool:
    """A conference held just before the case's last activity, recorded a minute after it (so the
    case's last activity stays where the cases demo left it, to the minute). Scheduled three days
    before it was held (or when the case was opened, if later). False when the case is too young."""
    leader, counselor, sro = accounts["leader"], accounts["counselor"], accounts["sro"]
    last = case.updated_at
    starts = _hour_before(last, 3)
    ends = starts + dt.timedelta(hours=1)
    scheduled = max(starts - dt.timedelta(days=3), case.opened_at + dt.timedelta(minutes=1))
    if scheduled >= starts:
        return False
    clock.freeze(scheduled)
    meeting = actions.do_schedule_meeting(
        actor=leader,
        case=case,
        starts_at=starts,
        ends_at=ends,
        location="Conference room B (demo)",
        agenda="1. What changed since the last review\n2. Check-ins and supervision\n3. Next steps and owners",
        invitees=[leader, counselor, sro],
    )
    recorded = last + dt.timedelta(minutes=1)
    clock.freeze(recorded)
    due = timezone.localdate(recorded) + dt.timedelta(days=7)
    actions.do_record_meeting(
        actor=leader,
        meeting=meeting,
        minutes=(
            "Fictitious demo minutes. The counselor reported steady weekly check-ins; no new concern from "
            "teachers. The SRO saw nothing new. The team keeps the plan as it is and reviews it again in "
            "two weeks."
        ),
        attendance={leader.pk: "present", counselor.pk: "present", sro.pk: "excused"},
        outside_participants="Parent (by phone)",
        decisions=[
            actions.DecisionInput("Keep the weekly check-ins and add a note after each", counselor, due),
            actions.DecisionInput("Confirm the arrival and dismissal supervision with the front office", sro, due),
        ],
    )
    return True


def _upcoming(case: Case, accounts: dict[str, User], now: dt.datetime) -> None:
    """A conference three days from now, scheduled a minute after the case's last activity."""
    leader = accounts["leader"]
    case.refresh_from_db()
    clock.freeze(min(case.updated_at + dt.timedelta(minutes=1), now))
    starts = _local_at(timezone.localdate(now) + dt.timedelta(days=3), 14)
    actions.do_schedule_meeting(
        actor=leader,
        case=case,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=45),
        location="Counseling office (demo)",
        agenda="Review of the plan before the reassessment; the family joins for the second half.",
        invitees=[leader, accounts["counselor"], accounts["sro"]],
    )


def load_demo_meetings(district: District) -> int:
    """Add the demo meetings to the district; returns how many were added (0 when already loaded)."""
    if Meeting.objects.filter(district=district).exists():
        return 0
    accounts = demo_accounts("leader", "counselor", "sro")
    if set(accounts) != {"leader", "counselor", "sro"}:
        return 0
    made = 0
    with clock.restored(), transaction.atomic():
        now = clock.now()
        cases = _cases(district, accounts)
        if not cases:
            return 0
        if _held(cases[0], accounts):
            made += 1
        _upcoming(cases[-1], accounts, now)
        made += 1
    return made
