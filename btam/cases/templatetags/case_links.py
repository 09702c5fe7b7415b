"""The "Add to an existing case" form on a report's page (the report page's own views do not know
it: a failed attempt passes it, bound, in ``forms``; otherwise a blank one is made here)."""

from __future__ import annotations

from typing import Any

from django import template

from btam.cases.link_forms import AddToCaseForm

register = template.Library()


@register.simple_tag
def add_to_case_form(forms: Any) -> AddToCaseForm:
    bound = forms.get("add_to_case") if isinstance(forms, dict) else None
    return bound if isinstance(bound, AddToCaseForm) else AddToCaseForm()
