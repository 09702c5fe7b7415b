"""Forms of the Meetings tab: schedule, move, cancel, record as held, add a decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.cases.forms import UserChoiceField
from btam.cases.note_forms import DateInput
from btam.meetings import actions
from btam.meetings.models import MeetingInvitee

_DATE_ERRORS = {"invalid": _("Enter a real date, for example 2026-03-14.")}
_TIME_ERRORS = {"invalid": _("Enter a time, for example 14:30.")}


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class InviteeField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.email)


class _TimesForm(forms.Form):
    """A conference's day, its start and end (the site's time zone) and its place."""

    day = forms.DateField(label=_("Day"), widget=DateInput, error_messages=_DATE_ERRORS)
    starts = forms.TimeField(label=_("Starts at"), widget=TimeInput, error_messages=_TIME_ERRORS)
    ends = forms.TimeField(label=_("Ends at"), widget=TimeInput, error_messages=_TIME_ERRORS)
    location = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=actions.MAX_LOCATION_CHARS,
        help_text=_("A room or a video-call name. It is not shown in calendar feeds."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, starts, ends = data.get("day"), data.get("starts"), data.get("ends")
        if day and starts and ends:
            data["starts_at"] = timezone.make_aware(dt.datetime.combine(day, starts))
            data["ends_at"] = timezone.make_aware(dt.datetime.combine(day, ends))
            if data["ends_at"] <= data["starts_at"]:
                self.add_error("ends", _("The meeting ends before it starts: the end must be after the start."))
        return data


class ScheduleForm(_TimesForm):
    agenda = forms.CharField(
        label=_("Agenda"),
        max_length=actions.MAX_AGENDA_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the team will discuss. Invitees are told the case number and the time only."),
    )
    invitees = InviteeField(
        queryset=User.objects.none(),
        label=_("Invite"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Invite only people who work on this case.")},
    )

    field_order = ["day", "starts", "ends", "location", "agenda", "invitees"]

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = User.objects.filter(pk__in=[u.pk for u in people])  # type: ignore[attr-defined]


class RescheduleForm(_TimesForm):
    reason = forms.CharField(
        label=_("Why it moves"),
        max_length=actions.MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is cancelled"),
        max_length=actions.MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    """One decision: it becomes a task of the case, so it needs an owner and a due date."""

    text = forms.CharField(
        label=_("Decision"),
        max_length=actions.MAX_DECISION_CHARS,
        error_messages={"required": _("Write the decision, or leave the whole row empty.")},
    )
    owner = UserChoiceField(
        queryset=User.objects.none(),
        label=_("Owner"),
        empty_label=_("Choose someone"),
        error_messages={
            "required": _("A decision becomes a task: choose who owns it."),
            "invalid_choice": _("Choose someone on the team working this case."),
        },
    )
    due_on = forms.DateField(
        label=_("Due"),
        widget=DateInput,
        error_messages={**_DATE_ERRORS, "required": _("A decision becomes a task: give it a due date.")},
    )

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(pk__in=[u.pk for u in owners])  # type: ignore[attr-defined]

    def decision(self) -> actions.DecisionInput:
        data = self.cleaned_data
        return actions.DecisionInput(text=data["text"], owner=data["owner"], due_on=data["due_on"])


DECISION_ROWS = 3


def decision_forms(data: Any, *, owners: list[User], rows: int = DECISION_ROWS) -> list[DecisionForm]:
    """Blank rows for decisions (a row left empty is ignored)."""
    return [
        DecisionForm(data, prefix=f"decision-{n}", owners=owners, empty_permitted=True, use_required_attribute=False)
        for n in range(rows)
    ]


ATTENDANCE_CHOICES = [
    ("", _("Choose")),
    (MeetingInvitee.Attendance.PRESENT, MeetingInvitee.Attendance.PRESENT.label),
    (MeetingInvitee.Attendance.ABSENT, MeetingInvitee.Attendance.ABSENT.label),
    (MeetingInvitee.Attendance.EXCUSED, MeetingInvitee.Attendance.EXCUSED.label),
]


class RecordForm(forms.Form):
    """The record of a held conference: minutes, outside participants, each invitee's attendance."""

    minutes = forms.CharField(
        label=_("Minutes"), max_length=actions.MAX_MINUTES_CHARS, widget=forms.Textarea(attrs={"rows": 8})
    )
    outside_participants = forms.CharField(
        label=_("Outside participants"),
        required=False,
        max_length=actions.MAX_OUTSIDE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("People from outside the team who took part, one a line (for example: parent, outside therapist)."),
    )

    def __init__(self, *args: Any, invitees: list[MeetingInvitee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitees = invitees
        for invitee in invitees:
            self.fields[self.key(invitee)] = forms.ChoiceField(
                label=str(invitee.user),
                choices=ATTENDANCE_CHOICES,
                error_messages={"required": _("Record whether this member was present, absent or excused.")},
            )

    @staticmethod
    def key(invitee: MeetingInvitee) -> str:
        return f"attendance_{invitee.user_id}"

    def attendance_fields(self) -> list[forms.BoundField]:
        return [self[self.key(i)] for i in self.invitees]

    def attendance(self) -> dict[int, str]:
        return {i.user_id: self.cleaned_data[self.key(i)] for i in self.invitees}
