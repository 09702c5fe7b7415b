"""Forms of the "Schools and access" tab (transfer, school access, restriction, named members) and
of the break-glass page."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.cases.access_actions import MIN_BREAK_GLASS_REASON_CHARS
from btam.cases.actions import MAX_REASON_CHARS
from btam.cases.forms import UserChoiceField
from btam.orgs.models import District, School

CASE_NUMBER = re.compile(r"^\s*(\d{4})\s*-\s*(\d{1,6})\s*$")


class TransferForm(forms.Form):
    to_school = forms.ModelChoiceField(
        queryset=School.objects.none(),
        label=_("New school"),
        empty_label=_("Choose…"),
        help_text=_("Its team gets full access and leads the case."),
    )
    keep_read_access = forms.BooleanField(label=_("The current school keeps read access"), required=False, initial=True)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the case moves (the subject changed schools, say). It is part of the record."),
    )

    def __init__(self, *args: Any, schools: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = schools  # type: ignore[attr-defined]


class SchoolForm(forms.Form):
    """One school of the case (remove or restore its access)."""

    school = forms.ModelChoiceField(queryset=School.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args: Any, schools: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        self.fields["school"].error_messages["invalid_choice"] = _("That school has no access to this case.")


class RestrictForm(forms.Form):
    restricted = forms.TypedChoiceField(
        choices=[("1", _("Restrict")), ("0", _("Lift the restriction"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why only named members need to know (or why the team may see it again)."),
    )


class MemberForm(forms.Form):
    user = UserChoiceField(queryset=User.objects.none(), label=_("Team member"), empty_label=_("Choose…"))

    def __init__(self, *args: Any, users: Any, hidden: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        field.queryset = users  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = _("Choose a member of a team of this district.")
        if hidden:
            field.widget = forms.HiddenInput()


class BreakGlassForm(forms.Form):
    district = forms.ModelChoiceField(queryset=District.objects.none(), label=_("District"), empty_label=None)
    number = forms.CharField(
        label=_("Case number"),
        max_length=20,
        help_text=_("As written on the case, for example 2026-0042."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=MIN_BREAK_GLASS_REASON_CHARS,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Why you need this case now. Its leaders are told at once, and the reason is kept with the record "
            "of your access."
        ),
    )

    def __init__(self, *args: Any, districts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["district"]
        field.queryset = districts  # type: ignore[attr-defined]
        self.only_district: District | None = districts[0] if len(districts) == 1 else None
        if self.only_district is not None:
            # One district: nothing to choose.
            del self.fields["district"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.only_district is not None:
            cleaned["district"] = self.only_district
        return cleaned

    def clean_number(self) -> tuple[int, int]:
        match = CASE_NUMBER.match(self.cleaned_data["number"])
        if match is None:
            raise forms.ValidationError(_("Enter a case number like 2026-0042."))
        return int(match.group(1)), int(match.group(2))
