"""Template helpers of the triage pages: urgency tags (colour and words), reason labels, ages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from btam.intake.models import Urgency
from btam.intake.urgency import REASON_LABELS
from btam.lib import clock

register = template.Library()

# The labels of urgency.py, marked here for translation (that module keeps plain strings; a test
# checks the two lists stay the same).
TRANSLATED_REASON_LABELS = (
    gettext_noop("Someone is in danger now"),
    gettext_noop("A weapon is involved"),
    gettext_noop("A weapon may be involved"),
    gettext_noop("Someone may hurt themselves"),
    gettext_noop("Self-harm not ruled out"),
    gettext_noop("A threatened event within a week"),
    gettext_noop("A threatened event on a date"),
)

# USWDS colours, always with the level in words: the colour is never the only sign.
_TAG_CLASSES = {
    Urgency.EMERGENCY: "bg-secondary-darker",
    Urgency.URGENT: "bg-emergency",
    Urgency.ELEVATED: "bg-warning text-ink",
    Urgency.ROUTINE: "bg-base-lighter text-ink",
}


@register.simple_tag
def urgency_tag(level: int) -> SafeString:
    try:
        urgency = Urgency(level)
    except ValueError:
        urgency = Urgency.ROUTINE
    return format_html(
        '<span class="usa-tag btam-urgency {}" data-urgency="{}">{}</span>',
        _TAG_CLASSES[urgency],
        urgency.name.lower(),
        urgency.label,
    )


@register.filter
def reason_labels(codes: Any) -> list[str]:
    """The translated labels of a report's urgency reasons (unknown codes as they are)."""
    return [_(REASON_LABELS[code]) if code in REASON_LABELS else str(code) for code in codes or []]


@register.filter
def ago(value: dt.datetime | None) -> str:
    """'12 minutes ago', measured from btam.lib.clock (so tests can move time)."""
    if value is None:
        return ""
    now = clock.now()
    if value >= now - dt.timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value, now, depth=1)}
