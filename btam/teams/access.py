"""Who may see and change teams, and who may join one.

* **See**: a team is visible to the holders of a case role (``CASE_ROLES``) covering its school;
  the district team to the holders of a case role in its district.
* **Change** (members, flags, leader and deputy): the district's database managers, its
  district-wide team leaders, and the team's own leader.
* **District team settings** (coverage rule, the district's own disciplines): database managers
  and district-wide team leaders.
* **Join**: an active account holding a *team* role (``btam.cases.access.TEAM_ROLES``: team
  member, leader, rapid response) that covers the team's school (for the district team: a
  district-wide team role). The database manager and the backup administrator see and set up
  teams but cannot open reports, so they are never members, deputies or backups (an urgent report
  sent to them could not be opened or acknowledged). **Lead**: the team-leader access level
  covering the school; a member flagged leader who no longer holds it (demoted, moved) neither
  manages the team nor is told as its leader.
* **Back up** someone away: an active account with a team role covering every school the away
  person's team roles cover (:func:`backup_candidate_ids` works it out for a whole district in
  two queries).

One team is fetched with :func:`get_team_for_user`: 404 when not visible, 403 when read-only and
the view changes something.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from btam.accounts.models import CASE_ROLES, Membership, Role, User
from btam.cases.access import TEAM_ROLES

if TYPE_CHECKING:
    from btam.orgs.models import School
    from btam.teams.models import Team, TeamQuerySet

MANAGER_ROLES = frozenset({Role.DATABASE_MANAGER, Role.TEAM_LEADER})


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def scope_teams(qs: TeamQuerySet, user: User) -> TeamQuerySet:
    if not _active(user):
        return qs.none()
    schools = user.school_ids(*CASE_ROLES)
    districts = user.district_ids(*CASE_ROLES)
    return qs.filter(Q(school_id__in=schools) | Q(school__isnull=True, district_id__in=districts))


def settings_district_ids(user: User) -> set[int]:
    """Districts whose teams and team settings the user manages: a database manager's, or a team
    leader's whose membership covers the whole district (no named schools)."""
    if not _active(user):
        return set()
    return {
        m.district_id
        for m in user.active_memberships
        if m.role == Role.DATABASE_MANAGER or (m.role == Role.TEAM_LEADER and not m.named_school_ids)
    }


def can_manage(user: User, team: Team) -> bool:
    """Whether the user may change the team: a district manager of its district, or its leader
    who still holds the team-leader access level covering its school."""
    if not _active(user):
        return False
    if team.district_id in settings_district_ids(user):
        return True
    return team.members.filter(user_id=user.pk, is_leader=True).exists() and may_lead(team, user)


def can_create_team(user: User, school: School | None, district_id: int) -> bool:
    """District managers set up any team of their district; a team leader named on a school sets
    up that school's team."""
    if district_id in settings_district_ids(user):
        return True
    return school is not None and school.pk in school_ids_led(user)


def school_ids_led(user: User) -> set[int]:
    """Schools named on the user's team-leader memberships."""
    if not _active(user):
        return set()
    ids: set[int] = set()
    for m in user.active_memberships:
        if m.role == Role.TEAM_LEADER:
            ids.update(m.named_school_ids)
    return ids


def get_team_for_user(user: User, pk: int, *, write: bool = False) -> Team:
    from btam.teams.models import Team

    team = Team.objects.visible_to(user).select_related("school", "district").filter(pk=pk).first()
    if team is None:
        raise Http404
    if write and not can_manage(user, team):
        raise PermissionDenied
    return team


# Who may join or lead ---------------------------------------------------------------------------------


def _covering(team: Team, roles: frozenset[str] | set[str]) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(is_active=True, district_id=team.district_id, role__in=list(roles))
    if team.school_id is None:
        return memberships.filter(schools__isnull=True)
    return memberships.filter(Q(schools=team.school_id) | Q(schools__isnull=True))


def eligible_members(team: Team) -> QuerySet[User]:
    """Active accounts holding a team role covering the team's school."""
    return User.objects.filter(is_active=True, pk__in=_covering(team, TEAM_ROLES).values("user_id")).order_by(
        "full_name", "pk"
    )


def may_join(team: Team, user: User) -> bool:
    return eligible_members(team).filter(pk=user.pk).exists()


def may_lead(team: Team, user: User) -> bool:
    return bool(user.is_active and _covering(team, {Role.TEAM_LEADER}).filter(user_id=user.pk).exists())


Coverage = set[int] | None  # the schools a person's team roles cover; None for the whole district


def team_coverage(district_id: int, user_ids: Iterable[int] | None = None) -> dict[int, Coverage]:
    """What the team roles of each active account in the district cover (of ``user_ids``, or of
    everyone): None for the whole district, else the named schools. Two queries, whatever the size."""
    memberships = Membership.objects.filter(
        district_id=district_id, is_active=True, role__in=list(TEAM_ROLES), user__is_active=True
    ).prefetch_related("schools")
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=list(user_ids))
    coverage: dict[int, Coverage] = {}
    for m in memberships:
        named = {s.pk for s in m.schools.all()}
        mine = coverage.get(m.user_id, set())
        coverage[m.user_id] = None if mine is None or not named else mine | named
    return coverage


def _covers(theirs: Coverage, mine: Coverage) -> bool:
    """Whether coverage ``theirs`` includes all of ``mine`` (someone without a team role covers
    nothing, so any team role covers them)."""
    if theirs is None:
        return True
    if mine is None:
        return False
    return bool(theirs) and mine <= theirs


def may_back_up(backup: User, away: User, district_id: int) -> bool:
    """An active account with a team role in the district covering every school the away person's
    team roles cover."""
    if not backup.is_active or backup.pk == away.pk:
        return False
    coverage = team_coverage(district_id, [backup.pk, away.pk])
    if backup.pk not in coverage:
        return False
    return _covers(coverage[backup.pk], coverage.get(away.pk, set()))


def backup_candidate_ids(away: User, district_id: int) -> set[int]:
    """Everyone who may back ``away`` up in the district (:func:`may_back_up`), worked out at once."""
    coverage = team_coverage(district_id)
    mine = coverage.get(away.pk, set())
    return {pk for pk, theirs in coverage.items() if pk != away.pk and _covers(theirs, mine)}


def away_district_ids(user: User) -> set[int]:
    """Districts where the user may mark themselves away: where they hold a case role."""
    if not _active(user):
        return set()
    return user.district_ids(*CASE_ROLES)
