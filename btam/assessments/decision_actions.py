"""Conducting an assessment and recording the team's decision.

An assessment is started on a case with one instrument version (a reassessment points to the case's
latest decided assessment), answered by several members in partial saves (each a
:class:`~btam.assessments.models.Contribution`; a save from a stale page is refused, never merged
silently), and ends in the team's decision: a level of the district's scheme with a written
rationale, and a reason whenever the level differs from the engine's suggestion (frozen on the row
with its reasons). The scheme's top levels (``approval``) wait for a team leader of the case; a
leader's own decision is its own approval (as for closing a case). When a level takes effect,
:func:`apply_level` sets the case's risk fields, writes a
:class:`~btam.assessments.models.LevelChange` and sets the reassessment schedule, in the same
transaction. Members may record a dissent with a decision; a draft may be discarded.

Every action follows the case actions' pattern (``btam/cases/actions.py``): keyword-only, ``actor=``,
one transaction that locks the case (:func:`~btam.cases.actions.lock_case`) and refuses a closed or
merged one, validation before any write, an audit event without free text (ids, codes, booleans).
A change that cannot be made raises :class:`AssessmentError` (a ``CaseError``) with a message for
the user; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from btam.assessments import engine, levels
from btam.assessments.definitions import Instrument, Level, LevelScheme, Registry
from btam.assessments.models import Assessment, Contribution, DeclinedDecision, Dissent, LevelChange
from btam.audit.models import Verb
from btam.cases import access as case_access
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, snapshot, touch
from btam.cases.models import Case
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_RATIONALE_CHARS = 20_000
MAX_REASON_CHARS = 5_000
MAX_DISSENT_CHARS = 10_000
OPEN_STATUSES = (Assessment.Status.DRAFT, Assessment.Status.PENDING_APPROVAL)


class AssessmentError(CaseError):
    """A change to an assessment that cannot be made; the message is for the user."""


class PendingDecision(AssessmentError):
    """Another decision on the case waits for a leader's approval: ``link`` leads to it."""

    def __init__(self, message: str, *, pending: Assessment) -> None:
        super().__init__(message)
        self.pending = pending
        self.link = detail_path(pending)
        self.link_label = _("Open the decision waiting for approval")


class StaleSave(AssessmentError):  # noqa: N818 (a refusal, like CaseError)
    """A save or a decision made from a page older than the assessment's last save."""

    def __init__(self, message: str, *, current_revision: int) -> None:
        super().__init__(message)
        self.current_revision = current_revision


# Reading definitions ----------------------------------------------------------------------------


def offered_instruments(district_id: int, registry: Registry | None = None) -> list[Instrument]:
    """The instruments a district's teams may start (latest versions), as its settings page shows
    them (``levels.offered_instrument_ids``)."""
    registry = registry or levels.registry_for(district_id)
    chosen = levels.settings_for(district_id).instruments or []
    return [registry.instrument(i) for i in levels.offered_instrument_ids(chosen, registry)]


def instrument_of(assessment: Assessment, registry: Registry | None = None) -> Instrument:
    """The exact instrument version the assessment used (it always renders with that version)."""
    registry = registry or levels.registry_for(assessment.district_id)
    try:
        return registry.instrument(assessment.instrument_id, assessment.instrument_version)
    except KeyError:
        raise AssessmentError(
            _(
                "The definition this assessment used (%(id)s, version %(version)d) is not available any more. "
                "Ask the district's database manager to restore the file."
            )
            % {"id": assessment.instrument_id, "version": assessment.instrument_version}
        ) from None


def scheme_of(assessment: Assessment, registry: Registry | None = None) -> LevelScheme | None:
    """The scheme (id and version) a decision was recorded in; None before a decision."""
    if not assessment.scheme_id or assessment.scheme_version is None:
        return None
    registry = registry or levels.registry_for(assessment.district_id)
    try:
        return registry.scheme(assessment.scheme_id, assessment.scheme_version)
    except KeyError:
        return None


