"""Case lifecycle actions: open (from reports or blank), edit, screening, risk level, workflow
moves, closure (request, leader's approval, decline) and reopening.

Every action is keyword-only, takes ``actor=``, runs in one transaction that locks the case row
(:func:`lock_case`, which checks again that the actor may change it), validates, writes its own
history row where the timeline needs one and an :class:`~btam.audit.models.AuditEvent`, and
defers side effects (notifications) to the outbox. A change that cannot be made raises
:class:`CaseError` with a message for the user; nothing is written then.

Other case modules (notes, tasks, documents, people, links, transfer) follow the same pattern
and use the helpers here: :func:`lock_case`, :func:`ensure_editable`, :func:`touch`,
:func:`clean_text` and :func:`audit`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.cases import access, search, workflow
from btam.cases.models import (
    Case,
    CaseCounter,
    CaseMember,
    CaseParticipant,
    CaseReport,
    CaseSchool,
    ClosureReason,
    ScreeningDecision,
    Status,
    StatusChange,
)
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.intake.models import Report
    from btam.orgs.models import School

MAX_TITLE_CHARS = 200
MAX_SUMMARY_CHARS = 20_000
MAX_REASON_CHARS = 5_000


class CaseError(Exception):
    """A change that cannot be made; the message is for the user."""


# Helpers used by every case module ---------------------------------------------------------------


def clean_text(value: str, *, label: str, max_chars: int, required: bool) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise CaseError(_("%(label)s holds a character that cannot be stored.") % {"label": label})
    if required and not value:
        raise CaseError(_("%(label)s is required.") % {"label": label})
    if len(value) > max_chars:
        raise CaseError(
            _("%(label)s is too long: at most %(max)d characters (it has %(count)d).")
            % {"label": label, "max": max_chars, "count": len(value)}
        )
    return value


def lock_case(case: Case | int, actor: User, *, write: bool = True) -> Case:
    """The case's row, locked until the commit, as it is now, if ``actor`` may (still) change it.

    Call inside ``transaction.atomic()``. A case the actor may no longer work (access removed,
    restricted meanwhile) raises CaseError, never acts.
    """
    pk = case if isinstance(case, int) else case.pk
    qs = Case.objects.writable_by(actor) if write else Case.objects.visible_to(actor)
    # Lock the case row only (no outer joins: PostgreSQL refuses FOR UPDATE on their nullable side).
    locked = qs.select_for_update(of=("self",)).filter(pk=pk).first()
    if locked is None:
        raise CaseError(_("You can no longer change this case (your access may have changed). Nothing was changed."))
    return locked


def ensure_editable(case: Case) -> None:
    """A closed or merged case is a record: reopen it (or undo the merge) to change it."""
    if case.is_merged:
        raise CaseError(
            _("This case was merged into case %(number)s: work on that case, or undo the merge.")
            % {"number": case.merged_into.number if case.merged_into else "?"}
        )
    if case.is_closed:
        raise CaseError(_("This case is closed. Reopen it to change it."))


def touch(case: Case, at: dt.datetime | None = None) -> None:
    """Record activity on the case (the list's default order)."""
    at = at or clock.now()
    Case.objects.filter(pk=case.pk).update(updated_at=at)
    case.updated_at = at


def snapshot(case: Case) -> dict[str, Any]:
    """The audited state of a case (no free text: the audit trail is plain text)."""
    return {
        "status": case.status,
        "school": case.school_id,
        "manager": case.manager_id,
        "screening_decision": case.screening_decision,
        "risk_level": case.risk_level,
        "risk_scheme": case.risk_scheme,
        "restricted": case.restricted,
        "closure_reason": case.closure_reason,
        "closure_requested": case.closure_requested_at is not None,
        "merged_into": case.merged_into_id,
    }


def audit(
    *,
    actor: User,
    case: Case,
    verb: str = Verb.UPDATED,
    target: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """One audit event about the case (or one of its rows, ``target``), in the caller's transaction.
    ``detail`` always names the case; never put free text (a note, a name) in it."""
    return AuditEvent.objects.record(
        actor=actor,
        verb=verb,
        target=target if target is not None else case,
        district_id=case.district_id,
        before=before,
        after=after,
        detail={"case": case.pk, "case_number": case.number, **(detail or {})},
        reason=reason,
    )


def case_path(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def _notify(*, recipients: Iterable[User], case: Case, kind: str, title: str, scope: str, urgent: bool = False) -> None:
    from btam.notifications.delivery import notify

    notify(
        recipients=list(recipients),
        district_id=case.district_id,
        kind=kind,
        title=title,
        link=case_path(case),
        target=case,
        urgent=urgent,
        dedupe_scope=scope,
        email=True,
    )


def _next_number(district_id: int, year: int) -> int:
    """The next number of the district's year, under the counter row's lock."""
    counter = CaseCounter.objects.select_for_update().filter(district_id=district_id, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                CaseCounter.objects.create(district_id=district_id, year=year, last=0)
        except IntegrityError:
            pass  # another request created it first
        counter = CaseCounter.objects.select_for_update().get(district_id=district_id, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


# Opening a case -----------------------------------------------------------------------------------

_REPORT_ROLE_TO_PARTICIPANT = {
    "subject": CaseParticipant.Role.SUBJECT,
    "target": CaseParticipant.Role.TARGET,
    "witness": CaseParticipant.Role.WITNESS,
}


def default_title(school: School, at: dt.datetime) -> str:
    return _("Concern at %(school)s, %(date)s") % {"school": school.name, "date": at.date().isoformat()}


def do_open_case(
    *,
    actor: User,
    school: School,
    title: str = "",
    summary: str = "",
    reports: Sequence[Report] = (),
    manager: User | None = None,
    restricted: bool = False,
    note: str = "",
) -> Case:
    """Open a case at ``school`` (the actor's team must work it), linking ``reports``: their reporter
    threads and attachments come with them, and the people they name join the case (linkable to
    the registry later). Each report records the triage decision "case opened"."""
    from btam.intake import triage_actions
    from btam.intake.access import triage_school_ids

    title = clean_text(title, label=_("The title"), max_chars=MAX_TITLE_CHARS, required=False)
    summary = clean_text(summary, label=_("The summary"), max_chars=MAX_SUMMARY_CHARS, required=False)
    if school.pk not in triage_school_ids(actor):
        raise CaseError(_("You can open cases only for the schools your team works."))
    if manager is not None and manager.pk != actor.pk and not _may_manage(manager, school):
        raise CaseError(_("The case manager must be on the team of this school or of the district."))
    at = clock.now()
    manager = manager or actor
    with transaction.atomic():
        for report in reports:
            if report.district_id != school.district_id:
                raise CaseError(_("A report of another district cannot join this case."))
            if CaseReport.objects.filter(report_id=report.pk).exists():
                raise CaseError(_("Report %(ref)s is already on a case.") % {"ref": report.reference})
        case = Case.objects.create(
            district_id=school.district_id,
            school=school,
            year=at.year,
            seq=_next_number(school.district_id, at.year),
            title=title or default_title(school, at),
            summary=summary,
            manager=manager,
            restricted=restricted,
            opened_by=actor,
            opened_at=at,
            updated_at=at,
        )
        CaseSchool.objects.create(case=case, school=school, access=CaseSchool.Access.FULL, added_at=at, added_by=actor)
        CaseMember.objects.create(case=case, user=manager, added_at=at, added_by=actor)
        if manager.pk != actor.pk:
            CaseMember.objects.create(case=case, user=actor, added_at=at, added_by=actor)
        StatusChange.objects.create(case=case, from_status="", to_status=Status.SCREENING, actor=actor, created_at=at)
        for report in reports:
            try:
                triage_actions.do_open_case(actor=actor, report=report, note=note, case_number=case.number)
            except triage_actions.TriageError as exc:
                raise CaseError(f"{report.reference}: {exc}") from exc
            _link_report(case, report, actor=actor, at=at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            after=snapshot(case),
            detail={"reports": [r.pk for r in reports]},
        )
        search.index_case(case)
        if manager.pk != actor.pk:
            _notify(
                recipients=[manager],
                case=case,
                kind="case_assigned",
                title=_("Case %(number)s was assigned to you") % {"number": case.number},
                scope=f"case:{case.pk}:manager:{case.manager_id}:{at.isoformat()}",
            )
    return case


def _may_manage(user: User, school: School) -> bool:
    return school.pk in user.school_ids(*access.TEAM_ROLES)


def _link_report(case: Case, report: Report, *, actor: User, at: dt.datetime) -> CaseReport:
    link = CaseReport.objects.create(case=case, report=report, linked_at=at, linked_by=actor)
    participants = []
    for involved in report.involved.all():
        role = _REPORT_ROLE_TO_PARTICIPANT.get(involved.role)
        if role is None or not (involved.name or involved.person_id):
            continue
        participants.append(
            CaseParticipant(
                case=case,
                role=role,
                person_id=involved.person_id,
                name="" if involved.person_id else involved.name,
                description=involved.description,
                added_at=at,
                added_by=actor,
            )
        )
    if report.reporter_name:
        participants.append(
            CaseParticipant(
                case=case,
                role=CaseParticipant.Role.REPORTER,
                name=report.reporter_name,
                description=report.reporter_contact,
                added_at=at,
                added_by=actor,
            )
        )
    CaseParticipant.objects.bulk_create(participants)
    return link


def do_add_report(*, actor: User, case: Case, report: Report, note: str = "") -> CaseReport:
    """Add a report from the triage queue to an existing case (the report records the decision)."""
    from btam.intake import triage_actions

    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if report.district_id != case.district_id:
            raise CaseError(_("A report of another district cannot join this case."))
        if CaseReport.objects.filter(report_id=report.pk).exists():
            raise CaseError(_("Report %(ref)s is already on a case.") % {"ref": report.reference})
        at = clock.now()
        try:
            triage_actions.do_open_case(actor=actor, report=report, note=note, case_number=case.number)
        except triage_actions.TriageError as exc:
            raise CaseError(str(exc)) from exc
        link = _link_report(case, report, actor=actor, at=at)
        touch(case, at)
        audit(actor=actor, case=case, detail={"report_added": report.pk})
    return link


# Editing ------------------------------------------------------------------------------------------


def do_update_case(*, actor: User, case: Case, title: str, summary: str, manager: User | None) -> Case:
    title = clean_text(title, label=_("The title"), max_chars=MAX_TITLE_CHARS, required=True)
    summary = clean_text(summary, label=_("The summary"), max_chars=MAX_SUMMARY_CHARS, required=False)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if manager is not None and manager.pk not in {u.pk for u in access.assignable_users(case)}:
            raise CaseError(_("The case manager must be on the team working this case."))
        before = snapshot(case)
        changed_text = case.title != title or case.summary != summary
        old_manager = case.manager_id
        case.title, case.summary, case.manager = title, summary, manager
        at = clock.now()
        case.updated_at = at
        case.save()
        if manager is not None and not CaseMember.objects.filter(case=case, user=manager).exists():
            CaseMember.objects.create(case=case, user=manager, added_at=at, added_by=actor)
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"text_changed": changed_text})
        if changed_text:
            search.index_case(case)
        if manager is not None and manager.pk != old_manager and manager.pk != actor.pk:
            _notify(
                recipients=[manager],
                case=case,
                kind="case_assigned",
                title=_("Case %(number)s was assigned to you") % {"number": case.number},
                scope=f"case:{case.pk}:manager:{manager.pk}:{at.isoformat()}",
            )
    return case


def do_record_screening(*, actor: User, case: Case, decision: str, rationale: str) -> Case:
    if decision not in ScreeningDecision.values:
        raise CaseError(_("Choose a screening decision."))
    rationale = clean_text(rationale, label=_("The rationale"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        before, at = snapshot(case), clock.now()
        case.screening_decision, case.screening_rationale = decision, rationale
        case.screened_at, case.screened_by = at, actor
        case.updated_at = at
        case.save()
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"screening": decision})
    return case


def do_set_risk_level(*, actor: User, case: Case, level: str, rationale: str, scheme_id: str = "") -> Case:
    """Put a level of the district's scheme (or of ``scheme_id``) on the case with its written
    rationale, without a structured assessment: for levels carried over from another system and for
    tests. It is offered by no page: the team decides levels through an assessment
    (``btam.assessments.decision_actions``, with its approval rules), which ends in the same
    ``apply_level`` (the case's fields, the level history, the reassessment schedule, the audit)."""
    from btam.assessments import levels
    from btam.assessments.decision_actions import apply_level

    registry = levels.registry_for(case.district_id)
    try:
        scheme = registry.scheme(scheme_id) if scheme_id else levels.scheme_for(case.district_id)
        scheme.level(level)
    except KeyError:
        raise CaseError(_("Choose a risk level of the district's level scheme.")) from None
    rationale = clean_text(rationale, label=_("The rationale"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        apply_level(
            actor=actor, case=case, assessment=None, scheme=scheme, level_id=level, rationale=rationale, at=clock.now()
        )
    return Case.objects.get(pk=case.pk)


# Workflow -----------------------------------------------------------------------------------------


def do_transition(*, actor: User, case: Case, to_status: str, reason: str = "") -> Case:
    """Move the case to another stage (closing has its own actions)."""
    if to_status not in Status.values:
        raise CaseError(_("Unknown stage."))
    if to_status == Status.CLOSED:
        raise CaseError(_("Close a case with a closure reason and the leader's approval."))
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=False)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        problems = workflow.blocking_reasons(case, to_status)
        if problems:
            raise CaseError(" ".join(problems))
        before, at = snapshot(case), clock.now()
        StatusChange.objects.create(
            case=case, from_status=case.status, to_status=to_status, actor=actor, reason=reason, created_at=at
        )
        case.status = to_status
        case.updated_at = at
        case.save()
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"reason_given": bool(reason)})
    return case


def do_request_closure(*, actor: User, case: Case, reason: str, note: str) -> Case:
    """Ask to close the case. A leader's request is its own approval: the case closes at once;
    anyone else's waits for a leader (who is notified)."""
    if reason not in ClosureReason.values:
        raise CaseError(_("Choose a closure reason."))
    note = clean_text(note, label=_("The closure note"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not case.can_transition_to(Status.CLOSED):
            raise CaseError(_("This case cannot be closed from its current stage."))
        before, at = snapshot(case), clock.now()
        case.closure_reason, case.closure_note = reason, note
        case.closure_requested_at, case.closure_requested_by = at, actor
        case.updated_at = at
        if access.is_leader_for(actor, case):
            _close(case, actor=actor, at=at)
        else:
            case.save()
            leaders = [u for u in access.leaders_of(case) if u.pk != actor.pk]
            _notify(
                recipients=leaders,
                case=case,
                kind="closure_requested",
                title=_("Case %(number)s: closure waiting for your approval") % {"number": case.number},
                scope=f"case:{case.pk}:closure:{at.isoformat()}",
            )
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"closure_requested": reason})
    return case


def _close(case: Case, *, actor: User, at: dt.datetime) -> None:
    StatusChange.objects.create(
        case=case,
        from_status=case.status,
        to_status=Status.CLOSED,
        actor=actor,
        reason=case.closure_note,
        created_at=at,
    )
    case.closed_from = case.status
    case.status = Status.CLOSED
    case.closed_at, case.closed_by = at, actor
    case.updated_at = at
    case.save()


def do_approve_closure(*, actor: User, case: Case) -> Case:
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not case.closure_pending:
            raise CaseError(_("No closure is waiting for approval on this case."))
        if not access.is_leader_for(actor, case):
            raise CaseError(_("Only a team leader of the case's school can approve its closure."))
        if not case.can_transition_to(Status.CLOSED):
            raise CaseError(_("This case cannot be closed from its current stage."))
        before, at = snapshot(case), clock.now()
        _close(case, actor=actor, at=at)
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"closure_approved": True})
    return case


