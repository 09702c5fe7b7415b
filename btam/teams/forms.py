"""Forms of the team pages. They check shape only; the rules are in actions.py (TeamError)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.teams.models import TeamMember, TeamSettings


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name or obj.email} ({obj.email})"


class PeopleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name or obj.email} ({obj.email})"


def _discipline_field(choices: list[tuple[str, str]], *, label: Any, help_text: Any = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
        error_messages={
            "invalid_choice": _("“%(value)s” is not one of your district's disciplines: choose from the list.")
        },
    )


class MemberForm(forms.Form):
    """Disciplines, membership and the rapid-response flag (and, when adding, the person)."""

    user = PersonChoiceField(
        label=_("Staff member"),
        queryset=User.objects.none(),
        help_text=_("Staff with a team access level covering this school."),
        error_messages={
            "required": _("Choose the staff member to add."),
            "invalid_choice": _("Choose a staff member from the list."),
        },
    )
    membership = forms.ChoiceField(
        label=_("Membership"),
        choices=TeamMember.Membership.choices,
        initial=TeamMember.Membership.CORE,
        widget=forms.RadioSelect,
        help_text=_("Core members meet on every case; extended members join when their expertise is needed."),
    )
    rapid_response = forms.BooleanField(label=_("In the rapid-response subgroup"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        discipline_choices: list[tuple[str, str]],
        candidates: QuerySet[User] | None = None,
        offered: list[User] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.fields["disciplines"] = _discipline_field(discipline_choices, label=_("Disciplines"))
        if candidates is None:
            del self.fields["user"]
        else:
            field = self.fields["user"]
            assert isinstance(field, PersonChoiceField)
            # Validated against everyone who could be named (the action says why one cannot join);
            # offered: who is not a member yet.
            field.queryset = candidates
            shown = offered if offered is not None else list(candidates)
            field.widget.choices = [("", _("- Choose a staff member -"))] + [
                (u.pk, field.label_from_instance(u)) for u in shown
            ]


class LeadersForm(forms.Form):
    leader = PersonChoiceField(
        label=_("Leader"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("- No leader -"),
        help_text=_("Holds the team leader access level for this school."),
        error_messages={"invalid_choice": _("Choose the leader among the team's members.")},
    )
    deputy = PersonChoiceField(
        label=_("Deputy"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("- No deputy -"),
        help_text=_("Receives urgent escalations when the leader does not answer or is away."),
        error_messages={"invalid_choice": _("Choose the deputy among the team's members.")},
    )

    def __init__(self, data: Any = None, *, members: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for name in ("leader", "deputy"):
            field = self.fields[name]
            assert isinstance(field, PersonChoiceField)
            field.queryset = members


class SettingsForm(forms.Form):
    rule = forms.ChoiceField(
        label=_("Coverage rule"),
        choices=TeamSettings.Rule.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the coverage rules in the list.")},
    )

    def __init__(self, data: Any = None, *, discipline_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["required"] = _discipline_field(
            discipline_choices,
            label=_("Your district's own list"),
            help_text=_("Used when the rule is “The district's own list”."),
        )


class DisciplineForm(forms.Form):
    label = forms.CharField(
        label=_("New discipline"),
        max_length=100,
        error_messages={
            "required": _("Give the discipline a name."),
            "max_length": _("Keep the name under 100 characters."),
        },
    )


class AwayForm(forms.Form):
    starts_on = forms.DateField(
        label=_("First day away"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give your first day away."), "invalid": _("Enter a date like 2026-12-01.")},
    )
    ends_on = forms.DateField(
        label=_("Last day away"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give your last day away."), "invalid": _("Enter a date like 2026-12-04.")},
    )
    backups = PeopleChoiceField(
        label=_("Backups"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Colleagues whose team access covers your schools. They get your urgent notifications."),
        error_messages={
            "required": _("Choose at least one backup for your urgent notifications."),
            "invalid_choice": _("Choose your backups from the list."),
            "invalid_pk_value": _("Choose your backups from the list."),
        },
    )

    def __init__(self, data: Any = None, *, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field = self.fields["backups"]
        assert isinstance(field, PeopleChoiceField)
        field.queryset = candidates
