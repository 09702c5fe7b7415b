"""Escalation of an urgent report until someone acknowledges it.

The chain is data (:data:`STEPS`): each step names a group and a function that says who is in it
for a report. Step 0 runs at once; each later step runs ``BTAM_ESCALATION_MINUTES`` (15) after
the previous one that notified somebody, unless the report was acknowledged in between:

0. ``rapid_response``: the school's rapid-response members (named on the school, or district-wide)
   and the school team's rapid-response subgroup;
1. ``team_leader``: the school's team leaders (named on the school, and the school team's leader;
   if none, the district-wide ones). When every one of them is away today, the team's deputy is
   told at this step too (directly, without waiting an interval);
2. ``deputy``: the deputy of the school's team, else of the district team (skipped when none);
3. ``district``: the district-wide team leaders and team members.

Who can open the report: a step tells only the people it finds who can open the report
(``Report.objects.visible_to``); the others are left out and listed under ``cannot_open`` in the
history, and a step where nobody found can open it is skipped like an empty one (it does not
count as notified, and the next step runs at once).

Availability: every step's notification is urgent, so ``notify`` sends what is meant for someone
away today to their backups who can open the report instead
(``btam.teams.availability.route_urgent``; the away person still gets it when no backup is
available). With the leader away the chain thus reaches the
deputy at step 1 (directly, and also as the leader's backup when the leader named them), and
again at step 2. The history records who was actually told.

A step that finds nobody is recorded as skipped and the next one runs at once: nobody waits 15
minutes for no one. The district step runs even if its people were told at an earlier step (they
are told again: the report is still not acknowledged).

Every pending step is an outbox message (kind :data:`STEP_KIND`, due at its time, dedupe key
``escalation:<id>:<step>``), so it survives a restart of every process. The worker's sweep runs
every 30 s, so a step fires at most about 30 s after it is due, even when the task queued at
commit time was lost. The handler locks the escalation row, does nothing if the escalation was
acknowledged or the step has run already, and otherwise notifies, records and queues the next
step in one transaction: a re-delivery (a worker killed after the commit) changes nothing, and a
worker killed before the commit leaves the message to be delivered again after the lease.

Times are anchored: the next step is due one interval after the *due time* of the step that
notified, not after the moment the worker ran it, so sweep delays do not add up along the chain.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake.models import Report
from btam.lib import clock
from btam.notifications import recipients
from btam.notifications.delivery import in_site_language, notify, report_path
from btam.notifications.models import Escalation, Notification
from btam.teams import escalation_groups as team_groups
from btam.teams.availability import who_can_see
from btam.worker import outbox

if TYPE_CHECKING:
    from btam.accounts.models import User

logger = logging.getLogger(__name__)

STEP_KIND = "notifications.escalation_step"
REPORT_TARGET = "intake.report"
DEFAULT_INTERVAL_MINUTES = 15

State = Escalation.State


def interval() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "BTAM_ESCALATION_MINUTES", DEFAULT_INTERVAL_MINUTES)))


# Who each step tells ---------------------------------------------------------------------------


def _merge(*groups: list[User]) -> list[User]:
    """The people of every group, once each, in order."""
    seen: set[int] = set()
    merged: list[User] = []
    for group in groups:
        for user in group:
            if user.pk not in seen:
                seen.add(user.pk)
                merged.append(user)
    return merged


def rapid_response(report: Report) -> list[User]:
    return _merge(
        recipients.covering_school(report.school, [Role.RAPID_RESPONSE]),
        team_groups.rapid_response_subgroup(report.school),
    )


def team_leaders(report: Report) -> list[User]:
    named = _merge(
        recipients.named_at_school(report.school, [Role.TEAM_LEADER]), team_groups.school_leader(report.school)
    )
    leaders = named or recipients.district_wide(report.district_id, [Role.TEAM_LEADER])
    return _merge(leaders, team_groups.deputy_if_leaders_away(report.school, leaders))


def deputies(report: Report) -> list[User]:
    """The deputy of the school's team, else of the district team (btam.teams); skipped when none."""
    return team_groups.deputy(report.school)


