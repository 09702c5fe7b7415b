"""Triage decisions: what the school's team decides about a report.

Every decision is a ``do_*`` function: keyword-only, ``actor=`` required, one transaction that
locks the report row (``select_for_update``), checks the move against the report's transition
table (``Report.can_transition_to``), changes the report, and records both a
:class:`~btam.intake.models.TriageDecision` (the history shown on the report page; its reason is
encrypted at rest) and an :class:`~btam.audit.models.AuditEvent`. The audit event names the
decision row and says whether a reason was given, but does not copy the reason: a reason can
describe a student, and the audit trail stores plain text.

The caller has fetched the report through ``access.get_report_for_user`` (a report of another
school is a 404 before any of this runs); the lock checks it again, since a concurrent referral
may have moved the report to another school in between. A decision that cannot be taken raises
:class:`TriageError` with a message for the user; nothing is written then.

The first decision taken on a new report (acknowledging it, or screening it out, marking it a
duplicate... directly) records who looked at it and when, and stops its urgent escalation
(``notifications.escalation.acknowledge``); so does marking it as abuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.intake.models import URGENT_THRESHOLD, Report, SurgeGroup, TriageDecision, Urgency
from btam.lib import clock
from btam.notifications import escalation

if TYPE_CHECKING:
    import datetime as dt

    from btam.accounts.models import User
    from btam.orgs.models import School

MAX_REASON_CHARS = 2000
# How far a chain of duplicates is followed when looking for a loop.
MAX_DUPLICATE_CHAIN = 1000

Status = Report.Status
Kind = TriageDecision.Kind


class TriageError(Exception):
    """A decision that cannot be taken; the message is for the user."""


# Helpers ------------------------------------------------------------------------------------------


def clean_reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise TriageError(_("Give a reason."))
    if len(reason) > MAX_REASON_CHARS:
        raise TriageError(_("The reason is too long: at most %(max)d characters.") % {"max": MAX_REASON_CHARS})
    return reason


def _lock(report: Report, actor: User) -> Report:
    """The report's row, locked until the commit, as it is now in the database, if ``actor``'s team
    still works it.

    The caller fetched the report through ``access.get_report_for_user``, but another request may
    have moved it since (a referral to a school the actor does not work commits while this request
    waits for the lock): visibility is checked again on the locked row, so a decision never lands
    on a report of another school (it would, say, acknowledge it and stop the escalation that the
    receiving school's team has just been sent).
    """
    locked = Report.objects.visible_to(actor).select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise TriageError(
            _(
                "This report is no longer among the reports your team works (it may have been referred "
                "to another school). Nothing was changed."
            )
        )
    return locked


def _refuse(report: Report) -> TriageError:
    return TriageError(
        _("This cannot be done while the report's status is “%(status)s”. Reload the page to see its current state.")
        % {"status": report.get_status_display()}
    )


def _require_transition(report: Report, status: str) -> None:
    if not report.can_transition_to(status):
        raise _refuse(report)


def _snapshot(report: Report) -> dict[str, Any]:
    return {
        "status": report.status,
        "school": report.school_id,
        "urgency": report.urgency,
        "is_abuse": report.is_abuse,
        "duplicate_of": report.duplicate_of_id,
    }


def _first_look(report: Report, *, actor: User, at: dt.datetime) -> None:
    """Someone acted on the report: record who and when (once) and stop its urgent escalation."""
    if report.acknowledged_at is None:
        report.acknowledged_at = at
        report.acknowledged_by = actor
    escalation.acknowledge(target=report, actor=actor)


def _decide(
    report: Report,
    *,
    actor: User,
    kind: str,
    before: dict[str, Any],
    at: dt.datetime,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    audit_detail: dict[str, Any] | None = None,
) -> TriageDecision:
    """Save the report and record the decision and its audit event (inside the caller's transaction)."""
    report.save()
    decision = TriageDecision.objects.create(
        report=report, kind=kind, actor=actor, reason=reason, detail=detail or {}, created_at=at
    )
    AuditEvent.objects.record(
        actor=actor,
        verb=Verb.UPDATED,
        target=report,
        before=before,
        after=_snapshot(report),
        detail={"decision": kind, "decision_id": decision.pk, "reason_given": bool(reason), **(audit_detail or {})},
    )
    return decision


# Decisions ----------------------------------------------------------------------------------------


def do_acknowledge(*, actor: User, report: Report) -> Report:
    """Someone on the team has seen the report (new -> acknowledged); its escalation stops."""
    with transaction.atomic():
        report = _lock(report, actor)
        _require_transition(report, Status.ACKNOWLEDGED)
        if report.status != Status.NEW:
            raise _refuse(report)
        before, at = _snapshot(report), clock.now()
        report.status = Status.ACKNOWLEDGED
        report.acknowledged_at = at
        report.acknowledged_by = actor
        escalation.acknowledge(target=report, actor=actor)
        _decide(report, actor=actor, kind=Kind.ACKNOWLEDGE, before=before, at=at)
    return report


def do_acknowledge_group(*, actor: User, group: SurgeGroup) -> int:
    """Acknowledge, in one transaction, every new report of ``group`` that ``actor``'s team works.

    Returns how many were acknowledged (reports of other schools, already acknowledged or marked
    as abuse are left as they are).
    """
    with transaction.atomic():
        reports = list(
            Report.objects.visible_to(actor)
            .select_for_update()
            .filter(surge_group=group, status=Status.NEW, is_abuse=False)
            .order_by("pk")
        )
        at = clock.now()
        for report in reports:
            before = _snapshot(report)
            report.status = Status.ACKNOWLEDGED
            report.acknowledged_at = at
            report.acknowledged_by = actor
            escalation.acknowledge(target=report, actor=actor)
            _decide(
                report,
                actor=actor,
                kind=Kind.ACKNOWLEDGE,
                before=before,
                at=at,
                detail={"surge_group": group.pk},
                audit_detail={"surge_group": group.pk},
            )
    return len(reports)


def do_change_urgency(*, actor: User, report: Report, urgency: int, reason: str) -> Report:
    """Staff set the urgency (with a reason). Raising it to urgent or above starts the escalation;
    lowering it below urgent stops a running one (nobody is paged any more about an "urgent report
    not acknowledged" that staff have judged not urgent)."""
    reason = clean_reason(reason, required=True)
    if urgency not in Urgency.values:
        raise TriageError(_("Choose one of the urgency levels."))
    with transaction.atomic():
        report = _lock(report, actor)
        if report.status not in Report.OPEN_STATUSES:
            raise TriageError(_("The urgency of a report can be changed only while it is open."))
        if report.urgency == urgency:
            raise TriageError(_("The report already has this urgency."))
        before, at = _snapshot(report), clock.now()
        was_urgent = report.is_urgent
        report.urgency = urgency
        report.urgency_set_by_staff = True
        _decide(
            report,
            actor=actor,
            kind=Kind.URGENCY,
            before=before,
            at=at,
            reason=reason,
            detail={"from": before["urgency"], "to": urgency},
        )
        if report.urgency >= URGENT_THRESHOLD and not was_urgent:
            escalation.start_for_report(report)
        elif was_urgent and report.urgency < URGENT_THRESHOLD:
            escalation.acknowledge(target=report, actor=actor)
    return report


def do_screen_out(*, actor: User, report: Report, reason: str) -> Report:
    """Not a threat-assessment matter (the reason says why): closed, kept."""
    reason = clean_reason(reason, required=True)
    with transaction.atomic():
        report = _lock(report, actor)
        _require_transition(report, Status.SCREENED_OUT)
        before, at = _snapshot(report), clock.now()
        _first_look(report, actor=actor, at=at)
        report.status = Status.SCREENED_OUT
        _decide(report, actor=actor, kind=Kind.SCREEN_OUT, before=before, at=at, reason=reason)
    return report


def do_refer(*, actor: User, report: Report, school: School, reason: str) -> Report:
    """Send the report to another school of the district: it is new again there, with
    ``referred_from`` naming the school it came from, and that school's team leaders are told.

    The REFER decision keeps the move in the history; the report does not rest in the "referred"
    status (the receiving team works it like any new report).
    """
    reason = clean_reason(reason, required=True)
    if school.district_id != report.district_id:
        raise TriageError(_("A report can be referred only to a school of the same district."))
    if not school.is_active:
        raise TriageError(_("This school no longer takes reports."))
    with transaction.atomic():
        report = _lock(report, actor)
        if school.pk == report.school_id:
            raise TriageError(_("The report is already at this school: choose another school."))
        _require_transition(report, Status.REFERRED)
        before, at = _snapshot(report), clock.now()
        # The referring team has dealt with it: its escalation stops; the new school starts afresh.
        escalation.acknowledge(target=report, actor=actor)
        report.status = Status.REFERRED
        _require_transition(report, Status.NEW)
        old_school = report.school_id
        report.referred_from_id = old_school
        report.school = school
        report.status = Status.NEW
        report.acknowledged_at = None
        report.acknowledged_by = None
        _decide(
            report,
            actor=actor,
            kind=Kind.REFER,
            before=before,
            at=at,
            reason=reason,
            detail={"from": old_school, "to": school.pk},
        )
        _hook("report_referred", report)
    return report


def do_mark_duplicate(*, actor: User, report: Report, original: Report, reason: str = "") -> Report:
    """The report tells what ``original`` (another report of the district) already told."""
    reason = clean_reason(reason, required=False)
    if original.pk == report.pk:
        raise TriageError(_("A report cannot be a duplicate of itself."))
    if original.district_id != report.district_id:
        raise TriageError(_("The original must be a report of the same district."))
    if not Report.objects.visible_to(actor).filter(pk=original.pk).exists():
        raise TriageError(_("The original must be a report your team works."))
    with transaction.atomic():
        report = _lock(report, actor)
        _require_transition(report, Status.DUPLICATE)
        if _leads_to(original.pk, report.pk):
            raise TriageError(
                _("%(original)s is itself marked as a duplicate of this report: that would make a loop.")
                % {"original": original.reference}
            )
        before, at = _snapshot(report), clock.now()
        _first_look(report, actor=actor, at=at)
        report.status = Status.DUPLICATE
        report.duplicate_of_id = original.pk
        _decide(
            report,
            actor=actor,
            kind=Kind.DUPLICATE,
            before=before,
            at=at,
            reason=reason,
            detail={"original": original.pk},
        )
    return report


def _leads_to(start: int, target: int) -> bool:
    """Whether following duplicate_of from report ``start`` reaches report ``target``."""
    seen: set[int] = set()
    current: int | None = start
    while current is not None and current not in seen and len(seen) < MAX_DUPLICATE_CHAIN:
        if current == target:
            return True
        seen.add(current)
        current = Report.objects.filter(pk=current).values_list("duplicate_of_id", flat=True).first()
    return False


def do_open_case(*, actor: User, report: Report, note: str = "", case_number: str = "") -> Report:
    """The report goes to a case. Called by the case actions (``btam.cases.actions.do_open_case``,
    ``do_add_report``) inside their transaction, which create or lock the case and link the report;
    ``case_number`` is kept on the decision."""
    note = clean_reason(note, required=False)
    with transaction.atomic():
        report = _lock(report, actor)
        _require_transition(report, Status.CASE_OPENED)
        before, at = _snapshot(report), clock.now()
        _first_look(report, actor=actor, at=at)
        report.status = Status.CASE_OPENED
        detail = {"case": case_number} if case_number else None
        _decide(report, actor=actor, kind=Kind.OPEN_CASE, before=before, at=at, reason=note, detail=detail)
    return report


def do_mark_abuse(*, actor: User, report: Report, reason: str) -> Report:
    """A prank or spam: out of the main queue, kept (never deleted), its escalation stopped."""
    reason = clean_reason(reason, required=True)
    with transaction.atomic():
        report = _lock(report, actor)
        if report.is_abuse:
            raise TriageError(_("This report is already marked as abuse."))
        before, at = _snapshot(report), clock.now()
        report.is_abuse = True
        escalation.acknowledge(target=report, actor=actor)
        _decide(report, actor=actor, kind=Kind.ABUSE, before=before, at=at, reason=reason)
    return report


def do_unmark_abuse(*, actor: User, report: Report, reason: str) -> Report:
    """Undo an abuse mark: the report is back in the queue with the status it had.

    Marking it as abuse stopped its escalation without anyone acknowledging it (and a report caught
    by the form's honeypot was never escalated at all): an urgent report that is still new and
    unacknowledged escalates again, from its first step.
    """
    reason = clean_reason(reason, required=True)
    with transaction.atomic():
        report = _lock(report, actor)
        if not report.is_abuse:
            raise TriageError(_("This report is not marked as abuse."))
        before, at = _snapshot(report), clock.now()
        report.is_abuse = False
        _decide(report, actor=actor, kind=Kind.NOT_ABUSE, before=before, at=at, reason=reason)
        if report.is_urgent and report.status == Status.NEW and report.acknowledged_at is None:
            escalation.start_for_report(report)
    return report


def do_reopen(*, actor: User, report: Report, reason: str) -> Report:
    """Reopen a report that was screened out or marked duplicate: it is acknowledged again."""
    reason = clean_reason(reason, required=True)
    with transaction.atomic():
        report = _lock(report, actor)
        if report.status not in (Status.SCREENED_OUT, Status.DUPLICATE):
            raise _refuse(report)
        _require_transition(report, Status.ACKNOWLEDGED)
        before, at = _snapshot(report), clock.now()
        _first_look(report, actor=actor, at=at)
        report.status = Status.ACKNOWLEDGED
        report.duplicate_of = None
        _decide(report, actor=actor, kind=Kind.REOPEN, before=before, at=at, reason=reason)
    return report


def _hook(name: str, report: Report) -> None:
    """Tell the notifications app (inside the transaction: its notices commit with the decision)."""
    from btam.notifications import intake_hooks

    hook = getattr(intake_hooks, name, None)
    if hook is not None:
        hook(report)
