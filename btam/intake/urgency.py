"""Urgency from the reporter's answers. Staff may change it afterwards, with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from btam.intake.models import Urgency, YesNoUnknown

# A threatened event this many days ahead or fewer is urgent; a later date is elevated.
THREAT_DATE_URGENT_DAYS = 7


@dataclass(frozen=True)
class Answers:
    danger_now: bool
    weapon: str
    self_harm: str
    threat_date: dt.date | None


def assess(answers: Answers, *, today: dt.date) -> tuple[int, list[str]]:
    """(urgency, reasons): the reasons are stable codes shown in the queue ("danger_now" ...)."""
    reasons: list[str] = []
    level = Urgency.ROUTINE
    if answers.danger_now:
        reasons.append("danger_now")
        level = Urgency.EMERGENCY
    if answers.weapon == YesNoUnknown.YES:
        reasons.append("weapon")
        level = max(level, Urgency.URGENT)
    elif answers.weapon == YesNoUnknown.UNKNOWN:
        reasons.append("weapon_unknown")
        level = max(level, Urgency.ELEVATED)
    if answers.self_harm == YesNoUnknown.YES:
        reasons.append("self_harm")
        level = max(level, Urgency.URGENT)
    elif answers.self_harm == YesNoUnknown.UNKNOWN:
        reasons.append("self_harm_unknown")
        level = max(level, Urgency.ELEVATED)
    if answers.threat_date is not None:
        days = (answers.threat_date - today).days
        if 0 <= days <= THREAT_DATE_URGENT_DAYS:
            reasons.append("threat_date_soon")
            level = max(level, Urgency.URGENT)
        elif days > THREAT_DATE_URGENT_DAYS:
            reasons.append("threat_date")
            level = max(level, Urgency.ELEVATED)
    return int(level), reasons


REASON_LABELS = {
    "danger_now": "Someone is in danger now",
    "weapon": "A weapon is involved",
    "weapon_unknown": "A weapon may be involved",
    "self_harm": "Someone may hurt themselves",
    "self_harm_unknown": "Self-harm not ruled out",
    "threat_date_soon": "A threatened event within a week",
    "threat_date": "A threatened event on a date",
}