def district_team(report: Report) -> list[User]:
    return recipients.district_wide(report.district_id, [Role.TEAM_LEADER, Role.TEAM_MEMBER])


@dataclass(frozen=True)
class Step:
    group: str
    resolve: Callable[[Report], list[User]]
    # Recorded in the history when the step finds nobody (stable English, like a log line).
    nobody: str


STEPS: list[Step] = [
    Step("rapid_response", rapid_response, "no rapid-response member"),
    Step("team_leader", team_leaders, "no team leader"),
    Step("deputy", deputies, "no deputy designated"),
    Step("district", district_team, "no district-wide team leader or member"),
]


# Starting, acknowledging -----------------------------------------------------------------------


def _settled(report: Report) -> bool:
    """Someone has acted on the report (or it was marked abuse): nothing is left to escalate."""
    return report.acknowledged_at is not None or report.status != Report.Status.NEW or report.is_abuse


@in_site_language
def start_for_report(report: Report) -> None:
    """Start the escalation of an urgent report (at intake, or when staff raise its urgency).

    Idempotent: one running escalation per report, and its pending step is queued once. A report
    that is already acknowledged escalates no further; its school's rapid-response members are
    still told, once, that it is now urgent. A report referred to another school is new there:
    once the referring team's escalation is acknowledged, this starts a fresh one for the new school.
    """
    with transaction.atomic():
        if _settled(report):
            if not report.is_abuse:
                _notify_now_urgent(report)
            return
        at = clock.now()
        escalation, _created = Escalation.objects.get_or_create(
            target_type=REPORT_TARGET,
            target_id=str(report.pk),
            state__in=Escalation.OPEN_STATES,
            defaults={"district_id": report.district_id, "started_at": at, "next_step_at": at, "step": 0},
        )
        if escalation.state == State.ACTIVE and escalation.next_step_at is not None:
            _queue_step(escalation, escalation.step, escalation.next_step_at)


def _notify_now_urgent(report: Report) -> None:
    notify(
        recipients=who_can_see(rapid_response(report), report),
        district_id=report.district_id,
        kind=Notification.Kind.URGENT_REPORT,
        title=_("A report for %(school)s is now urgent and needs attention") % {"school": report.school.name},
        link=report_path(report),
        target=report,
        urgent=True,
        dedupe_scope=f"report:{report.pk}:now-urgent",
        email=True,
    )


def acknowledge(*, target: models.Model, actor: User) -> bool:
    """Stop the escalation of ``target``: no further step fires. True if one was running.

    Call it in the transaction of the acknowledgement. Step messages still queued find the
    escalation acknowledged and do nothing.
    """
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update()
            .filter(target_type=target._meta.label_lower, target_id=str(target.pk), state__in=Escalation.OPEN_STATES)
            .first()
        )
        if escalation is None or not escalation.can_transition_to(State.ACKNOWLEDGED):
            return False
        before = {"state": escalation.state, "step": escalation.step}
        escalation.state = State.ACKNOWLEDGED
        escalation.acknowledged_at = clock.now()
        escalation.acknowledged_by = actor
        escalation.next_step_at = None
        escalation.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "next_step_at"])
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=escalation,
            before=before,
            after={"state": escalation.state},
            detail={"target_type": escalation.target_type, "target_id": escalation.target_id},
        )
    return True


# Running a step (the outbox handler) -----------------------------------------------------------


def _queue_step(escalation: Escalation, step: int, due: dt.datetime) -> None:
    outbox.enqueue(
        kind=STEP_KIND,
        payload={"escalation": escalation.pk, "step": step},
        dedupe_key=f"escalation:{escalation.pk}:{step}",
        district_id=escalation.district_id,
        not_before=due,
    )