@dataclass(frozen=True)
class Suggestion:
    """The engine's evaluation of the answers and the level of ``scheme`` its outcome maps to."""

    evaluation: engine.Evaluation
    scheme: LevelScheme
    level: Level | None
    # True when the scheme maps this instrument's outcomes to levels (a decision tree): a level is
    # expected once the instrument is complete.
    maps_levels: bool

    @property
    def outcome_needs_reason(self) -> bool:
        """No suggested level although one is expected (the instrument is not complete)."""
        return self.maps_levels and self.level is None

    def needs_reason(self, level_id: str) -> bool:
        """Deciding ``level_id`` needs a reason: it differs from the suggestion, or there is none yet."""
        if self.level is not None:
            return self.level.id != level_id
        return self.maps_levels


def suggestion_for(instrument: Instrument, answers: Mapping[str, Any], scheme: LevelScheme) -> Suggestion:
    evaluation = engine.evaluate(instrument, dict(answers))
    try:
        level = scheme.suggested_level(instrument.id, evaluation.outcome)
    except KeyError:
        level = None
    return Suggestion(
        evaluation=evaluation, scheme=scheme, level=level, maps_levels=bool(scheme.outcome_map.get(instrument.id))
    )


def latest_decided(case: Case | int) -> Assessment | None:
    """The case's decided assessment whose level took effect last (a reassessment follows it)."""
    from django.db.models.functions import Coalesce

    case_id = case if isinstance(case, int) else case.pk
    return (
        Assessment.objects.filter(case_id=case_id, status=Assessment.Status.DECIDED)
        .order_by(Coalesce("approved_at", "decided_at").desc(), "-pk")
        .first()
    )


def detail_path(assessment: Assessment) -> str:
    return reverse("assessments:detail", args=[assessment.case_id, assessment.pk])


def pending_decision(case: Case | int, *, exclude: Assessment | int | None = None) -> Assessment | None:
    """The case's decision waiting for a leader's approval, if any (at most one: recording another
    is refused while one waits)."""
    case_id = case if isinstance(case, int) else case.pk
    found = Assessment.objects.filter(case_id=case_id, status=Assessment.Status.PENDING_APPROVAL)
    if exclude is not None:
        found = found.exclude(pk=exclude if isinstance(exclude, int) else exclude.pk)
    return found.order_by("decided_at", "pk").first()


def superseded(assessment: Assessment) -> bool:
    """A level took effect on the case after this decision was recorded (a newer decision, or a
    level set on the case): approving it now would replace the newer level with an older view."""
    if assessment.status != Assessment.Status.PENDING_APPROVAL or assessment.decided_at is None:
        return False
    return LevelChange.objects.filter(case_id=assessment.case_id, set_at__gt=assessment.decided_at).exists()


# Internal helpers --------------------------------------------------------------------------------


def _locked(assessment: Assessment | int, actor: User) -> tuple[Case, Assessment]:
    """The case (locked, editable) and the assessment as it is now, under the case's lock."""
    pk = assessment if isinstance(assessment, int) else assessment.pk
    case_id = Assessment.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise AssessmentError(_("This assessment does not exist any more."))
    case = lock_case(case_id, actor)
    ensure_editable(case)
    fresh = Assessment.objects.filter(pk=pk, case_id=case.pk).first()
    if fresh is None:
        raise AssessmentError(_("This assessment is no longer on this case."))
    return case, fresh


def _status_refusal(assessment: Assessment, *, doing: str) -> AssessmentError:
    """Why ``doing`` is refused in the assessment's present status."""
    if assessment.status == Assessment.Status.DECIDED:
        return AssessmentError(
            _(
                "This assessment is decided: it is part of the record and cannot change (%(doing)s). "
                "Nothing was changed."
            )
            % {"doing": doing}
        )
    if assessment.status == Assessment.Status.DISCARDED:
        return AssessmentError(_("This assessment was discarded. Nothing was changed."))
    if assessment.status == Assessment.Status.PENDING_APPROVAL:
        return AssessmentError(
            _(
                "This assessment's decision is waiting for a leader's approval: it cannot change until a leader "
                "approves or declines it. Nothing was changed."
            )
        )
    return AssessmentError(_("This assessment is still in progress: it has no decision yet. Nothing was changed."))


