"""What the teams add to the escalation chain of an urgent report (btam/notifications/escalation.py).

* the rapid-response step adds the school team's rapid-response subgroup;
* the team-leader step adds the school team's leader, and, when every leader found is away
  today, the team's deputy at once (not one interval later);
* the deputy step is the school team's deputy, else the district team's.

Only active accounts that still hold a team role (``btam.cases.access.TEAM_ROLES``) covering the
report's school are returned: a member who moved to another school, or whose role became one that
cannot open reports (database manager, backup administrator), is not told. A member flagged
leader counts as the leader only while they hold the team-leader access level covering the school
(a demoted leader is not). Who is away is handled by ``notify`` itself
(``availability.route_urgent``): an away leader's notification goes to their backups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q

from btam.accounts.models import Membership, Role, User
from btam.cases.access import TEAM_ROLES
from btam.teams.availability import away_today
from btam.teams.models import TeamMember

if TYPE_CHECKING:
    from btam.orgs.models import School


def _users(members: Iterable[TeamMember], school: School, roles: Iterable[str] = TEAM_ROLES) -> list[User]:
    """The members' accounts, active and holding one of ``roles`` covering ``school``."""
    ids = [m.user_id for m in members]
    if not ids:
        return []
    holders = (
        Membership.objects.filter(user_id__in=ids, district_id=school.district_id, is_active=True, role__in=list(roles))
        .filter(Q(schools=school) | Q(schools__isnull=True))
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=ids, is_active=True).filter(pk__in=holders).order_by("pk"))


def rapid_response_subgroup(school: School) -> list[User]:
    return _users(TeamMember.objects.filter(team__school=school, rapid_response=True), school)


def school_leader(school: School) -> list[User]:
    return _users(TeamMember.objects.filter(team__school=school, is_leader=True), school, [Role.TEAM_LEADER])


def deputy(school: School) -> list[User]:
    """The deputy of the school's team; the district team's when the school's team has none."""
    found = _users(TeamMember.objects.filter(team__school=school, is_deputy=True), school)
    if found:
        return found
    return _users(
        TeamMember.objects.filter(team__district_id=school.district_id, team__school__isnull=True, is_deputy=True),
        school,
    )


def deputy_if_leaders_away(school: School, leaders: list[User]) -> list[User]:
    """The deputy, when there are leaders and every one of them is away today."""
    if not leaders:
        return []
    away = away_today([u.pk for u in leaders], school.district_id)
    if len(away) < len({u.pk for u in leaders}):
        return []
    return [u for u in deputy(school) if u.pk not in away]
