"""Management-plan actions: add and change an intervention, move it between statuses (completing
or stopping it needs its outcome), add a task to it, and save the case's safety plan.

Each action follows the case modules' pattern (btam/cases/task_actions.py): one transaction under
the case's lock (:func:`~btam.cases.actions.lock_case`, which checks again that the actor may
change the case), :func:`~btam.cases.actions.ensure_editable` (a closed or merged case is a
record), validation, the change, ``touch`` and an audit event holding codes, ids, dates and flags,
never the text of the details, the outcome or the safety plan. An intervention's new owner is told
through their inbox (``intervention_assigned``) by a title that names the case number only. A
change that cannot be made raises :class:`~btam.cases.actions.CaseError`; nothing is written then.
While the case is monitored, the last intervention of a kind its level requires can be neither
stopped nor given another kind (the plan stays complete; see ``plan``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from btam.assessments import plan, schedule
from btam.assessments.models import Intervention, SafetyPlan
from btam.audit.models import Verb
from btam.cases import access, task_actions
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case, Task
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_DETAILS_CHARS = 10_000
MAX_OUTCOME_CHARS = 5_000
MAX_SECTION_CHARS = 5_000
# Dates of an intervention: from this day, and no further ahead than MAX_YEARS_AHEAD (a typo: 2206).
EARLIEST_DATE = dt.date(2000, 1, 1)
MAX_YEARS_AHEAD = 5
# A safety plan is reviewed within this many days.
MAX_REVIEW_DAYS = 366

IStatus = Intervention.Status
ENDED_STATUSES: frozenset[str] = frozenset({IStatus.COMPLETED, IStatus.STOPPED})

# Allowed moves of an intervention's status. A completed or stopped one can be put back in place.
TRANSITIONS: dict[str, frozenset[str]] = {
    IStatus.PLANNED: frozenset({IStatus.ACTIVE, IStatus.COMPLETED, IStatus.STOPPED}),
    IStatus.ACTIVE: frozenset({IStatus.COMPLETED, IStatus.STOPPED}),
    IStatus.COMPLETED: frozenset({IStatus.ACTIVE}),
    IStatus.STOPPED: frozenset({IStatus.ACTIVE}),
}


def can_transition(intervention: Intervention, status: str) -> bool:
    return status in TRANSITIONS.get(intervention.status, frozenset())


def next_statuses(intervention: Intervention) -> list[str]:
    allowed = TRANSITIONS.get(intervention.status, frozenset())
    return [s for s in IStatus.values if s in allowed]


def is_ended(intervention: Intervention) -> bool:
    return intervention.status in ENDED_STATUSES


def plan_path(case: Case) -> str:
    return reverse("assessments:plan", args=[case.pk])


# Validation ------------------------------------------------------------------------------------------


def _clean_kind(case: Case, kind: str, *, current: str | None = None) -> str:
    """A kind the district offers now (or the intervention's own kind, kept as it is)."""
    kind = (kind or "").strip()
    if not kind:
        raise CaseError(_("Choose the intervention."))
    if kind == current:
        return kind
    if kind not in {k.code for k in plan.kinds_for(case.district_id)}:
        raise CaseError(
            _("“%(kind)s” is not an intervention of this district: choose one from the list.") % {"kind": kind[:60]}
        )
    return kind


def _clean_date(value: dt.date | None, *, label: str) -> dt.date | None:
    if value is None:
        return None
    if value < EARLIEST_DATE:
        raise CaseError(
            _("%(label)s is before %(date)s: check the year.") % {"label": label, "date": EARLIEST_DATE.isoformat()}
        )
    if value > schedule.today() + dt.timedelta(days=365 * MAX_YEARS_AHEAD + 1):
        raise CaseError(
            _("%(label)s is more than %(years)d years away: check the year.")
            % {"label": label, "years": MAX_YEARS_AHEAD}
        )
    return value


def _clean_dates(starts_on: dt.date | None, ends_on: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    starts_on = _clean_date(starts_on, label=_("The start date"))
    ends_on = _clean_date(ends_on, label=_("The end or review date"))
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise CaseError(_("The end or review date is before the start date."))
    return starts_on, ends_on


def _clean_details(details: str) -> str:
    return clean_text(details, label=_("The details field"), max_chars=MAX_DETAILS_CHARS, required=False)


def _clean_outcome(outcome: str, *, required: bool) -> str:
    return clean_text(outcome, label=_("The outcome"), max_chars=MAX_OUTCOME_CHARS, required=required)


def _check_owner(case: Case, owner: User | None) -> None:
    if owner is None:
        raise CaseError(_("Choose who is responsible for the intervention."))
    if owner.pk not in {u.pk for u in access.assignable_users(case)}:
        raise CaseError(_("The owner must be someone on the team working this case."))


def _state(item: Intervention) -> dict[str, Any]:
    """The audited state of an intervention (no details or outcome: they are free text)."""
    return {
        "kind": item.kind,
        "status": item.status,
        "owner": item.owner_id,
        "starts_on": item.starts_on.isoformat() if item.starts_on else None,
        "ends_on": item.ends_on.isoformat() if item.ends_on else None,
    }


def _keep_required(case: Case, item: Intervention) -> None:
    """While the case is monitored its plan keeps every kind the level requires: refuse to take
    away the last intervention of a required kind (stopping it or changing its kind). Called under
    the case's lock, which every change of the plan and of the case's stage takes."""
    if plan.is_monitored(case) and plan.last_required_of_its_kind(case, item):
        raise CaseError(plan.still_required_message(case, item))


def _locked_intervention(item: Intervention, case: Case) -> Intervention:
    fresh = Intervention.objects.filter(pk=item.pk, case_id=case.pk).select_related("owner").first()
    if fresh is None:
        raise CaseError(_("This intervention is no longer on this case."))
    return fresh


def _tell_owner(*, case: Case, item: Intervention, actor: User, at: dt.datetime) -> None:
    """The new owner's inbox item (and email): the case number only, never the kind or details."""
    from btam.notifications.delivery import notify

    owner = item.owner
    if owner is None or owner.pk == actor.pk:
        return
    notify(
        recipients=[owner],
        district_id=case.district_id,
        kind="intervention_assigned",
        title=_("An intervention on case %(number)s was assigned to you") % {"number": case.number},
        link=plan_path(case),
        target=case,
        urgent=False,
        dedupe_scope=f"intervention:{item.pk}:owner:{owner.pk}:{at.isoformat()}",
        email=True,
    )


# Interventions -----------------------------------------------------------------------------------------


def do_add_intervention(
    *,
    actor: User,
    case: Case,
    kind: str,
    owner: User | None,
    details: str = "",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Intervention:
    details = _clean_details(details)
    starts_on, ends_on = _clean_dates(starts_on, ends_on)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        kind = _clean_kind(case, kind)
        _check_owner(case, owner)
        at = clock.now()
        item = Intervention.objects.create(
            case=case,
            kind=kind,
            details=details,
            owner=owner,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
            created_at=at,
            updated_at=at,
        )
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=item,
            after=_state(item),
            detail={"intervention": item.pk, "details_given": bool(details)},
        )
        _tell_owner(case=case, item=item, actor=actor, at=at)
    return item


def do_update_intervention(
    *,
    actor: User,
    intervention: Intervention,
    kind: str,
    owner: User | None,
    details: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    outcome: str | None = None,
) -> Intervention:
    """Change an intervention's kind, owner, details or dates (and, once it has ended, its
    outcome: it cannot be emptied). ``outcome=None`` leaves the outcome as it is."""
    details = _clean_details(details)
    starts_on, ends_on = _clean_dates(starts_on, ends_on)
    with transaction.atomic():
        case = lock_case(intervention.case_id, actor)
        ensure_editable(case)
        item = _locked_intervention(intervention, case)
        kind = _clean_kind(case, kind, current=item.kind)
        if kind != item.kind:
            _keep_required(case, item)
        if owner is None or owner.pk != item.owner_id:
            _check_owner(case, owner)
        if outcome is None:
            outcome = item.outcome
        else:
            outcome = _clean_outcome(outcome, required=is_ended(item))
        before = _state(item)
        details_changed = details != item.details
        outcome_changed = outcome != item.outcome
        new_owner = owner is not None and owner.pk != item.owner_id
        unchanged = (
            not details_changed
            and not outcome_changed
            and not new_owner
            and (kind, starts_on, ends_on) == (item.kind, item.starts_on, item.ends_on)
        )
        if unchanged:
            return item
        at = clock.now()
        item.kind, item.owner, item.details, item.outcome = kind, owner, details, outcome
        item.starts_on, item.ends_on = starts_on, ends_on
        item.updated_at = at
        item.save(update_fields=["kind", "owner", "details", "outcome", "starts_on", "ends_on", "updated_at"])
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=item,
            before=before,
            after=_state(item),
            detail={"intervention": item.pk, "details_changed": details_changed, "outcome_changed": outcome_changed},
        )
        if new_owner:
            _tell_owner(case=case, item=item, actor=actor, at=at)
    return item


def do_set_intervention_status(
    *, actor: User, intervention: Intervention, status: str, outcome: str = ""
) -> Intervention:
    """Move an intervention: put it in place, complete or stop it (with its outcome), or put an
    ended one back in place. Putting one in place dates its start (when it has none); ending it
    dates its end (when it has none and it has started)."""
    if status not in IStatus.values:
        raise CaseError(_("Unknown intervention status."))
    ending = status in ENDED_STATUSES
    outcome = _clean_outcome(outcome, required=ending) if ending else ""
    with transaction.atomic():
        case = lock_case(intervention.case_id, actor)
        ensure_editable(case)
        item = _locked_intervention(intervention, case)
        if item.status == status:
            raise CaseError(
                _("This intervention is already %(status)s.") % {"status": item.get_status_display().lower()}
            )
        if not can_transition(item, status):
            raise CaseError(
                _("An intervention that is %(from)s cannot become %(to)s.")
                % {"from": item.get_status_display().lower(), "to": IStatus(status).label.lower()}
            )
        if status == IStatus.STOPPED:
            _keep_required(case, item)
        before, at, now = _state(item), clock.now(), schedule.today()
        item.status = status
        if status == IStatus.ACTIVE and item.starts_on is None:
            item.starts_on = now
        if ending:
            item.outcome = outcome
            if item.ends_on is None and (item.starts_on is None or item.starts_on <= now):
                item.ends_on = now
        item.updated_at = at
        item.save(update_fields=["status", "starts_on", "ends_on", "outcome", "updated_at"])
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=item,
            before=before,
            after=_state(item),
            detail={"intervention": item.pk, "outcome_given": bool(outcome)},
        )
    return item


