"""Cases and other cases: related cases (links), merging two cases (audited, reversible) and
splitting a report off into a case of its own.

Same pattern as ``actions.py``: keyword-only, ``actor=`` required, one transaction that locks the
cases it changes (always in id order, so two merges racing cannot deadlock), validation raising
:class:`~btam.cases.actions.CaseError`, and an audit event on every case touched. No free text
(a link's note, a merge's reason) goes into the audit trail or into ``CaseMerge.moved`` /
``source_before``: they hold ids, states and dates only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases import access, search
from btam.cases.actions import (
    MAX_REASON_CHARS,
    MAX_TITLE_CHARS,
    CaseError,
    audit,
    clean_text,
    do_open_case,
    ensure_editable,
    lock_case,
    snapshot,
    touch,
)
from btam.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    CaseMerge,
    CaseParticipant,
    CaseReport,
    CaseSchool,
    ClosureReason,
    Document,
    Note,
    Status,
    StatusChange,
    Task,
)
from btam.cases.task_actions import update_next_due
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.intake.models import Report

MAX_LINK_NOTE_CHARS = 2_000
_NUMBER = re.compile(r"^\s*(\d{4})\s*[-/ ]\s*(\d{1,6})\s*$")

# The rows a merge moves from the source to the target, by the key used in CaseMerge.moved.
_MOVED_MODELS: dict[str, Any] = {
    "reports": CaseReport,
    "participants": CaseParticipant,
    "notes": Note,
    "tasks": Task,
    "documents": Document,
}


# Finding a case by its number ---------------------------------------------------------------------


def parse_case_number(text: str) -> tuple[int, int]:
    """``"2026-0042"`` (or ``2026-42``) -> (2026, 42); CaseError for anything else."""
    match = _NUMBER.match(text or "")
    if match is None:
        raise CaseError(_("Enter a case number like 2026-0042."))
    return int(match.group(1)), int(match.group(2))


def not_found_message(text: str) -> str:
    """The same words whether the case does not exist or the user may not see it."""
    return _("There is no case %(number)s that you can see in this district.") % {"number": text.strip()[:20]}


def find_case_by_number(user: User, *, district_id: int, number: str) -> Case:
    """The case of ``district_id`` numbered ``number`` that ``user`` may see; CaseError (one message
    for "no such case" and "not yours to see": its existence is not revealed) otherwise."""
    year, seq = parse_case_number(number)
    case = (
        Case.objects.visible_to(user)
        .select_related("school", "district", "manager")
        .filter(district_id=district_id, year=year, seq=seq)
        .first()
    )
    if case is None:
        raise CaseError(not_found_message(number))
    return case


# Helpers ------------------------------------------------------------------------------------------


def _lock_pair(first: Case, second: Case, actor: User) -> tuple[Case, Case]:
    """Both cases locked (in id order) if the actor may change both; CaseError otherwise."""
    low, high = sorted((first.pk, second.pk))
    locked = {low: lock_case(low, actor), high: lock_case(high, actor)}
    return locked[first.pk], locked[second.pk]


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _links_of(case: Case) -> Q:
    return Q(from_case_id=case.pk) | Q(to_case_id=case.pk)


# Related cases ------------------------------------------------------------------------------------


def do_link_cases(*, actor: User, case: Case, other: Case, note: str = "") -> CaseLink:
    """Record that ``case`` and ``other`` are related (the actor works ``case`` and sees ``other``,
    both of one district). Shown on both cases' overviews."""
    note = clean_text(note, label=_("The note"), max_chars=MAX_LINK_NOTE_CHARS, required=False)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if other.pk == case.pk:
            raise CaseError(_("A case cannot be related to itself."))
        fresh = Case.objects.visible_to(actor).filter(pk=other.pk, district_id=case.district_id).first()
        if fresh is None:
            raise CaseError(not_found_message(other.number))
        other = fresh
        if other.is_merged:
            raise CaseError(
                _("Case %(number)s was merged into another case: relate this case to that one.")
                % {"number": other.number}
            )
        low, high = _pair(case.pk, other.pk)
        if CaseLink.objects.filter(from_case_id=low, to_case_id=high).exists():
            raise CaseError(_("Case %(number)s is already related to this case.") % {"number": other.number})
        at = clock.now()
        link = CaseLink.objects.create(from_case_id=low, to_case_id=high, note=note, created_at=at, created_by=actor)
        touch(case, at)
        audit(actor=actor, case=case, verb=Verb.CREATED, target=link, detail={"linked_case": other.pk})
        audit(actor=actor, case=other, verb=Verb.CREATED, target=link, detail={"linked_case": case.pk})
    return link


