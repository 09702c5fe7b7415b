"""Who may open the leader's monitoring board, and over which schools.

The board is for team leaders and for the district's data roles (database manager, backup
administrator): ``BOARD_ROLES``. It covers the schools those roles give (a district-wide access
level: every school of the district), and within them shows only what the viewer may see anyway:
cases through ``Case.objects.visible_to`` (a restricted case only to its named members and its
manager, a break-glass grant while it lasts), reports through ``Report.objects.visible_to`` (the
school teams' triage scope). A database manager without a team role therefore sees the board's
frame with empty panels: the data roles do not read case content (see ``btam.cases.access``).
Approving decisions is a team leader's (``cases.access.is_leader_for``): the panel of decisions
waiting for approval lists only cases of the schools the viewer leads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btam.accounts.models import Role
from btam.core.access import roles

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.orgs.models import School

BOARD_ROLES = frozenset({Role.TEAM_LEADER, Role.DATABASE_MANAGER, Role.BACKUP_ADMIN})
BOARD_POLICY = roles(*BOARD_ROLES, label="board")


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_see_board(user: User) -> bool:
    return _active(user) and user.has_role(*BOARD_ROLES)


def board_schools(user: User) -> list[School]:
    """The schools the board covers, by name: those the user leads or administers (a district-wide
    access level covers every school of its district). One query, the district joined."""
    from django.db.models import Q

    from btam.orgs.models import School

    if not _active(user):
        return []
    mine = [m for m in user.active_memberships if m.role in BOARD_ROLES]
    whole = {m.district_id for m in mine if not m.named_school_ids}
    named = {pk for m in mine for pk in m.named_school_ids}
    if not whole and not named:
        return []
    found = School.objects.filter(Q(district_id__in=whole) | Q(pk__in=named)).select_related("district")
    return list(found.order_by("name", "pk"))


def led_school_ids(user: User) -> set[int]:
    """The schools whose decisions the user may approve (team leader)."""
    if not _active(user):
        return set()
    return user.school_ids(Role.TEAM_LEADER)


def works_cases(user: User) -> bool:
    """Whether any of the user's access levels shows case content (a team role)."""
    from btam.cases.access import TEAM_ROLES

    return _active(user) and user.has_role(*TEAM_ROLES)
