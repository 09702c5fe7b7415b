"""Forms of the Plan tab: an intervention (new or changed), its status move with the outcome, and
the safety plan. A task of an intervention uses the tasks tab's form (btam/cases/task_forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.assessments import plan
from btam.assessments.form_helpers import DATE_ERRORS
from btam.assessments.models import Intervention
from btam.assessments.plan_actions import MAX_DETAILS_CHARS, MAX_OUTCOME_CHARS, MAX_SECTION_CHARS
from btam.cases.forms import UserChoiceField
from btam.cases.note_forms import DateInput


class InterventionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Intervention"),
        error_messages={
            "required": _("Choose an intervention from the list."),
            "invalid_choice": _("Choose an intervention from the list."),
        },
    )
    owner = UserChoiceField(
        queryset=User.objects.none(),
        label=_("Owner"),
        empty_label=_("Choose the person responsible"),
        error_messages={
            "required": _("Choose who is responsible for the intervention."),
            "invalid_choice": _("The owner must be someone on the team working this case."),
        },
        help_text=_("Told in their inbox by the case number only."),
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=MAX_DETAILS_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is to be done, by whom outside the team, how often."),
    )
    starts_on = forms.DateField(label=_("Start date"), required=False, widget=DateInput, error_messages=DATE_ERRORS)
    ends_on = forms.DateField(
        label=_("End or review"),
        required=False,
        widget=DateInput,
        error_messages=DATE_ERRORS,
        help_text=_("When it ends, or when the team looks at it again."),
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[plan.Kind],
        owners: list[User],
        current_kind: plan.Kind | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(k.code, str(k.label)) for k in kinds]
        if current_kind is not None and current_kind.code not in {c for c, _label in choices}:
            choices.append((current_kind.code, str(current_kind.label)))  # a retired kind stays as it is
        self.fields["kind"].choices = [("", _("Choose an intervention")), *choices]  # type: ignore[attr-defined]
        self.fields["owner"].queryset = User.objects.filter(pk__in=[u.pk for u in owners])  # type: ignore[attr-defined]


class EditInterventionForm(InterventionForm):
    """The change form; an ended intervention's outcome is changed here too (never emptied)."""

    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=MAX_OUTCOME_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, ended: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ended:
            del self.fields["outcome"]
        else:
            self.fields["outcome"].required = True
            self.fields["outcome"].error_messages["required"] = _("An ended intervention keeps its outcome.")


# The move buttons of an intervention (completing and stopping go through the outcome form).
END_CHOICES = [
    (Intervention.Status.COMPLETED, _("Completed")),
    (Intervention.Status.STOPPED, _("Stopped before it was completed")),
]


class EndForm(forms.Form):
    """Complete or stop an intervention: the outcome is required."""

    status = forms.ChoiceField(
        label=_("How it ended"),
        choices=END_CHOICES,
        error_messages={"invalid_choice": _("Choose completed or stopped.")},
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=MAX_OUTCOME_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the outcome: what was done and what came of it.")},
        help_text=_("What was done and what came of it (or why it stopped)."),
    )


class SafetyPlanForm(forms.Form):
    """One text box per section (each names its readers), the review date, the version token."""

    review_on = forms.DateField(
        label=_("Review date"),
        widget=DateInput,
        error_messages={**DATE_ERRORS, "required": _("Enter the date the safety plan will be reviewed.")},
        help_text=_("When the team looks at the plan again (within a year)."),
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for section in plan.SAFETY_SECTIONS:
            self.fields[section.id] = forms.CharField(
                label=str(section.label),  # built per request, in its language
                required=False,
                max_length=MAX_SECTION_CHARS,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=f"{section.help} {_('Printed for:')} {section.readers_in_sentence}.",
            )
        # The review date after the sections.
        self.order_fields([*plan.SECTION_IDS, "review_on", "version"])

    def section_fields(self) -> list[forms.BoundField]:
        return [self[section_id] for section_id in plan.SECTION_IDS]


class PrintForm(forms.Form):
    """Which copy to print (``?for=staff`` or ``?for=family``): a choice of readers, never a name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "for" is a Python keyword: the field is added by name.
        self.fields["for"] = forms.ChoiceField(
            label=_("Print the copy for"),
            choices=list(plan.READERS.items()),
            error_messages={
                "required": _("Choose whose copy to print."),
                "invalid_choice": _("Choose whose copy to print: the staff's or the family's."),
            },
        )
