"""The board's one filter: which of the viewer's schools (all of them by default), and whether the
panels refresh themselves (a person using a keyboard or a screen reader may stop it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.orgs.models import School

PAUSED = "off"


class BoardFilterForm(forms.Form):
    school = forms.TypedChoiceField(
        label=_("School"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("That school is not one of the schools on your board.")},
    )
    refresh = forms.ChoiceField(
        required=False,
        choices=[("", _("Every minute")), (PAUSED, _("Stopped"))],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Automatic refreshing is either on or off.")},
    )

    def __init__(self, *args: Any, schools: list[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schools = {s.pk: s for s in schools}
        field = self.fields["school"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("All my schools")), *((s.pk, s.name) for s in schools)]
        field.widget.attrs["class"] = "usa-select"

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and "school" in self.errors:
            self.fields["school"].widget.attrs.update(
                {"class": "usa-select usa-input--error", "aria-describedby": "board-school-error"}
            )

    def clean_school(self) -> School | None:
        value = self.cleaned_data.get("school")
        return None if value is None else self.schools[value]

    @property
    def chosen_school(self) -> School | None:
        return self.cleaned_data.get("school") if self.is_valid() else None

    @property
    def is_paused(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("refresh") == PAUSED