def _notify(*, recipients: list[User], case: Case, assessment: Assessment, kind: str, title: str, scope: str) -> None:
    from btam.notifications.delivery import notify

    notify(
        recipients=recipients,
        district_id=case.district_id,
        kind=kind,
        title=title,
        link=detail_path(assessment),
        target=case,
        urgent=False,
        dedupe_scope=scope,
        email=True,
    )


def _pending_message(waiting: Assessment) -> str:
    """Why no decision can be recorded now: the one waiting for approval, named."""
    try:
        title = str(instrument_of(waiting).title)
    except AssessmentError:
        title = waiting.instrument_id
    return _(
        "Nothing was recorded: a decision on this case is waiting for a team leader's approval (%(level)s, "
        "recorded with “%(instrument)s” on %(date)s). A leader approves or declines it first; then record this one."
    ) % {
        "level": levels.level_label(
            waiting.scheme_id, waiting.level, district_id=waiting.district_id, version=waiting.scheme_version
        ),
        "instrument": title,
        "date": timezone.localdate(waiting.decided_at).isoformat() if waiting.decided_at else "",
    }


def _audit_detail(assessment: Assessment, **extra: Any) -> dict[str, Any]:
    return {
        "assessment": assessment.pk,
        "instrument": assessment.instrument_id,
        "instrument_version": assessment.instrument_version,
        **extra,
    }


# Starting ----------------------------------------------------------------------------------------


def do_start_assessment(
    *,
    actor: User,
    case: Case,
    instrument_id: str,
    previous: Assessment | int | None = None,
    version: int | None = None,
) -> Assessment:
    """Start an assessment of ``case`` with the latest version of ``instrument_id`` (or ``version``).
    ``previous``: the case's latest decided assessment, for a reassessment."""
    registry = levels.registry_for(case.district_id)
    offered = {i.id for i in offered_instruments(case.district_id, registry)}
    if instrument_id not in offered:
        raise AssessmentError(
            _("“%(id)s” is not an instrument your district uses. Choose one from the list.") % {"id": instrument_id}
        )
    try:
        instrument = registry.instrument(instrument_id, version)
    except KeyError:
        raise AssessmentError(
            _("The instrument “%(id)s” has no version %(version)s. Choose one from the list.")
            % {"id": instrument_id, "version": version}
        ) from None
    previous_pk = previous.pk if isinstance(previous, Assessment) else previous
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        prior: Assessment | None = None
        if previous_pk is not None:
            prior = Assessment.objects.filter(pk=previous_pk, case_id=case.pk).first()
            if prior is None or prior.status != Assessment.Status.DECIDED:
                raise AssessmentError(_("Only a decided assessment of this case can be reassessed."))
            latest = latest_decided(case)
            if latest is not None and latest.pk != prior.pk:
                raise AssessmentError(
                    _("A newer decision exists on this case: reassess from the latest decided assessment.")
                )
        if Assessment.objects.filter(case_id=case.pk, instrument_id=instrument.id, status__in=OPEN_STATUSES).exists():
            raise AssessmentError(
                _(
                    "An assessment with “%(title)s” is already in progress on this case: continue it, or discard it "
                    "first."
                )
                % {"title": instrument.title}
            )
        at = clock.now()
        assessment = Assessment.objects.create(
            case=case,
            district_id=case.district_id,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_kind=instrument.kind,
            previous=prior,
            started_by=actor,
            started_at=at,
            updated_at=at,
        )
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=assessment,
            detail=_audit_detail(assessment, previous=prior.pk if prior else None),
        )
        touch(case, at)
    return assessment


