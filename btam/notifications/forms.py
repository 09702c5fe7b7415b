"""The preferences form: how a person's emails come."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.notifications.models import NotificationPreference


class PreferencesForm(forms.Form):
    delivery = forms.ChoiceField(
        label=_("How should notification emails come?"),
        choices=NotificationPreference.Delivery.choices,
        error_messages={
            "required": _("Choose how your emails should come."),
            "invalid_choice": _("Choose one of the options shown: immediately or a daily digest."),
        },
    )
    digest_time = forms.TimeField(
        label=_("Time of the daily digest"),
        input_formats=["%H:%M"],
        required=False,
        error_messages={
            "invalid": _("Enter the time as hours and minutes on a 24-hour clock, for example 07:30."),
        },
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        wants_digest = cleaned.get("delivery") == NotificationPreference.Delivery.DAILY_DIGEST
        if wants_digest and not cleaned.get("digest_time") and "digest_time" not in self.errors:
            self.add_error("digest_time", _("Enter the time of the daily digest, for example 07:30."))
        return cleaned
