"""``{% can_search_people user as show %}``: whether the navigation offers the people registry."""

from __future__ import annotations

from django import template

from btam.people.access import SEARCH_ROLES

register = template.Library()


@register.simple_tag
def can_search_people(user: object) -> bool:
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_authenticated", False) and has_role and has_role(*SEARCH_ROLES))
