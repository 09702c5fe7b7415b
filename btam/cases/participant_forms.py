"""Forms for the people on a case: add (registry or free text), change a role, search the registry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.cases.models import CaseParticipant
from btam.cases.participant_actions import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS
from btam.people.forms import DuplicateSearchForm

ROLE_CHOICES = [("", _("Choose…")), *CaseParticipant.Role.choices]


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Role on the case"),
        choices=ROLE_CHOICES,
        error_messages={
            "required": _("Choose the person's role on the case."),
            "invalid_choice": _("Choose a role from the list."),
        },
    )


class AddParticipantForm(forms.Form):
    """Someone not (yet) in the registry: a name as the team knows it, and their part."""

    role = _role_field()
    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_NAME_CHARS,
        help_text=_("As the team knows them for now (a first name, a nickname, “the boy in the red jacket”)."),
        error_messages={
            "required": _("Give a name, or choose the person from the registry."),
            "max_length": _("The name is too long: at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    description = forms.CharField(
        label=_("Their part (optional)"),
        required=False,
        max_length=MAX_DESCRIPTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _("The description is too long: at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "participant")
        super().__init__(*args, **kwargs)


class AddRegistryPersonForm(forms.Form):
    """A registry person picked from the search results (the search form names the role)."""

    person = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    role = _role_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "registry")
        super().__init__(*args, **kwargs)


class LinkParticipantForm(forms.Form):
    person = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RoleForm(forms.Form):
    role = _role_field()


class ParticipantSearchForm(DuplicateSearchForm):
    """A name or an id of the district's registry (a POST: names never go in a URL)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "find")
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
