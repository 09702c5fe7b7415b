"""What the forms of the assessment tabs share: the date fields' messages. (What a view answers when
a refused change came from someone who lost access to the case: ``btam.cases.pages.lost_access``.)"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

# The messages of a date field (an optional field never shows "required"; a form may override it).
DATE_ERRORS = {
    "required": gettext_lazy("Enter the date."),
    "invalid": gettext_lazy("Enter a real date, for example 2026-03-14."),
}
