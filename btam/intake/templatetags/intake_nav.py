"""Navigation entries of intake: the triage queue (team) and "my referrals" (referring staff)."""

from __future__ import annotations

from django import template

from btam.intake.access import REFERRAL_ROLES, TRIAGE_ROLES

register = template.Library()


def _has(user: object, roles: frozenset[str]) -> bool:
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_authenticated", False) and has_role and has_role(*roles))


@register.simple_tag
def can_triage(user: object) -> bool:
    return _has(user, TRIAGE_ROLES)


@register.simple_tag
def can_refer(user: object) -> bool:
    return _has(user, REFERRAL_ROLES)