# Answering ---------------------------------------------------------------------------------------


def _item_ids(instrument: Instrument) -> set[str]:
    if instrument.kind == "checklist":
        return {item.id for item in instrument.items()}
    if instrument.kind == "themes":
        return {theme.id for theme in instrument.themes}
    return {step.id for step in instrument.steps}


def _is_empty(value: Any) -> bool:
    return engine.is_empty(value)  # an item's answer with an evidence note is not empty without its value


def check_answers(instrument: Instrument, answers: Mapping[str, Any], *, version: int | None = None) -> list[str]:
    """What is wrong with answers posted for ``instrument``: another version, unknown items, bad
    values (the engine's messages). Empty values (a cleared answer) are not checked."""
    if version is not None and version != instrument.version:
        return [
            _(
                "These answers are for version %(theirs)d of “%(title)s”; this assessment uses version %(ours)d. "
                "Reload the page and enter them again."
            )
            % {"theirs": version, "title": instrument.title, "ours": instrument.version}
        ]
    known = _item_ids(instrument)
    unknown = sorted(str(key) for key in answers if key not in known)
    if unknown:
        return [
            _("“%(items)s” is not part of version %(version)d of “%(title)s”.")
            % {"items": "”, “".join(unknown), "version": instrument.version, "title": instrument.title}
        ]
    given = {key: value for key, value in answers.items() if not _is_empty(value)}
    return [str(message) for message in engine.validate_answers(instrument, given)]


def do_save_answers(
    *,
    actor: User,
    assessment: Assessment,
    answers: Mapping[str, Any],
    revision: int,
    version: int | None = None,
) -> tuple[Assessment, list[str]]:
    """Merge the answers of the items posted into the assessment (an empty value clears an item),
    if nobody saved it since ``revision``. Returns the assessment and the ids of the items changed
    (none: nothing is written)."""
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if fresh.status != Assessment.Status.DRAFT:
            raise _status_refusal(fresh, doing=_("saving answers"))
        instrument = instrument_of(fresh)
        problems = check_answers(instrument, answers, version=version)
        if problems:
            raise AssessmentError(" ".join(problems))
        if fresh.revision != revision:
            raise StaleSave(
                _(
                    "Someone saved this assessment after you opened it, so your answers were not saved (nothing "
                    "was lost: they are shown again below). Check them against the answers saved now, then save again."
                ),
                current_revision=fresh.revision,
            )
        current = fresh.answers
        merged = dict(current)
        for key, value in answers.items():
            if _is_empty(value):
                merged.pop(key, None)
            else:
                merged[key] = value
        changed = sorted(key for key in answers if current.get(key) != merged.get(key))
        if not changed:
            return fresh, []
        at = clock.now()
        fresh.answers = merged
        fresh.revision += 1  # the case's lock serialises saves
        fresh.updated_at = at
        fresh.save(update_fields=["answers_json", "revision", "updated_at"])
        Contribution.objects.create(assessment=fresh, user=actor, at=at, items=changed)
        audit(
            actor=actor,
            case=case,
            target=fresh,
            detail=_audit_detail(fresh, answers_saved=changed, revision=fresh.revision),
        )
        touch(case, at)
    return fresh, changed


# The decision ------------------------------------------------------------------------------------


