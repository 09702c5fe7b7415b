"""Forms of the staff side of intake: the queue's filters, the triage decisions, the message to the
reporter, and the staff referral (with its search of the people registry)."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from btam.intake.access import REFERRAL_ROLES, triage_school_ids
from btam.intake.actions import MAX_MESSAGE_CHARS, MAX_NARRATIVE_CHARS, MAX_SHORT_TEXT_CHARS
from btam.intake.models import Report, Urgency, YesNoUnknown
from btam.intake.triage_actions import MAX_REASON_CHARS
from btam.orgs.models import School
from btam.people.models import Person
from btam.people.search import MAX_QUERY_CHARS

if TYPE_CHECKING:
    from btam.accounts.models import User


# Queue filters ------------------------------------------------------------------------------------
class QueueStatus(TextChoices):
    OPEN = "open", _("Open (new or acknowledged)")
    SCREENED_OUT = "screened_out", _("Screened out")
    REFERRED = "referred", _("Referred here from another school")
    DUPLICATE = "duplicate", _("Duplicate")
    CASE_OPENED = "case_opened", _("Case to be opened")
    ABUSE = "abuse", _("Marked as abuse")


class QueueFilterForm(forms.Form):
    """GET form: the filters are in the URL (no names or content, only a school and a status)."""

    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False, empty_label=_("All my schools")
    )
    status = forms.ChoiceField(label=_("Status"), choices=QueueStatus.choices, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(  # type: ignore[attr-defined]
            pk__in=triage_school_ids(user)
        ).order_by("name")

    def chosen(self) -> tuple[School | None, str]:
        """The school and status to show (an invalid filter shows the default: open, all schools)."""
        if not self.is_bound or not self.is_valid():
            return None, QueueStatus.OPEN
        return self.cleaned_data.get("school"), self.cleaned_data.get("status") or QueueStatus.OPEN


# Triage decisions ---------------------------------------------------------------------------------
def _reason_field(*, required: bool = True, label: Any = None, help_text: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text or _("Kept in the report's decision history (encrypted), with your name."),
        error_messages={
            "required": _("Give a reason."),
            "max_length": _("The reason is too long: at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )


class ReasonForm(forms.Form):
    reason = _reason_field()


class NoteForm(forms.Form):
    reason = _reason_field(required=False, label=_("Note (optional)"))


class UrgencyForm(forms.Form):
    urgency = forms.TypedChoiceField(
        label=_("New urgency"),
        choices=Urgency.choices,
        coerce=int,
        error_messages={"invalid_choice": _("Choose one of the urgency levels.")},
    )
    reason = _reason_field()


class ReferForm(forms.Form):
    school = forms.ModelChoiceField(
        label=_("Refer to"),
        queryset=School.objects.none(),
        error_messages={
            "required": _("Choose the school to refer the report to."),
            "invalid_choice": _("Choose one of the district's active schools."),
        },
    )
    reason = _reason_field()

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The district's active schools. The report's own school is refused by the action, with a
        # message that says so (the list leaves it out).
        schools = School.objects.filter(district_id=report.district_id, is_active=True).order_by("name")
        field = self.fields["school"]
        field.queryset = schools  # type: ignore[attr-defined]
        field.choices = [  # type: ignore[attr-defined]
            ("", _("Choose a school")),
            *[(s.pk, s.name) for s in schools if s.pk != report.school_id],
        ]


_REFERENCE = re.compile(r"^\s*(?:r\s*-?\s*)?(\d{1,12})\s*$", re.IGNORECASE)


class DuplicateForm(forms.Form):
    original = forms.CharField(
        label=_("Duplicate of report"),
        max_length=30,
        help_text=_("The reference of the report it repeats, for example R-1234."),
        error_messages={"required": _("Give the reference of the original report.")},
    )
    reason = _reason_field(required=False, label=_("Note (optional)"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_original(self) -> Report:
        match = _REFERENCE.match(self.cleaned_data["original"])
        if match is None:
            raise forms.ValidationError(_("Write a report reference such as R-1234."), code="invalid")
        original = Report.objects.visible_to(self.user).filter(pk=int(match.group(1))).first()
        if original is None:
            # The same answer for a report that does not exist and one of another school or district.
            raise forms.ValidationError(_("No report with this reference among the reports your team works."))
        return original


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message to the reporter"),
        max_length=MAX_MESSAGE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The reporter reads this with their receipt code. Write nothing they should not see: "
            "internal notes belong in the decision reasons, not here."
        ),
        error_messages={
            "required": _("Write a message."),
            "max_length": _("The message is too long: at most %(limit_value)d characters."),
        },
    )


# Staff referral -----------------------------------------------------------------------------------
class ObservedBehaviour(TextChoices):
    """What a referring staff member may have seen (stored as codes in Report.observed_behaviours)."""

    THREAT_SPOKEN = "threat_spoken", _("A threat, spoken")
    THREAT_WRITTEN = "threat_written", _("A threat, written or posted")
    WEAPON_TALK = "weapon_talk", _("Talk about weapons")
    WEAPON_POSSESSION = "weapon_possession", _("Has, or was seen with, a weapon")
    VIOLENT_WRITING = "violent_writing", _("Violent writing or art")
    FIXATION = "fixation", _("Fixation on violence or on past attackers")
    BEHAVIOUR_CHANGE = "behaviour_change", _("A sudden change in behaviour")
    BULLYING = "bullying", _("Bullying others")
    BULLIED = "bullied", _("Being bullied")
    SELF_HARM = "self_harm", _("Statements about hurting themselves")
    ONLINE_POSTS = "online_posts", _("Worrying posts online")
    GRIEVANCE = "grievance", _("A conflict or a grievance")
    OTHER = "other", _("Something else (describe it below)")


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the student or person in the registry"),
        max_length=MAX_QUERY_CHARS,
        required=False,
        help_text=_("A name or a student id. You see the people enrolled at your schools."),
    )


class ReferralForm(forms.Form):
    school = forms.ModelChoiceField(
        label=_("School"),
        queryset=School.objects.none(),
        empty_label=_("Choose a school"),
        error_messages={
            "required": _("Choose the school whose team should look at this."),
            "invalid_choice": _("Choose one of your schools."),
        },
    )
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    subject_name = forms.CharField(
        label=_("Or, if they are not in the registry, their name"),
        required=False,
        max_length=200,
        help_text=_("Only when the search does not find them (a visitor, a new student)."),
    )
    narrative = forms.CharField(
        label=_("What did you see or hear? What happened?"),
        max_length=MAX_NARRATIVE_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Describe what you saw or heard.")},
    )
    observed_behaviours = forms.MultipleChoiceField(
        label=_("What have you observed?"),
        choices=ObservedBehaviour.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every one that applies."),
    )
    prior_concerns = forms.CharField(
        label=_("Earlier concerns about this person"),
        required=False,
        max_length=MAX_NARRATIVE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Anything that worried you or colleagues before, and what was done about it."),
    )
    danger_now = forms.BooleanField(label=_("Someone is in danger right now"), required=False)
    weapon = forms.ChoiceField(
        label=_("Is a weapon mentioned or involved?"),
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.NO,
        widget=forms.RadioSelect,
    )
    self_harm = forms.ChoiceField(
        label=_("Might someone hurt themselves?"),
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.NO,
        widget=forms.RadioSelect,
    )
    threat_date = forms.DateField(
        label=_("Date of a threatened event, if there is one"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-05-14.")},
    )
    location = forms.CharField(label=_("Where"), required=False, max_length=MAX_SHORT_TEXT_CHARS)
    occurred = forms.CharField(label=_("When"), required=False, max_length=MAX_SHORT_TEXT_CHARS)
    # One-time token: a second submission of the same form (a double click, a refresh) is the same report.
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", secrets.token_urlsafe(24))
        super().__init__(*args, **kwargs)
        self.user = user
        schools = referral_schools(user)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        if not self.is_bound and "school" not in self.initial:
            only = list(schools[:2])
            if len(only) == 1:  # one school: chosen already
                self.initial["school"] = only[0].pk
        self.chosen_person: Person | None = None

    def clean_person(self) -> int | None:
        pk = self.cleaned_data.get("person")
        if pk is None:
            return None
        # Checked again here: only a person the user may see can be named.
        person = Person.objects.visible_to(self.user).canonical().filter(pk=pk).first()
        if person is None:
            raise forms.ValidationError(_("Choose the person again from the search results."), code="not_visible")
        self.chosen_person = person
        return pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        school: School | None = data.get("school")
        chosen = self.chosen_person
        if chosen is not None and school is not None and chosen.district_id != school.district_id:
            self.add_error("person", _("This person is not in the school's district."))
            self.chosen_person = chosen = None
        if chosen is None and not data.get("subject_name", "").strip() and "person" not in self.errors:
            self.add_error(
                "person", _("Choose the person from the registry, or write their name if they are not in it.")
            )
        return data


def referral_schools(user: User) -> Any:
    """The active schools the user may refer to (their own)."""
    if not user.is_authenticated or not user.is_active:
        return School.objects.none()
    return School.objects.filter(pk__in=user.school_ids(*REFERRAL_ROLES), is_active=True).order_by("name")
