"""Who holds an access level at a school or across a district: the people notifications go to.

A membership covers a school when it names that school, or when it names no school at all (a
district-wide access level). Only active memberships of active accounts count.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from btam.accounts.models import Membership, User
from btam.orgs.models import School


def _memberships(district_id: int, roles: Iterable[str]) -> QuerySet[Membership]:
    return Membership.objects.filter(is_active=True, district_id=district_id, role__in=list(roles))


def _users(memberships: QuerySet[Membership]) -> list[User]:
    return list(User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk"))


def covering_school(school: School, roles: Iterable[str]) -> list[User]:
    """Holders of ``roles`` whose access covers ``school``: named on it, or district-wide."""
    memberships = _memberships(school.district_id, roles).filter(Q(schools=school) | Q(schools__isnull=True))
    return _users(memberships)


def named_at_school(school: School, roles: Iterable[str]) -> list[User]:
    """Holders of ``roles`` whose membership names ``school`` (district-wide ones left out)."""
    return _users(_memberships(school.district_id, roles).filter(schools=school))


def district_wide(district_id: int, roles: Iterable[str]) -> list[User]:
    """Holders of ``roles`` across the whole district (memberships that name no school)."""
    return _users(_memberships(district_id, roles).filter(schools__isnull=True))
