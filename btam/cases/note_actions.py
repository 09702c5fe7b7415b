"""Notes on a case: add, edit (the author, for NOTE_EDIT_MINUTES), and appended corrections.

A note is part of the record: after the edit window (or for anyone but its author) it changes only
by an appended correction (a note with ``corrects`` pointing to the original; a correction of a
correction points to the original too, so every correction sits under the note it is about).

Each action locks the case (:func:`~btam.cases.actions.lock_case`), refuses a closed or merged
case (:func:`~btam.cases.actions.ensure_editable`), writes an audit event that never holds the
note's text (an edit records *that* it was edited and which fields), re-indexes the case's search
words and touches the case, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases import search
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case, Note
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User

NOTE_EDIT_MINUTES = 15
MAX_NOTE_CHARS = 50_000
# A note's date: the day it happened (an interview, a records review), never in the future.
EARLIEST_NOTE_DATE = dt.date(1990, 1, 1)


def today() -> dt.date:
    """Today in the site's time zone (a note written at 9 pm in New York is dated that day)."""
    return timezone.localdate(clock.now())


def edit_deadline(note: Note) -> dt.datetime:
    return note.created_at + dt.timedelta(minutes=NOTE_EDIT_MINUTES)


def edit_refusal(note: Note, user: User, *, has_corrections: bool, now: dt.datetime | None = None) -> str:
    """Why ``user`` may not edit ``note`` now ("" when they may). Shown on the page and raised by
    :func:`do_edit_note`. A corrected note is not edited any more: the correction would no longer
    say what it corrects."""
    if note.author_id != user.pk:
        return _("Only the author of a note can edit it. Add a correction instead: it is kept under the note.")
    if (now or clock.now()) >= edit_deadline(note):
        return _(
            "A note can be edited only in the %(minutes)d minutes after it is written. "
            "Add a correction instead: it is kept under the note."
        ) % {"minutes": NOTE_EDIT_MINUTES}
    if has_corrections:
        return _("This note already has a correction. Add another correction instead.")
    return ""


def _clean_kind(kind: str) -> str:
    if kind not in Note.Kind.values:
        raise CaseError(_("Choose the type of note."))
    return kind


def _clean_date(occurred_on: dt.date | None) -> dt.date:
    if occurred_on is None:
        raise CaseError(_("Enter the date it happened."))
    if occurred_on > today():
        raise CaseError(_("The date cannot be in the future."))
    if occurred_on < EARLIEST_NOTE_DATE:
        raise CaseError(
            _("The date cannot be before %(date)s.") % {"date": EARLIEST_NOTE_DATE.isoformat()},
        )
    return occurred_on


def _clean_body(body: str) -> str:
    return clean_text(body, label=_("The note"), max_chars=MAX_NOTE_CHARS, required=True)


def _locked_note(note: Note, case: Case) -> Note:
    """The note as it is now, under the case's lock (another request may have changed it)."""
    fresh = Note.objects.filter(pk=note.pk, case_id=case.pk).first()
    if fresh is None:
        raise CaseError(_("This note is no longer on this case."))
    return fresh


def do_add_note(*, actor: User, case: Case, kind: str, occurred_on: dt.date | None, body: str) -> Note:
    kind = _clean_kind(kind)
    occurred_on = _clean_date(occurred_on)
    body = _clean_body(body)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        at = clock.now()
        note = Note.objects.create(
            case=case, kind=kind, occurred_on=occurred_on, body=body, author=actor, created_at=at
        )
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=note,
            after={"kind": kind, "occurred_on": occurred_on.isoformat()},
            detail={"note": note.pk},
        )
        search.index_case(case)
        touch(case, at)
    return note


def do_edit_note(*, actor: User, note: Note, kind: str, occurred_on: dt.date | None, body: str) -> Note:
    """The author's edit within NOTE_EDIT_MINUTES of writing it (and before anyone corrected it)."""
    kind = _clean_kind(kind)
    occurred_on = _clean_date(occurred_on)
    body = _clean_body(body)
    with transaction.atomic():
        case = lock_case(note.case_id, actor)
        ensure_editable(case)
        note = _locked_note(note, case)
        at = clock.now()
        refusal = edit_refusal(note, actor, has_corrections=Note.objects.filter(corrects_id=note.pk).exists(), now=at)
        if refusal:
            raise CaseError(refusal)
        changed = [
            name
            for name, old, new in (
                ("kind", note.kind, kind),
                ("occurred_on", note.occurred_on, occurred_on),
                ("body", note.body, body),
            )
            if old != new
        ]
        if not changed:
            return note
        before = {"kind": note.kind, "occurred_on": note.occurred_on.isoformat()}
        note.kind, note.occurred_on, note.body = kind, occurred_on, body
        note.edited_at = at
        note.save(update_fields=["kind", "occurred_on", "body", "edited_at"])
        audit(
            actor=actor,
            case=case,
            target=note,
            before=before,
            after={"kind": kind, "occurred_on": occurred_on.isoformat()},
            # That it was edited and what changed; never the text.
            detail={"note": note.pk, "edited": True, "fields": changed},
        )
        if "body" in changed:
            search.index_case(case)
        touch(case, at)
    return note


def do_add_correction(*, actor: User, note: Note, body: str) -> Note:
    """Append a correction to ``note`` (anyone who may change the case). A correction of a
    correction is attached to the original note."""
    body = _clean_body(body)
    with transaction.atomic():
        case = lock_case(note.case_id, actor)
        ensure_editable(case)
        note = _locked_note(note, case)
        original = note
        if note.corrects_id is not None:
            original = Note.objects.filter(pk=note.corrects_id, case_id=case.pk).first() or note
        at = clock.now()
        correction = Note.objects.create(
            case=case,
            kind=original.kind,
            occurred_on=original.occurred_on,
            body=body,
            author=actor,
            created_at=at,
            corrects=original,
        )
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=correction,
            detail={"note": correction.pk, "corrects": original.pk, "correction_of": note.pk},
        )
        search.index_case(case)
        touch(case, at)
    return correction