def do_unlink_cases(*, actor: User, case: Case, link: CaseLink) -> None:
    """Remove the relation (from either of its cases; the audit trail keeps that it existed)."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        row = CaseLink.objects.select_for_update().filter(_links_of(case), pk=link.pk).first()
        if row is None:
            raise CaseError(_("These cases are no longer related."))
        other_id = row.to_case_id if row.from_case_id == case.pk else row.from_case_id
        before = {"from_case": row.from_case_id, "to_case": row.to_case_id}
        at = clock.now()
        row.delete()
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            verb=Verb.DELETED,
            before=before,
            detail={"link": link.pk, "unlinked_case": other_id},
        )
        other = Case.objects.filter(pk=other_id).first()
        if other is not None:
            audit(
                actor=actor,
                case=other,
                verb=Verb.DELETED,
                before=before,
                detail={"link": link.pk, "unlinked_case": case.pk},
            )


# Merging ------------------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _source_state(case: Case) -> dict[str, Any]:
    """What a merge changes on the source (ids, states, dates: no free text), restored by an undo."""
    return {
        "status": case.status,
        "closed_from": case.closed_from,
        "closure_reason": case.closure_reason,
        "closure_requested_at": _iso(case.closure_requested_at),
        "closure_requested_by": case.closure_requested_by_id,
        "closed_at": _iso(case.closed_at),
        "closed_by": case.closed_by_id,
    }


def _counts(moved: dict[str, Any]) -> dict[str, int]:
    return {key: len(value) for key, value in moved.items()}


def merge_blocker(source: Case, target: Case) -> str | None:
    """Why ``source`` may not be merged into ``target`` (None: it may). Access is checked apart."""
    if source.pk == target.pk:
        return _("A case cannot be merged into itself.")
    if source.district_id != target.district_id:
        return _("Only cases of the same district can be merged.")
    if source.is_merged:
        return _("This case was already merged into another case.")
    if source.is_closed:
        return _("This case is closed. Reopen it to merge it.")
    if target.is_merged:
        return _("Case %(number)s was itself merged into another case: merge into that one.") % {
            "number": target.number
        }
    if target.is_closed:
        return _("Case %(number)s is closed: reopen it before merging a case into it.") % {"number": target.number}
    if source.restricted and not target.restricted:
        return _(
            "This case is restricted to named members and case %(number)s is not: merging would show its content "
            "to the whole team. Restrict case %(number)s first, or merge the other way."
        ) % {"number": target.number}
    return None


def do_merge_cases(*, actor: User, source: Case, target: Case, reason: str = "") -> CaseMerge:
    """Merge ``source`` into ``target``: the source's reports (with their reporter threads and
    attachments), people, notes, tasks, documents and related-case links move to the target; its
    status history stays. The source becomes a read-only record (closed, "merged into"), the
    teams and named members that worked it gain the target, and every moved id is kept in the
    :class:`CaseMerge` so :func:`do_undo_merge` can move exactly those rows back."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=False)
    if source.pk == target.pk:
        raise CaseError(_("A case cannot be merged into itself."))
    with transaction.atomic():
        source, target = _lock_pair(source, target, actor)
        problem = merge_blocker(source, target)
        if problem:
            raise CaseError(problem)
        at = clock.now()
        before_source, before_target = snapshot(source), snapshot(target)
        moved: dict[str, Any] = {}
        for key, model in _MOVED_MODELS.items():
            ids = sorted(model.objects.filter(case_id=source.pk).values_list("pk", flat=True))
            model.objects.filter(pk__in=ids).update(case_id=target.pk)
            moved[key] = ids
        moved["links"] = _move_links(source, target)
        moved["schools"] = _grant_schools(source, target, actor=actor, at=at)
        moved["members"] = _grant_members(source, target, actor=actor, at=at)

        merge = CaseMerge.objects.create(
            source=source,
            target=target,
            moved=moved,
            source_before=_source_state(source),
            reason=reason,
            created_at=at,
            created_by=actor,
        )
        StatusChange.objects.create(
            case=source,
            from_status=source.status,
            to_status=Status.CLOSED,
            actor=actor,
            reason=_("Merged into case %(number)s.") % {"number": target.number},
            created_at=at,
        )
        if not source.closed_from:
            source.closed_from = source.status
        source.status = Status.CLOSED
        source.closure_reason = ClosureReason.MERGED
        source.closed_at, source.closed_by = at, actor
        source.merged_into = target
        source.updated_at = at
        source.save()
        target.updated_at = at
        target.save(update_fields=["updated_at"])
        for case in (source, target):
            search.index_case(case)
            update_next_due(case)
        counts = _counts(moved)
        audit(
            actor=actor,
            case=source,
            before=before_source,
            after=snapshot(source),
            detail={"merged_into": target.pk, "merge": merge.pk, "moved": counts, "reason_given": bool(reason)},
        )
        audit(
            actor=actor,
            case=target,
            before=before_target,
            after=snapshot(target),
            detail={"merged_from": source.pk, "merge": merge.pk, "moved": counts, "reason_given": bool(reason)},
        )
    return merge


