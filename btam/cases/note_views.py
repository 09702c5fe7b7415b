"""The notes tab: the case's notes (newest first, by type, 50 a page, corrections under the note
they correct), a new note (htmx swaps the panel; without JS a POST and a redirect), the author's
edit within the edit window, and an appended correction.

Every view fetches the case through ``access.get_case_for_user`` before it looks at the method
(404 for a case the user cannot see, whatever the method; 403 when they may only read it and the
view changes something), and a note through its case (a note of another case is a 404). Each page
shows note text, so each renders through ``render_case`` (the view is audited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.cases import access, note_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, Note
from btam.cases.note_forms import CorrectionForm, NoteFilterForm, NoteForm
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.core.access import policy
from btam.lib import clock

NOTES_PAGE_SIZE = 50
PANEL = "cases/partials/_notes_panel.html"


@dataclass
class NoteRow:
    """A note as the page shows it: its corrections (oldest first) and whether the user may edit it."""

    note: Note
    can_edit: bool = False
    corrections: list[NoteRow] = field(default_factory=list)

    @property
    def edit_until(self) -> dt.datetime:
        return note_actions.edit_deadline(self.note)


def note_rows(case: Case, user: User, *, kind: str, page_number: Any) -> tuple[Page[Any], list[NoteRow]]:
    """A page of the case's notes (not corrections), with their corrections: three queries
    whatever the page holds (count, the page, the corrections)."""
    notes = Note.objects.filter(case=case, corrects__isnull=True).select_related("author")
    if kind:
        notes = notes.filter(kind=kind)
    page = Paginator(notes.order_by("-occurred_on", "-created_at", "-pk"), NOTES_PAGE_SIZE).get_page(page_number)
    shown: list[Note] = list(page.object_list)
    by_original: dict[int, list[Note]] = {}
    if shown:
        for correction in (
            Note.objects.filter(case=case, corrects_id__in=[n.pk for n in shown])
            .select_related("author")
            .order_by("created_at", "pk")
        ):
            by_original.setdefault(correction.corrects_id or 0, []).append(correction)
    now = clock.now()

    def may_edit(note: Note, corrected: bool) -> bool:
        return not note_actions.edit_refusal(note, user, has_corrections=corrected, now=now)

    rows = []
    for note in shown:
        corrections = by_original.get(note.pk, [])
        rows.append(
            NoteRow(
                note=note,
                can_edit=may_edit(note, bool(corrections)),
                corrections=[NoteRow(note=c, can_edit=may_edit(c, False)) for c in corrections],
            )
        )
    return page, rows


def _note_of(case: Case, note_pk: int) -> Note:
    note = Note.objects.filter(pk=note_pk, case=case).select_related("author").first()
    if note is None:
        raise Http404
    return note


def _notes_page(
    request: HttpRequest,
    case: Case,
    *,
    add_form: forms.Form | None = None,
    error: str = "",
    added: bool = False,
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    filter_form = NoteFilterForm(request.GET if request.method == "GET" else None)
    kind = filter_form.chosen()
    page_number = request.GET.get("page") if request.method == "GET" else None
    page, rows = note_rows(case, user, kind=kind, page_number=page_number)
    query = request.GET.copy() if request.method == "GET" else None
    if query is not None:
        query.pop("page", None)
    context: dict[str, Any] = {
        "can_write": can_write,
        "mode": "list",
        "add_form": add_form or NoteForm(prefix="note", initial={"occurred_on": note_actions.today()}),
        "filter_form": filter_form,
        "kind": kind,
        "kind_label": Note.Kind(kind).label if kind else "",
        "page": page,
        "rows": rows,
        "filter_query": query.urlencode() if query is not None else "",
        "error": error,
        "added": added,
        "edit_minutes": note_actions.NOTE_EDIT_MINUTES,
    }
    return render_case(request, case, "cases/notes.html", context, tab="notes", status=status, partial=partial)


@policy(CASE_POLICY)
@never_cache
def notes(request: HttpRequest, pk: int) -> HttpResponse:
    """The notes tab. With htmx (the type filter), the list only."""
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _notes_page(request, case, partial="cases/partials/_note_list.html")


@policy(CASE_POLICY)
@never_cache
def add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note. Without JS: a redirect to the tab, or the tab again with the message and a 400.
    With htmx: the panel (form and list), the form emptied or kept with its message."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    htmx = bool(getattr(request, "htmx", False))
    form = NoteForm(request.POST, prefix="note")
    error = ""
    if form.is_valid():
        try:
            note_actions.do_add_note(
                actor=user,
                case=case,
                kind=form.cleaned_data["kind"],
                occurred_on=form.cleaned_data["occurred_on"],
                body=form.cleaned_data["body"],
            )
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            if not htmx:
                messages.success(request, _("Note added."))
                return redirect("cases:notes", pk=case.pk)
            case.refresh_from_db()
            return _notes_page(request, case, added=True, partial=PANEL)
    else:
        error = _("The note was not added: check the form.")
    case.refresh_from_db()
    # htmx swaps only successful responses: the panel with the message comes as a 200.
    return _notes_page(request, case, add_form=form, error=error, status=200 if htmx else 400, partial=PANEL)


def _form_page(
    request: HttpRequest,
    case: Case,
    note: Note,
    *,
    mode: str,
    form: forms.Form | None,
    refusal: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    corrections = list(
        Note.objects.filter(case=case, corrects_id=note.corrects_id or note.pk)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    original = note if note.corrects_id is None else _note_of(case, note.corrects_id)
    context: dict[str, Any] = {
        "mode": mode,
        "note": note,
        "original": original,
        "corrections": corrections,
        "form": form,
        "refusal": refusal,
        "error": error,
        "edit_until": note_actions.edit_deadline(note),
        "edit_minutes": note_actions.NOTE_EDIT_MINUTES,
    }
    return render_case(request, case, "cases/notes.html", context, tab="notes", status=status)


@policy(CASE_POLICY)
@never_cache
def edit(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """The author's edit of a note, within NOTE_EDIT_MINUTES of writing it."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    note = _note_of(case, note_pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    corrected = Note.objects.filter(corrects_id=note.pk).exists()
    refusal = note_actions.edit_refusal(note, user, has_corrections=corrected)
    if request.method == "GET":
        initial = {"kind": note.kind, "occurred_on": note.occurred_on, "body": note.body}
        form = None if refusal else NoteForm(prefix="note", initial=initial)
        return _form_page(request, case, note, mode="edit", form=form, refusal=refusal)
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        return _form_page(request, case, note, mode="edit", form=form, status=400)
    try:
        note_actions.do_edit_note(
            actor=user,
            note=note,
            kind=form.cleaned_data["kind"],
            occurred_on=form.cleaned_data["occurred_on"],
            body=form.cleaned_data["body"],
        )
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        note.refresh_from_db()
        return _form_page(request, case, note, mode="edit", form=form, error=str(exc), status=400)
    messages.success(request, _("Note saved. The page shows that it was edited, and when."))
    return redirect("cases:notes", pk=case.pk)


@policy(CASE_POLICY)
@never_cache
def correct(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """Append a correction to a note (anyone who may change the case)."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    note = _note_of(case, note_pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET":
        return _form_page(request, case, note, mode="correct", form=CorrectionForm(prefix="correction"))
    form = CorrectionForm(request.POST, prefix="correction")
    if not form.is_valid():
        return _form_page(request, case, note, mode="correct", form=form, status=400)
    try:
        note_actions.do_add_correction(actor=user, note=note, body=form.cleaned_data["body"])
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        return _form_page(request, case, note, mode="correct", form=form, error=str(exc), status=400)
    messages.success(request, _("Correction added under the note."))
    return redirect("cases:notes", pk=case.pk)


urlpatterns = [
    path("<int:pk>/notes/", notes, name="notes"),
    path("<int:pk>/notes/add/", add, name="note_add"),
    path("<int:pk>/notes/<int:note_pk>/edit/", edit, name="note_edit"),
    path("<int:pk>/notes/<int:note_pk>/correct/", correct, name="note_correct"),
]
