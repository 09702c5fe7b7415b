"""State changes of the people registry. Each is atomic and writes its audit event in the same transaction.

Merging two records of one person moves what hangs off the duplicate (enrolments, guardian
links, demographics when the survivor has none) to the survivor, marks the duplicate as merged
into it and records exactly which rows moved, so that the undo can put them back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.lib import clock
from btam.people import access
from btam.people.models import Demographics, Enrollment, GuardianLink, Person, PersonMerge

MAX_REASON_CHARS = 2000


class MergeError(Exception):
    """A merge or an undo that may not happen; the message is for the user."""


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise MergeError(_("Give a reason."))
    if len(reason) > MAX_REASON_CHARS:
        raise MergeError(_("The reason is too long (at most %(max)d characters).") % {"max": MAX_REASON_CHARS})
    return reason


def _lock(*pks: int) -> dict[int, Person]:
    """Both records, locked in id order (two merges of the same pair never deadlock)."""
    rows = Person.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {p.pk: p for p in rows}


def do_merge_people(*, actor: User, survivor: Person, merged: Person, reason: str) -> PersonMerge:
    """Merge ``merged`` (the duplicate) into ``survivor``. Reversible with :func:`do_undo_merge`."""
    reason = _clean_reason(reason)
    if survivor.pk == merged.pk:
        raise MergeError(_("A record cannot be merged with itself."))
    with transaction.atomic():
        locked = _lock(survivor.pk, merged.pk)
        if len(locked) != 2:
            raise MergeError(_("One of the records no longer exists."))
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        if survivor.district_id != merged.district_id:
            raise MergeError(_("Only records of the same district can be merged."))
        if not access.can_merge(actor, survivor.district_id):
            raise MergeError(_("You may not merge records in this district."))
        if merged.merged_into_id is not None:
            raise MergeError(_("The duplicate has already been merged into another record."))
        if survivor.merged_into_id is not None:
            raise MergeError(_("The record to keep has itself been merged into another record."))

        moved = _move_to_survivor(survivor, merged)
        now = clock.now()
        Person.objects.filter(pk=merged.pk).update(merged_into=survivor, updated_at=now)
        merged.merged_into = survivor
        merge = PersonMerge.objects.create(
            district_id=survivor.district_id,
            survivor=survivor,
            merged=merged,
            reason=reason,
            moved=moved,
            merged_by=actor,
            merged_at=now,
        )
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=merged,
            reason=reason,
            before={"merged_into": None},
            after={"merged_into": survivor.pk},
            detail={"change": "merged", "merge_id": merge.pk, "survivor_id": survivor.pk, "moved": _counts(moved)},
        )
    return merge


def _move_to_survivor(survivor: Person, merged: Person) -> dict[str, Any]:
    enrollments = list(Enrollment.objects.filter(person=merged).values_list("pk", flat=True))
    Enrollment.objects.filter(pk__in=enrollments).update(person=survivor)

    # A link the survivor already has (same guardian and student), or one between the two records
    # themselves, stays on the merged record: moving it would duplicate it or link the person to
    # themselves. It is not lost: the undo finds it where it was.
    survivor_guardians = set(GuardianLink.objects.filter(student=survivor).values_list("guardian_id", flat=True))
    survivor_students = set(GuardianLink.objects.filter(guardian=survivor).values_list("student_id", flat=True))
    as_guardian, as_student, kept = [], [], []
    for link in GuardianLink.objects.filter(Q(guardian=merged) | Q(student=merged)).order_by("pk"):
        if link.guardian_id == merged.pk:
            if link.student_id == survivor.pk or link.student_id in survivor_students:
                kept.append(link.pk)
            else:
                as_guardian.append(link.pk)
        elif link.guardian_id == survivor.pk or link.guardian_id in survivor_guardians:
            kept.append(link.pk)
        else:
            as_student.append(link.pk)
    GuardianLink.objects.filter(pk__in=as_guardian).update(guardian=survivor)
    GuardianLink.objects.filter(pk__in=as_student).update(student=survivor)

    demographics = None
    if not Demographics.objects.filter(person=survivor).exists():
        demographics = Demographics.objects.filter(person=merged).values_list("pk", flat=True).first()
        if demographics is not None:
            Demographics.objects.filter(pk=demographics).update(person=survivor)
    return {
        "enrollments": enrollments,
        "guardian_links_as_guardian": as_guardian,
        "guardian_links_as_student": as_student,
        "guardian_links_kept": kept,
        "demographics": demographics,
    }


def _counts(moved: dict[str, Any]) -> dict[str, int]:
    return {key: (len(value) if isinstance(value, list) else int(value is not None)) for key, value in moved.items()}


def do_undo_merge(*, actor: User, merge: PersonMerge, reason: str) -> PersonMerge:
    """Undo a merge: what moved goes back to the merged record, which is a record of its own again."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise MergeError(_("This merge has already been undone."))
        if not access.can_merge(actor, merge.district_id):
            raise MergeError(_("You may not undo merges in this district."))
        locked = _lock(merge.survivor_id, merge.merged_id)
        survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
        if merged.merged_into_id != survivor.pk:
            raise MergeError(_("The merged record no longer points to the record it was merged into."))
        if survivor.merged_into_id is not None:
            # Its rows may have moved on with it: undo the later merge first, so each undo
            # finds exactly what its merge moved.
            raise MergeError(_("The kept record has since been merged into another record: undo that merge first."))

        moved = merge.moved
        Enrollment.objects.filter(pk__in=moved.get("enrollments", []), person=survivor).update(person=merged)
        GuardianLink.objects.filter(pk__in=moved.get("guardian_links_as_guardian", []), guardian=survivor).update(
            guardian=merged
        )
        GuardianLink.objects.filter(pk__in=moved.get("guardian_links_as_student", []), student=survivor).update(
            student=merged
        )
        if moved.get("demographics") is not None:
            Demographics.objects.filter(pk=moved["demographics"], person=survivor).update(person=merged)

        now = clock.now()
        Person.objects.filter(pk=merged.pk).update(merged_into=None, updated_at=now)
        merge.undone_by = actor
        merge.undone_at = now
        merge.save(update_fields=["undone_by", "undone_at"])
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=merged,
            reason=reason,
            before={"merged_into": survivor.pk},
            after={"merged_into": None},
            detail={"change": "merge_undone", "merge_id": merge.pk, "survivor_id": survivor.pk},
        )
    return merge