def _move_links(source: Case, target: Case) -> list[dict[str, int]]:
    """Re-point the source's related-case links to the target, except a link to the target itself
    and one the target already has (each kept as it is). Returns what each moved link was."""
    moved: list[dict[str, int]] = []
    existing = {
        row.to_case_id if row.from_case_id == target.pk else row.from_case_id
        for row in CaseLink.objects.filter(_links_of(target))
    }
    for link in CaseLink.objects.select_for_update().filter(_links_of(source)).order_by("pk"):
        other = link.to_case_id if link.from_case_id == source.pk else link.from_case_id
        if other == target.pk or other in existing:
            continue
        low, high = _pair(target.pk, other)
        moved.append({"id": link.pk, "from": link.from_case_id, "to": link.to_case_id})
        CaseLink.objects.filter(pk=link.pk).update(from_case_id=low, to_case_id=high)
        existing.add(other)
    return moved


def _grant_schools(source: Case, target: Case, *, actor: User, at: dt.datetime) -> list[int]:
    """The schools working the source (not removed) work the target too: the team that had the
    source's reports keeps them. Returns the rows created (an undo deletes exactly those)."""
    on_target = set(CaseSchool.objects.filter(case=target).values_list("school_id", flat=True))
    created = []
    for link in CaseSchool.objects.filter(case=source, removed_at__isnull=True).order_by("pk"):
        if link.school_id in on_target:
            continue
        row = CaseSchool.objects.create(
            case=target, school_id=link.school_id, access=link.access, added_at=at, added_by=actor
        )
        created.append(row.pk)
    return created


def _grant_members(source: Case, target: Case, *, actor: User, at: dt.datetime) -> list[int]:
    """When the target is restricted, the source's named members (and its manager) become named
    members of it: the people who worked the source keep seeing its rows."""
    if not target.restricted:
        return []
    wanted = set(CaseMember.objects.filter(case=source).values_list("user_id", flat=True))
    if source.manager_id:
        wanted.add(source.manager_id)
    wanted -= set(CaseMember.objects.filter(case=target).values_list("user_id", flat=True))
    rows = [CaseMember(case=target, user_id=user_id, added_at=at, added_by=actor) for user_id in sorted(wanted)]
    created = CaseMember.objects.bulk_create(rows)
    if created and any(row.pk is None for row in created):  # backends that do not return ids
        return list(
            CaseMember.objects.filter(case=target, user_id__in=wanted, added_at=at).values_list("pk", flat=True)
        )
    return [row.pk for row in created]