def _title(report: Report, elapsed: dt.timedelta) -> tuple[str, str]:
    """(kind, title) of a step's notification: generic text, the school's name only."""
    school = report.school.name
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 1:
        if report.urgency_set_by_staff:
            title = _("A report for %(school)s is now urgent and needs attention") % {"school": school}
        else:
            title = _("A new urgent report for %(school)s needs attention") % {"school": school}
        return Notification.Kind.URGENT_REPORT, title
    title = ngettext(
        "Urgent report for %(school)s not acknowledged after %(minutes)d minute",
        "Urgent report for %(school)s not acknowledged after %(minutes)d minutes",
        minutes,
    ) % {"school": school, "minutes": minutes}
    return Notification.Kind.ESCALATION, title


def _entry(step: int, outcome: str, due: dt.datetime, at: dt.datetime, **extra: object) -> dict[str, object]:
    return {
        "step": step,
        "group": STEPS[step].group if step < len(STEPS) else "",
        "outcome": outcome,
        "due": due.isoformat(),
        "at": at.isoformat(),
        **extra,
    }


@in_site_language
def run_step(escalation_id: int, step: int) -> None:
    """Run step ``step`` of an escalation, if it is still due. Safe to call any number of times."""
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().filter(pk=escalation_id).first()
        if escalation is None or escalation.state != State.ACTIVE or escalation.step != step:
            return  # acknowledged, finished, or this step has run already
        at = clock.now()
        due = escalation.next_step_at or at
        report = (
            Report.objects.select_related("school").filter(pk=escalation.target_id).first()
            if escalation.target_type == REPORT_TARGET
            else None
        )
        if report is None:
            escalation.history.append(_entry(step, "stopped", due, at, note="target no longer exists"))
            _finish(escalation, State.EXHAUSTED)
            return
        if _settled(report):
            # Acknowledged without telling us (a race with the start): stop as acknowledged.
            escalation.history.append(_entry(step, "stopped", due, at, note="report already handled"))
            escalation.acknowledged_at = report.acknowledged_at or at
            escalation.acknowledged_by_id = report.acknowledged_by_id
            _finish(escalation, State.ACKNOWLEDGED)
            return
        while step < len(STEPS):
            found = STEPS[step].resolve(report)
            # Only people who can open the report count: telling someone who would get a 404 is
            # telling nobody (a team role that no longer covers the school, a restricted case).
            people = who_can_see(found, report)
            able = {u.pk for u in people}
            unable = [u.pk for u in found if u.pk not in able]
            if not people:
                note = STEPS[step].nobody if not found else "nobody found can open the report"
                escalation.history.append(_entry(step, "skipped", due, at, note=note, cannot_open=unable))
                step += 1
                continue
            kind, title = _title(report, due - escalation.started_at)
            told = notify(
                recipients=people,
                district_id=report.district_id,
                kind=kind,
                title=title,
                link=report_path(report),
                target=report,
                urgent=True,
                dedupe_scope=f"escalation:{escalation.pk}:step:{step}",
                email=True,
            )
            # Who was actually told: an away person's backups stand in for them (btam.teams).
            extra: dict[str, object] = {"cannot_open": unable} if unable else {}
            escalation.history.append(
                _entry(step, "notified", due, at, recipients=[item.recipient_id for item in told], **extra)
            )
            step += 1
            due += interval()
            break
        escalation.step = step
        if step >= len(STEPS):
            if not any(entry.get("outcome") == "notified" for entry in escalation.history):
                logger.error("Escalation %s found nobody to notify at any step", escalation.pk)
            _finish(escalation, State.EXHAUSTED)
            return
        escalation.next_step_at = due
        escalation.save(update_fields=["step", "next_step_at", "history"])
        _queue_step(escalation, step, due)


def _finish(escalation: Escalation, state: str) -> None:
    escalation.state = state
    escalation.next_step_at = None
    escalation.save()