def do_add_intervention_task(
    *,
    actor: User,
    intervention: Intervention,
    title: str,
    assignee: User | None = None,
    due_on: dt.date | None = None,
) -> Task:
    """A task of the case (btam/cases/task_actions.py: its checks, its assignee's notification)
    linked to an intervention that has not ended."""
    with transaction.atomic():
        case = lock_case(intervention.case_id, actor)
        ensure_editable(case)
        item = _locked_intervention(intervention, case)
        if is_ended(item):
            raise CaseError(
                _("This intervention is %(status)s: put it back in place to add a task.")
                % {"status": item.get_status_display().lower()}
            )
        task = task_actions.do_add_task(actor=actor, case=case, title=title, assignee=assignee, due_on=due_on)
        item.tasks.add(task)
        at = clock.now()
        Intervention.objects.filter(pk=item.pk).update(updated_at=at)
        audit(actor=actor, case=case, target=item, detail={"intervention": item.pk, "task_linked": task.pk})
    return task


# The safety plan ------------------------------------------------------------------------------------------


def version_of(safety_plan: SafetyPlan | None) -> str:
    """The token a safety-plan form carries: a save from a page opened before someone else's save
    is refused instead of overwriting it."""
    return safety_plan.updated_at.isoformat() if safety_plan is not None else "new"


