"""Forms of the monitoring tab: a check-in, and the reassessment date set by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.assessments.form_helpers import DATE_ERRORS
from btam.assessments.models import CheckIn, Intervention
from btam.assessments.monitoring_actions import MAX_CHECK_IN_CHARS
from btam.cases.actions import MAX_REASON_CHARS
from btam.cases.note_forms import DateInput

_TOO_LONG = {"max_length": _("This is too long: at most %(limit_value)d characters (it has %(show_value)d).")}


class InterventionChoiceField(forms.ModelChoiceField[Intervention]):
    def __init__(self, *args: Any, labels: dict[int, str] | None = None, **kwargs: Any) -> None:
        self.labels = labels or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Intervention) -> str:
        return self.labels.get(obj.pk, obj.kind)


class CheckInForm(forms.Form):
    occurred_on = forms.DateField(
        label=_("Date"),
        widget=DateInput,
        error_messages=DATE_ERRORS,
        help_text=_("The day it happened; not in the future."),
    )
    method = forms.ChoiceField(
        label=_("How"),
        choices=[("", _("Choose…")), *CheckIn.Method.choices],
        error_messages={"required": _("Choose how the check-in happened.")},
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=MAX_CHECK_IN_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write what was seen or said."), **_TOO_LONG},
        help_text=_("What was seen or said, how the plan is working. It is encrypted and part of the case record."),
    )
    concern = forms.BooleanField(label=_("A new concern was raised"), required=False)
    intervention = InterventionChoiceField(
        queryset=Intervention.objects.none(),
        label=_("For the intervention"),
        required=False,
        empty_label=_("None in particular"),
        error_messages={"invalid_choice": _("Choose one of this case's interventions, or none.")},
    )

    def __init__(self, *args: Any, interventions: list[Intervention], labels: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["intervention"]
        assert isinstance(field, InterventionChoiceField)
        field.queryset = Intervention.objects.filter(pk__in=[i.pk for i in interventions]).order_by("created_at", "pk")
        field.labels = labels


class ReassessmentDateForm(forms.Form):
    due_on = forms.DateField(
        label=_("Next reassessment"),
        widget=DateInput,
        error_messages=DATE_ERRORS,
        help_text=_("Today or a later day."),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the change."), **_TOO_LONG},
        help_text=_("Why the date differs from the level's interval. Kept on the case record."),
    )
