"""The data-role warning: a district without an active database manager or backup administrator.

Shown on the workspace and on /teams/ to the people who can fix it or must know: the district's
database managers, team leaders and system administrators. Names no person, only the district.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from btam.accounts.models import Membership, Role
from btam.orgs.models import District

if TYPE_CHECKING:
    from btam.accounts.models import User

WARNED_ROLES = (Role.DATABASE_MANAGER, Role.TEAM_LEADER, Role.SYSTEM_ADMIN)


@dataclass(frozen=True)
class DataRoleWarning:
    district_id: int
    district: str
    message: str


def data_role_warnings(user: User) -> list[DataRoleWarning]:
    if not (user.is_authenticated and user.is_active):
        return []
    district_ids = user.district_ids(*WARNED_ROLES)
    if not district_ids:
        return []
    held = set(
        Membership.objects.filter(
            district_id__in=district_ids,
            is_active=True,
            user__is_active=True,
            role__in=[Role.DATABASE_MANAGER, Role.BACKUP_ADMIN],
        )
        .values_list("district_id", "role")
        .distinct()
    )
    warnings = []
    for district in District.objects.filter(pk__in=district_ids).order_by("name"):
        if (district.pk, Role.DATABASE_MANAGER) not in held:
            warnings.append(
                DataRoleWarning(
                    district.pk,
                    district.name,
                    _(
                        "%(district)s has no active database manager: nobody can manage its accounts and "
                        "records. A system administrator should give someone the access level."
                    )
                    % {"district": district.name},
                )
            )
        if (district.pk, Role.BACKUP_ADMIN) not in held:
            warnings.append(
                DataRoleWarning(
                    district.pk,
                    district.name,
                    _(
                        "%(district)s has no backup administrator: when the database manager is away, "
                        "nobody can stand in. Designate one."
                    )
                    % {"district": district.name},
                )
            )
    return warnings