def do_record_decision(
    *,
    actor: User,
    assessment: Assessment,
    level_id: str,
    rationale: str,
    override_reason: str = "",
    revision: int,
) -> Assessment:
    """Record the team's decision: ``level_id`` of the district's scheme with its written rationale
    (and ``override_reason`` when it differs from the suggestion). ``revision``: the assessment's
    revision the decision was made on (the page's; refused when the answers changed since). A level
    that needs approval waits for a leader (notified) unless the actor is one; otherwise the level
    takes effect now. Refused while another decision on the case waits for approval."""
    rationale = clean_text(rationale, label=_("The rationale"), max_chars=MAX_RATIONALE_CHARS, required=True)
    override_reason = clean_text(
        override_reason, label=_("The reason for differing"), max_chars=MAX_REASON_CHARS, required=False
    )
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if fresh.status != Assessment.Status.DRAFT:
            raise _status_refusal(fresh, doing=_("recording a decision"))
        waiting = pending_decision(case, exclude=fresh)
        if waiting is not None:
            raise PendingDecision(_pending_message(waiting), pending=waiting)
        if fresh.revision != revision:
            raise StaleSave(
                _(
                    "The answers changed after you opened the page, and with them perhaps the suggestion. "
                    "Nothing was recorded: check the suggestion now shown, then record the decision again."
                ),
                current_revision=fresh.revision,
            )
        registry = levels.registry_for(case.district_id)
        instrument = instrument_of(fresh, registry)
        scheme = levels.scheme_for(case.district_id)
        try:
            level = scheme.level(level_id)
        except KeyError:
            raise AssessmentError(
                _("“%(level)s” is not a level of your district's scheme (%(levels)s). Choose one of its levels.")
                % {"level": level_id, "levels": ", ".join(str(lv.label) for lv in scheme.levels)}
            ) from None
        suggestion = suggestion_for(instrument, fresh.answers, scheme)
        if suggestion.needs_reason(level.id):
            if not override_reason:
                if suggestion.level is None:
                    raise AssessmentError(
                        _(
                            "The instrument is not complete, so there is no suggested level yet: complete it, or "
                            "give the reason for deciding without a suggestion."
                        )
                    )
                raise AssessmentError(
                    _(
                        "The level you chose (%(chosen)s) differs from the suggested level (%(suggested)s): "
                        "give the reason."
                    )
                    % {"chosen": level.label, "suggested": suggestion.level.label}
                )
        else:
            override_reason = ""  # nothing to explain: the decision follows the suggestion
        at = clock.now()
        evaluation = suggestion.evaluation
        fresh.suggested_outcome = evaluation.outcome or ""
        fresh.suggested_level = suggestion.level.id if suggestion.level else ""
        fresh.suggestion_reasons = [str(reason) for reason in evaluation.reasons]  # encrypted (a JSON text)
        fresh.scheme_id, fresh.scheme_version = scheme.id, scheme.version
        fresh.level, fresh.level_rank = level.id, scheme.rank(level.id)
        fresh.rationale, fresh.override_reason = rationale, override_reason
        fresh.decided_by, fresh.decided_at = actor, at
        fresh.approved_by, fresh.approved_at = None, None
        fresh.updated_at = at
        self_approved = level.approval and case_access.is_leader_for(actor, case)
        if level.approval and not self_approved:
            fresh.status = Assessment.Status.PENDING_APPROVAL
        else:
            fresh.status = Assessment.Status.DECIDED
            if self_approved:
                fresh.approved_by, fresh.approved_at = actor, at
        fresh.save()
        audit(
            actor=actor,
            case=case,
            target=fresh,
            detail=_audit_detail(
                fresh,
                decision=fresh.status,
                scheme=scheme.id,
                scheme_version=scheme.version,
                level=level.id,
                suggested_outcome=fresh.suggested_outcome,
                suggested_level=fresh.suggested_level,
                override=bool(override_reason),
                self_approved=self_approved,
            ),
        )
        if fresh.status == Assessment.Status.DECIDED:
            apply_level(
                actor=actor, case=case, assessment=fresh, scheme=scheme, level_id=level.id, rationale=rationale, at=at
            )
        else:
            _notify(
                recipients=[u for u in case_access.leaders_of(case) if u.pk != actor.pk],
                case=case,
                assessment=fresh,
                kind="decision_approval",
                title=_("A risk-level decision on case %(number)s needs your approval") % {"number": case.number},
                scope=f"assessment:{fresh.pk}:approval:{at.isoformat()}",
            )
            touch(case, at)
    return fresh


