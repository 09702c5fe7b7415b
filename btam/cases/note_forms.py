"""Forms of the notes tab: a new note, an edit, a correction, and the type filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.cases.models import Note
from btam.cases.note_actions import MAX_NOTE_CHARS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


_DATE_ERRORS = {"invalid": _("Enter a real date, for example 2026-03-14.")}
_BODY_HELP = _(
    "What happened, who was there, what was said (quote exact words where they matter). "
    "It is encrypted and part of the case record."
)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=[("", _("Choose…")), *Note.Kind.choices])
    occurred_on = forms.DateField(
        label=_("Date it happened"),
        widget=DateInput,
        error_messages=_DATE_ERRORS,
        help_text=_("Not in the future."),
    )
    body = forms.CharField(label=_("Note"), max_length=MAX_NOTE_CHARS, widget=forms.Textarea, help_text=_BODY_HELP)


class CorrectionForm(forms.Form):
    body = forms.CharField(
        label=_("Correction"),
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea,
        help_text=_("What was wrong or missing in the note, and what is right. The note itself stays as it was."),
    )


class NoteFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Show"), required=False, choices=[("", _("All types")), *Note.Kind.choices])

    def chosen(self) -> str:
        """The type to show ("" for all; a value that is not a type shows all)."""
        if self.is_bound and self.is_valid():
            return str(self.cleaned_data["kind"])
        return ""
