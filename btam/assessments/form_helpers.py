"""What the forms and views of the assessment tabs share: the date fields' messages, and what a
view answers when a refused change turns out to have come from someone who lost access to the case."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.pages import user_of

# The messages of a date field (an optional field never shows "required"; a form may override it).
DATE_ERRORS = {
    "required": gettext_lazy("Enter the date."),
    "invalid": gettext_lazy("Enter a real date, for example 2026-03-14."),
}


def lost_access(request: HttpRequest, case: Case, exc: CaseError) -> HttpResponse | None:
    """After a refused change: the user's access may have gone meanwhile; then leave the case (the
    message on the case list) instead of showing the case again. None while they still see it."""
    if Case.objects.visible_to(user_of(request)).filter(pk=case.pk).exists():
        return None
    messages.error(request, str(exc))
    return redirect("cases:list")
