"""``{% can_import_rosters user as show %}``: whether the navigation offers roster imports."""

from __future__ import annotations

from django import template

from btam.people.access import IMPORT_ROLES

register = template.Library()


@register.simple_tag
def can_import_rosters(user: object) -> bool:
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_authenticated", False) and has_role and has_role(*IMPORT_ROLES))
