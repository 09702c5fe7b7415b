"""Forms of the case overview: a new case, its edit, screening, workflow moves, closure."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.cases.actions import MAX_REASON_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS
from btam.cases.models import ClosureReason, ScreeningDecision, Status
from btam.orgs.models import School


class UserChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.email)


class NewCaseForm(forms.Form):
    school = forms.ModelChoiceField(queryset=School.objects.none(), label=_("School"), empty_label=None)
    title = forms.CharField(
        label=_("Title"),
        max_length=MAX_TITLE_CHARS,
        help_text=_("A short description the team will recognise (avoid full names where you can)."),
    )
    summary = forms.CharField(label=_("Summary"), required=False, max_length=MAX_SUMMARY_CHARS, widget=forms.Textarea)
    restricted = forms.BooleanField(
        label=_("Restrict to named members"),
        required=False,
        help_text=_("Only you and the members you name will see it (for a case involving staff, say)."),
    )

    def __init__(self, *args: Any, schools: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]


class EditCaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE_CHARS)
    summary = forms.CharField(label=_("Summary"), required=False, max_length=MAX_SUMMARY_CHARS, widget=forms.Textarea)
    manager = UserChoiceField(queryset=User.objects.none(), label=_("Case manager"), required=False)

    def __init__(self, *args: Any, managers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(pk__in=[u.pk for u in managers])  # type: ignore[attr-defined]


class ScreeningForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Screening decision"), choices=[("", _("Choose…")), *ScreeningDecision.choices]
    )
    rationale = forms.CharField(label=_("Rationale"), max_length=MAX_REASON_CHARS, widget=forms.Textarea)


class MoveForm(forms.Form):
    to_status = forms.ChoiceField(choices=[(s.value, s.label) for s in Status if s != Status.CLOSED])
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=MAX_REASON_CHARS, widget=forms.Textarea
    )


class ClosureForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Closure reason"),
        choices=[("", _("Choose…")), *((c.value, c.label) for c in ClosureReason if c != ClosureReason.MERGED)],
    )
    note = forms.CharField(
        label=_("Closure note"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea,
        help_text=_("What was done and why the case can close."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON_CHARS, widget=forms.Textarea)
