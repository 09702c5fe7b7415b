"""Forms of the people registry: the search (a POST form, so that names never sit in a URL), and
the merge and undo confirmations (a reason is required)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.orgs.models import School
from btam.people.actions import MAX_REASON_CHARS
from btam.people.models import Person, PersonQuerySet
from btam.people.search import MAX_QUERY_CHARS, MAX_RESULTS, PAGE_SIZE, SearchResults, normalize, search_people

# OneRoster grade codes (CEDS), in school order.
GRADE_CHOICES = [
    ("IT", _("Infant or toddler")),
    ("PR", _("Preschool")),
    ("PK", _("Pre-kindergarten")),
    ("TK", _("Transitional kindergarten")),
    ("KG", _("Kindergarten")),
    *[(f"{n:02d}", _("Grade %(n)d") % {"n": n}) for n in range(1, 13)],
    ("13", _("Grade 13")),
    ("PS", _("Postsecondary")),
    ("UG", _("Ungraded")),
    ("Other", _("Other")),
]
# A search lists at most MAX_RESULTS people: refine it to see others.
MAX_PAGE = MAX_RESULTS // PAGE_SIZE


class _QueryField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Name or id"),
            max_length=MAX_QUERY_CHARS,
            help_text=_(
                "A name (legal or preferred, any part of it; accents and capitals do not matter) or an id "
                "(student number, state id, roster id or username)."
            ),
            error_messages={
                "required": _("Enter a name or an id to search for."),
                "max_length": _("The search is too long: enter at most %(limit_value)d characters."),
            },
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        if len(normalize(text).replace(" ", "")) < 2:
            raise forms.ValidationError(_("Enter at least two letters or digits."), code="too_short")
        return text


class PersonSearchForm(forms.Form):
    q = _QueryField()
    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False, empty_label=_("Any school")
    )
    grade = forms.ChoiceField(label=_("Grade"), choices=[("", _("Any grade")), *GRADE_CHOICES], required=False)
    kind = forms.ChoiceField(label=_("Who"), choices=[("", _("Anyone")), *Person.Kind.choices], required=False)
    include_inactive = forms.BooleanField(label=_("Include inactive records"), required=False)
    # Sent by the page buttons of the results, never rendered as a field of its own (a page out of
    # range is brought back in range rather than reported).
    page = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schools = School.objects.visible_to(user).filter(is_active=True).order_by("name")
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "autofocus": True})

    def clean_page(self) -> int:
        return min(max(self.cleaned_data.get("page") or 1, 1), MAX_PAGE)

    @property
    def page_number(self) -> int:
        return int(getattr(self, "cleaned_data", {}).get("page") or 1)

    def search(self, people: PersonQuerySet) -> SearchResults:
        """Run the search over ``people`` (already scoped to the user). Call only on a valid form."""
        data = self.cleaned_data
        return search_people(
            people,
            data["q"],
            school=data.get("school"),
            grade=data.get("grade") or "",
            kind=data.get("kind") or "",
            include_inactive=bool(data.get("include_inactive")),
            limit=PAGE_SIZE,
            offset=(self.page_number - 1) * PAGE_SIZE,
        )

    def filters(self) -> dict[str, Any]:
        """The filters in use (never the query text), for the record of the search."""
        data = self.cleaned_data
        used: dict[str, Any] = {}
        if data.get("school"):
            used["school"] = data["school"].pk
        for name in ("grade", "kind"):
            if data.get(name):
                used[name] = data[name]
        if data.get("include_inactive"):
            used["include_inactive"] = True
        return used


class DuplicateSearchForm(forms.Form):
    """Find the other record of the same person, in the same district."""

    q = _QueryField()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail with your name."),
        error_messages={"required": _("Give a reason.")},
    )
