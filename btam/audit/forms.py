"""The auditor's filters over the trail (a GET form: the filtered list, and its CSV export)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from btam.audit.models import AuditEventQuerySet, Verb


class DateInput(forms.DateInput):
    input_type = "date"


# Far-off dates are refused rather than overflowing the date arithmetic below.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(9000, 12, 31)


def _date_in_range(value: dt.date) -> None:
    if not EARLIEST <= value <= LATEST:
        raise forms.ValidationError(
            _("Enter a date between %(start)s and %(end)s."),
            code="out_of_range",
            params={"start": EARLIEST.isoformat(), "end": LATEST.isoformat()},
        )


class EventFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From (date)"), required=False, widget=DateInput, validators=[_date_in_range])
    date_to = forms.DateField(
        label=_("To (date, inclusive)"), required=False, widget=DateInput, validators=[_date_in_range]
    )
    actor = forms.CharField(
        label=_("Who"), required=False, max_length=200, help_text=_("Part of a name or email address.")
    )
    verb = forms.ChoiceField(label=_("What"), required=False, choices=[("", _("Any action")), *Verb.choices])
    target_type = forms.CharField(
        label=_("Target type"), required=False, max_length=100, help_text=_("For example accounts.user.")
    )
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=64)
    # Paging keeps to the events that existed at the first page, so that new events (one is written
    # for every page viewed) do not shift the pages under the reader.
    until = forms.IntegerField(label=_("Up to event"), required=False, min_value=0, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict[str, str]:
        """The filters in use, for the record of who looked at what."""
        return {
            name: str(value) for name, value in self.cleaned_data.items() if value not in (None, "") and name != "until"
        }

    def apply(self, events: AuditEventQuerySet) -> AuditEventQuerySet:
        """Narrow the (already scoped) events. Call only on a valid form."""
        data = self.cleaned_data
        if data.get("date_from"):
            events = events.filter(created_at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            events = events.filter(created_at__lt=_start_of(data["date_to"] + dt.timedelta(days=1)))
        if actor := data.get("actor", "").strip():
            events = events.filter(Q(actor_name__icontains=actor) | Q(actor_email__icontains=actor))
        if data.get("verb"):
            events = events.filter(verb=data["verb"])
        if target_type := data.get("target_type", "").strip():
            events = events.filter(target_type__iexact=target_type)
        if target_id := data.get("target_id", "").strip():
            events = events.filter(target_id=target_id)
        if data.get("until") is not None:
            events = events.filter(id__lte=data["until"])
        return events


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
