"""Forms for related cases, merging, splitting a report off, and adding a report to a case."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.cases.actions import MAX_REASON_CHARS, MAX_TITLE_CHARS
from btam.cases.link_actions import MAX_LINK_NOTE_CHARS
from btam.intake.triage_actions import MAX_REASON_CHARS as MAX_TRIAGE_NOTE_CHARS

CASE_NUMBER_MAX_CHARS = 20


def _number_field(label: Any, help_text: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=CASE_NUMBER_MAX_CHARS,
        help_text=help_text or _("As shown on the case, for example 2026-0042."),
        error_messages={
            "required": _("Enter a case number like 2026-0042."),
            "max_length": _("Enter a case number like 2026-0042."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}),
    )


class LinkCaseForm(forms.Form):
    number = _number_field(_("Number of the related case"))
    note = forms.CharField(
        label=_("How they are related (optional)"),
        required=False,
        max_length=MAX_LINK_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": _("The note is too long: at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)


class MergePickForm(forms.Form):
    number = _number_field(
        _("Number of the case to merge this one into"),
        _("This case's reports, people, notes, tasks and documents move to that case. You confirm on the next page."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "merge")
        super().__init__(*args, **kwargs)


class MergeConfirmForm(forms.Form):
    reason = forms.CharField(
        label=_("Why these are one case"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Give a reason."),
            "max_length": _("The reason is too long: at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )


class UndoMergeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the merge is undone (optional)"),
        required=False,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": _("The reason is too long: at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )


class SplitForm(forms.Form):
    report = forms.TypedChoiceField(
        label=_("Report to split off"),
        coerce=int,
        choices=[],
        error_messages={"required": _("Choose a report."), "invalid_choice": _("Choose a report of this case.")},
    )
    title = forms.CharField(
        label=_("Title of the new case (optional)"),
        required=False,
        max_length=MAX_TITLE_CHARS,
        error_messages={
            "max_length": _("The title is too long: at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )

    def __init__(self, *args: Any, reports: list[tuple[int, str]], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "split")
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [("", _("Choose…")), *reports]  # type: ignore[attr-defined]


class AddToCaseForm(forms.Form):
    """On a report's page: the case to add the report to."""

    number = _number_field(_("Case number"))
    reason = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=MAX_TRIAGE_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the report's decision history (encrypted), with your name."),
        error_messages={
            "max_length": _("The note is too long: at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "add_to_case")
        super().__init__(*args, **kwargs)