def do_approve_decision(*, actor: User, assessment: Assessment) -> Assessment:
    """A team leader of the case approves a decision waiting for approval: its level takes effect."""
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if fresh.status == Assessment.Status.DECIDED:
            raise AssessmentError(_("This decision is already decided: there is nothing left to approve."))
        if fresh.status != Assessment.Status.PENDING_APPROVAL:
            raise AssessmentError(_("No decision of this assessment is waiting for approval."))
        if not case_access.is_leader_for(actor, case):
            raise AssessmentError(_("Only a team leader of the case's school can approve this decision."))
        if superseded(fresh):
            raise AssessmentError(
                _(
                    "A newer decision took effect since; decline this one or reassess. (A level took effect on "
                    "this case after this decision was recorded: approving it would replace the newer level.)"
                )
            )
        scheme = scheme_of(fresh)
        if scheme is None:
            raise AssessmentError(
                _("The level scheme of this decision (%(id)s, version %(version)s) is not available any more.")
                % {"id": fresh.scheme_id, "version": fresh.scheme_version}
            )
        at = clock.now()
        fresh.status = Assessment.Status.DECIDED
        fresh.approved_by, fresh.approved_at = actor, at
        fresh.updated_at = at
        fresh.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        audit(actor=actor, case=case, target=fresh, detail=_audit_detail(fresh, approved=True, level=fresh.level))
        apply_level(
            actor=actor,
            case=case,
            assessment=fresh,
            scheme=scheme,
            level_id=fresh.level,
            rationale=fresh.rationale,
            at=at,
        )
    return fresh


