"""Navigation entries of cases: the case list and "my tasks" for those who work cases."""

from __future__ import annotations

from django import template

from btam.cases.access import CASE_PAGE_ROLES

register = template.Library()


@register.simple_tag
def can_work_cases(user: object) -> bool:
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_authenticated", False) and has_role and has_role(*CASE_PAGE_ROLES))