def _clean_review(review_on: dt.date | None, *, previous: str | None) -> dt.date:
    if review_on is None:
        raise CaseError(_("Enter the date the safety plan will be reviewed."))
    if previous and review_on.isoformat() == previous:
        return review_on  # an unchanged date may have passed: the plan is overdue for review, not invalid
    now = schedule.today()
    if review_on < now:
        raise CaseError(_("The review date has passed: choose today or a later day."))
    if review_on > now + dt.timedelta(days=MAX_REVIEW_DAYS):
        raise CaseError(_("Review a safety plan within a year: choose an earlier review date."))
    return review_on


def do_save_safety_plan(
    *,
    actor: User,
    case: Case,
    sections: Mapping[str, str],
    review_on: dt.date | None,
    version: str | None = None,
) -> SafetyPlan:
    """Write the case's safety plan: the text of each section (``plan.SECTION_IDS``) and its
    review date. ``version`` (from :func:`version_of` when the form was shown) refuses a stale save."""
    unknown = sorted(set(sections) - set(plan.SECTION_IDS))
    if unknown:
        raise CaseError(_("Unknown section of the safety plan: %(ids)s.") % {"ids": ", ".join(unknown)[:200]})
    texts: dict[str, str] = {}
    for section in plan.SAFETY_SECTIONS:
        text = clean_text(
            sections.get(section.id, ""), label=str(section.label), max_chars=MAX_SECTION_CHARS, required=False
        )
        if text:
            texts[section.id] = text
    if not texts:
        raise CaseError(_("Write at least one section of the safety plan."))
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        current = SafetyPlan.objects.select_for_update().filter(case_id=case.pk).first()
        if version is not None and version != version_of(current):
            raise CaseError(
                _(
                    "Someone else saved the safety plan after you opened it. Your text is kept in the form: "
                    "open the plan again in another tab, compare, and save once more."
                )
            )
        old = current.sections if current is not None else {}
        review = _clean_review(review_on, previous=old.get(plan.REVIEW_KEY))
        new = {**texts, plan.REVIEW_KEY: review.isoformat()}
        changed = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
        if current is not None and not changed:
            return current
        at = clock.now()
        safety_plan = current or SafetyPlan(case=case)
        safety_plan.sections = new
        safety_plan.updated_by, safety_plan.updated_at = actor, at
        safety_plan.save()
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED if current is None else Verb.UPDATED,
            target=safety_plan,
            detail={
                "safety_plan": safety_plan.pk,
                "sections": sorted(texts),
                "changed": changed,
                "review_on": review.isoformat(),
            },
        )
    return safety_plan