def do_undo_merge(*, actor: User, merge: CaseMerge, reason: str = "") -> CaseMerge:
    """Undo a merge: exactly the rows it moved go back to the source (those still on the target:
    a report split off since stays where it is), the access it granted is withdrawn, and the
    source is restored as it was (its stage, a pending closure request)."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=False)
    with transaction.atomic():
        row = CaseMerge.objects.select_for_update().filter(pk=merge.pk).first()
        if row is None or row.undone_at is not None:
            raise CaseError(_("This merge was already undone."))
        merge = row
        source, target = _lock_pair(Case(pk=merge.source_id), Case(pk=merge.target_id), actor)
        if source.merged_into_id != target.pk:
            raise CaseError(_("This merge was already undone."))
        ensure_editable(target)
        at = clock.now()
        before_source, before_target = snapshot(source), snapshot(target)
        moved: dict[str, Any] = merge.moved or {}
        back: dict[str, Any] = {}
        for key, model in _MOVED_MODELS.items():
            ids = [int(pk) for pk in moved.get(key, [])]
            still = sorted(model.objects.filter(pk__in=ids, case_id=target.pk).values_list("pk", flat=True))
            if model is Note and still:
                # Corrections written on the target since, to the notes going back, go with them.
                still += sorted(
                    Note.objects.filter(case_id=target.pk, corrects_id__in=still)
                    .exclude(pk__in=still)
                    .values_list("pk", flat=True)
                )
            model.objects.filter(pk__in=still).update(case_id=source.pk)
            back[key] = still
        back["links"] = _restore_links(moved.get("links", []), source, target)
        # The school leading the target now keeps its row (a transfer since may have reused it).
        granted = CaseSchool.objects.filter(pk__in=[int(pk) for pk in moved.get("schools", [])], case=target)
        granted = granted.exclude(school_id=target.school_id)
        back["schools"] = sorted(granted.values_list("pk", flat=True))
        CaseSchool.objects.filter(pk__in=back["schools"]).delete()
        # The target's case manager stays a named member (appointed from those rows since, say).
        named = CaseMember.objects.filter(pk__in=[int(pk) for pk in moved.get("members", [])], case=target)
        named = named.exclude(user_id=target.manager_id) if target.manager_id else named
        back["members"] = sorted(named.values_list("pk", flat=True))
        CaseMember.objects.filter(pk__in=back["members"]).delete()

        state = merge.source_before or {}
        restored = state.get("status") or source.closed_from or Status.SCREENING
        StatusChange.objects.create(
            case=source,
            from_status=Status.CLOSED,
            to_status=restored,
            actor=actor,
            reason=_("Merge into case %(number)s undone.") % {"number": target.number},
            created_at=at,
        )
        source.status = restored
        source.closed_from = state.get("closed_from", "")
        source.closure_reason = state.get("closure_reason", "")
        source.closure_requested_at = _parse(state.get("closure_requested_at"))
        source.closure_requested_by_id = state.get("closure_requested_by")
        source.closed_at = _parse(state.get("closed_at"))
        source.closed_by_id = state.get("closed_by")
        source.merged_into = None
        source.updated_at = at
        source.save()
        target.updated_at = at
        target.save(update_fields=["updated_at"])
        merge.undone_at, merge.undone_by = at, actor
        merge.save(update_fields=["undone_at", "undone_by"])
        for case in (source, target):
            search.index_case(case)
            update_next_due(case)
        counts = _counts(back)
        audit(
            actor=actor,
            case=source,
            before=before_source,
            after=snapshot(source),
            detail={"merge_undone": merge.pk, "moved_back": counts, "reason_given": bool(reason)},
        )
        audit(
            actor=actor,
            case=target,
            before=before_target,
            after=snapshot(target),
            detail={"merge_undone": merge.pk, "moved_back": counts, "reason_given": bool(reason)},
        )
    return merge


def _parse(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


def _restore_links(records: list[dict[str, int]], source: Case, target: Case) -> list[int]:
    """Point each link the merge moved back at the source (unless it was removed since, or the
    source is already related to that case some other way)."""
    restored = []
    for record in records:
        link = CaseLink.objects.select_for_update().filter(_links_of(target), pk=record["id"]).first()
        if link is None:
            continue
        low, high = int(record["from"]), int(record["to"])
        if CaseLink.objects.filter(from_case_id=low, to_case_id=high).exclude(pk=link.pk).exists():
            continue
        CaseLink.objects.filter(pk=link.pk).update(from_case_id=low, to_case_id=high)
        restored.append(link.pk)
    return restored


# Splitting ----------------------------------------------------------------------------------------


def do_split_report(*, actor: User, case: Case, report: Report, title: str = "") -> Case:
    """Take one report (of a case holding at least two) into a new case at the same school: the
    report's reporter thread and attachments go with it, the people it names join the new case
    (they stay on the old one too), and the two cases are related. The report's triage decision
    ("case opened") is not made again. A restricted case gives a restricted case, with the same
    named members."""
    title = clean_text(title, label=_("The title"), max_chars=MAX_TITLE_CHARS, required=False)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        link = CaseReport.objects.select_for_update().filter(case=case, report_id=report.pk).first()
        if link is None:
            raise CaseError(_("That report is not on this case."))
        if CaseReport.objects.filter(case=case).count() < 2:
            raise CaseError(_("A case needs at least two reports to split one off: this is its only report."))
        manager = case.manager if case.manager is not None and case.manager in access.assignable_users(case) else None
        new = do_open_case(
            actor=actor,
            school=case.school,
            title=title or _("Split from case %(number)s") % {"number": case.number},
            manager=manager,
            restricted=case.restricted,
        )
        at = new.opened_at
        if case.restricted:
            members = set(CaseMember.objects.filter(case=case).values_list("user_id", flat=True))
            members -= set(CaseMember.objects.filter(case=new).values_list("user_id", flat=True))
            CaseMember.objects.bulk_create(
                [CaseMember(case=new, user_id=user_id, added_at=at, added_by=actor) for user_id in sorted(members)]
            )
        CaseReport.objects.filter(pk=link.pk).update(case=new)
        report = link.report
        CaseParticipant.objects.bulk_create(_participants_from(report, case=new, actor=actor, at=at))
        low, high = _pair(case.pk, new.pk)
        relation = CaseLink.objects.create(
            from_case_id=low,
            to_case_id=high,
            note=_("Report %(ref)s was split off from case %(old)s into case %(new)s.")
            % {"ref": report.reference, "old": case.number, "new": new.number},
            created_at=at,
            created_by=actor,
        )
        touch(case, at)
        audit(actor=actor, case=case, detail={"report_split": report.pk, "split_to": new.pk, "link": relation.pk})
        audit(actor=actor, case=new, detail={"split_from": case.pk, "report": report.pk, "link": relation.pk})
    return new


def _participants_from(report: Report, *, case: Case, actor: User, at: dt.datetime) -> list[CaseParticipant]:
    """The people a report names, as participants of ``case`` (as opening a case from it adds them)."""
    from btam.cases.actions import _REPORT_ROLE_TO_PARTICIPANT

    rows = []
    for involved in report.involved.all():
        role = _REPORT_ROLE_TO_PARTICIPANT.get(involved.role)
        if role is None or not (involved.name or involved.person_id):
            continue
        rows.append(
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
        rows.append(
            CaseParticipant(
                case=case,
                role=CaseParticipant.Role.REPORTER,
                name=report.reporter_name,
                description=report.reporter_contact,
                added_at=at,
                added_by=actor,
            )
        )
    return rows