def do_decline_closure(*, actor: User, case: Case, reason: str) -> Case:
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not case.closure_pending:
            raise CaseError(_("No closure is waiting for approval on this case."))
        if not access.is_leader_for(actor, case):
            raise CaseError(_("Only a team leader of the case's school can decline its closure."))
        before, at = snapshot(case), clock.now()
        requester = case.closure_requested_by
        StatusChange.objects.create(
            case=case,
            from_status=case.status,
            to_status=case.status,
            actor=actor,
            reason=_("Closure declined: %(reason)s") % {"reason": reason},
            created_at=at,
        )
        case.closure_reason, case.closure_note = "", ""
        case.closure_requested_at, case.closure_requested_by = None, None
        case.updated_at = at
        case.save()
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"closure_declined": True})
        if requester is not None and requester.pk != actor.pk:
            _notify(
                recipients=[requester],
                case=case,
                kind="closure_requested",
                title=_("Case %(number)s: closure declined") % {"number": case.number},
                scope=f"case:{case.pk}:closure-declined:{at.isoformat()}",
            )
    return case


def do_reopen_case(*, actor: User, case: Case, reason: str) -> Case:
    """Reopen a closed case: it returns to the stage it was closed from."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        if case.is_merged:
            raise CaseError(_("This case was merged into another: undo the merge instead."))
        if not case.is_closed:
            raise CaseError(_("This case is not closed."))
        before, at = snapshot(case), clock.now()
        back_to = case.closed_from or Status.SCREENING
        StatusChange.objects.create(
            case=case, from_status=Status.CLOSED, to_status=back_to, actor=actor, reason=reason, created_at=at
        )
        case.status = back_to
        case.closed_from = ""
        case.closure_reason, case.closure_note = "", ""
        case.closure_requested_at, case.closure_requested_by = None, None
        case.closed_at, case.closed_by = None, None
        case.updated_at = at
        case.save()
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"reopened": True})
    return case