def do_decline_decision(*, actor: User, assessment: Assessment, reason: str) -> Assessment:
    """A team leader declines a decision waiting for approval, with a reason: the decision is kept
    in the record (a :class:`~btam.assessments.models.DeclinedDecision`: its level, rationale, who
    recorded it and who declined it, when and why), the assessment is a draft again (its rationale
    kept for the next attempt) and the member who recorded it is told."""
    reason = clean_text(reason, label=_("The reason for declining"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if fresh.status != Assessment.Status.PENDING_APPROVAL:
            raise AssessmentError(_("No decision of this assessment is waiting for approval."))
        if not case_access.is_leader_for(actor, case):
            raise AssessmentError(_("Only a team leader of the case's school can decline this decision."))
        at = clock.now()
        recorder_id = fresh.decided_by_id
        declined_level = fresh.level
        declined = DeclinedDecision.objects.create(
            assessment=fresh,
            scheme_id=fresh.scheme_id,
            scheme_version=fresh.scheme_version,
            level=fresh.level,
            level_rank=fresh.level_rank,
            suggested_outcome=fresh.suggested_outcome,
            suggested_level=fresh.suggested_level,
            rationale=fresh.rationale,
            override_reason=fresh.override_reason,
            decided_by_id=fresh.decided_by_id,
            decided_at=fresh.decided_at,
            declined_by=actor,
            declined_at=at,
            reason=reason,
        )
        # The assessment keeps the latest decline (the form shows it); every decline is a row above.
        fresh.status = Assessment.Status.DRAFT
        fresh.declined_by, fresh.declined_at, fresh.decline_reason = actor, at, reason
        fresh.decided_by, fresh.decided_at = None, None
        fresh.scheme_id, fresh.scheme_version, fresh.level, fresh.level_rank = "", None, "", None
        fresh.suggested_outcome, fresh.suggested_level, fresh.suggestion_reasons = "", "", []
        fresh.updated_at = at
        fresh.save()
        audit(
            actor=actor,
            case=case,
            target=fresh,
            detail=_audit_detail(fresh, declined=True, declined_decision=declined.pk, level=declined_level),
        )
        if recorder_id is not None and recorder_id != actor.pk:
            from btam.accounts.models import User

            _notify(
                recipients=list(User.objects.filter(pk=recorder_id)),
                case=case,
                assessment=fresh,
                kind="decision_declined",
                title=_("A risk-level decision on case %(number)s was declined") % {"number": case.number},
                scope=f"assessment:{fresh.pk}:declined:{at.isoformat()}",
            )
        touch(case, at)
    return fresh


def apply_level(
    *,
    actor: User,
    case: Case,
    assessment: Assessment | None,
    scheme: LevelScheme,
    level_id: str,
    rationale: str,
    at: dt.datetime,
) -> LevelChange:
    """The level takes effect on the case: its risk fields, a LevelChange (the history), the
    reassessment schedule (``schedule.schedule_from_level``) and an audit event, all in the
    caller's transaction (a decision's or an approval's; on its own, in one of its own). The case
    is locked (again) here, and must still be editable."""
    from btam.assessments.schedule import schedule_from_level

    level = scheme.level(level_id)  # KeyError: a programming error (callers validate the level)
    rank = scheme.rank(level.id)
    with transaction.atomic():
        locked = lock_case(case, actor)
        ensure_editable(locked)
        before = snapshot(locked)
        previous_level, previous_rank = locked.risk_level, locked.risk_rank
        fields = {
            "risk_level": level.id,
            "risk_scheme": scheme.id,
            "risk_rank": rank,
            "risk_rationale": rationale,
            "risk_set_at": at,
            "risk_set_by": actor,
            "updated_at": at,
        }
        for target in (locked, case):  # the caller's copy shows the new level too
            for name, value in fields.items():
                setattr(target, name, value)
        locked.save(update_fields=list(fields))
        change = LevelChange.objects.create(
            case=locked,
            assessment=assessment,
            scheme_id=scheme.id,
            scheme_version=scheme.version,
            level=level.id,
            rank=rank,
            previous_level=previous_level,
            previous_rank=previous_rank,
            set_by=actor,
            set_at=at,
        )
        schedule_from_level(actor=actor, case=locked, scheme=scheme, level_id=level.id, at=at)
        case.reassess_due_on = locked.reassess_due_on
        touch(locked, at)
        audit(
            actor=actor,
            case=locked,
            before=before,
            after=snapshot(locked),
            detail={
                "level_change": change.pk,
                "assessment": assessment.pk if assessment else None,
                "scheme": scheme.id,
                "scheme_version": scheme.version,
                "level": level.id,
                "previous_level": previous_level,
                # The keys the case timeline reads a level change by (btam/cases/timeline.py).
                "risk_level": level.id,
                "risk_scheme": scheme.id,
            },
        )
    return change


# Dissent and discarding --------------------------------------------------------------------------


def do_record_dissent(*, actor: User, assessment: Assessment, text: str) -> Dissent:
    """A member's recorded disagreement with a decision (decided or waiting for approval)."""
    text = clean_text(text, label=_("The dissent"), max_chars=MAX_DISSENT_CHARS, required=True)
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if fresh.status not in (Assessment.Status.DECIDED, Assessment.Status.PENDING_APPROVAL):
            raise AssessmentError(
                _("A dissent is recorded with a decision: this assessment has no decision to disagree with.")
            )
        at = clock.now()
        dissent = Dissent.objects.create(assessment=fresh, author=actor, text=text, created_at=at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=dissent,
            detail=_audit_detail(fresh, dissent=dissent.pk, decision=fresh.status),
        )
        touch(case, at)
    return dissent


def do_discard_assessment(*, actor: User, assessment: Assessment) -> Assessment:
    """Discard an assessment in progress (it stays in the record, marked discarded)."""
    with transaction.atomic():
        case, fresh = _locked(assessment, actor)
        if not fresh.can_transition_to(Assessment.Status.DISCARDED):
            raise _status_refusal(fresh, doing=_("discarding it"))
        at = clock.now()
        fresh.status = Assessment.Status.DISCARDED
        fresh.updated_at = at
        fresh.save(update_fields=["status", "updated_at"])
        audit(actor=actor, case=case, target=fresh, detail=_audit_detail(fresh, discarded=True))
        touch(case, at)
    return fresh
