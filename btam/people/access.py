"""Who may see people in the registry.

Team roles (CASE_ROLES) of a district see the whole district's registry: connecting the dots
across schools and years is the point of it. Referring staff see the people enrolled at their
own schools (to name the subject of a referral). Auditors, district viewers and system
administrators see no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from btam.accounts.models import CASE_ROLES, Role

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.people.models import PersonQuerySet

PEOPLE_ROLES = frozenset(CASE_ROLES)
DEMOGRAPHICS_ROLES = frozenset({Role.TEAM_LEADER, Role.DATABASE_MANAGER, Role.BACKUP_ADMIN})


def scope_people(qs: PersonQuerySet, user: User) -> PersonQuerySet:
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    districts = {m.district_id for m in user.active_memberships if m.role in PEOPLE_ROLES}
    condition = Q(district_id__in=districts)
    referring_schools = user.school_ids(Role.REFERRING_STAFF)
    if referring_schools:
        condition |= Q(enrollments__school_id__in=referring_schools, enrollments__status="active")
    if not districts and not referring_schools:
        return qs.none()
    result = qs.filter(condition)
    return result.distinct() if referring_schools else result


def can_see_demographics(user: User, district_id: int) -> bool:
    return user.has_role(*DEMOGRAPHICS_ROLES, district_id=district_id)
