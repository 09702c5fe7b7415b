"""Who may see and work cases (need to know).

* A case is visible to the team members (team member, leader, rapid response) of the schools on
  it (:class:`~btam.cases.models.CaseSchool` rows not removed) and to the district-level team
  (the same roles held for the whole district). A school whose access is *read* (the old school
  after a transfer) sees the case but cannot change it.
* A **restricted** case is visible only to its named members (:class:`CaseMember`) and its case
  manager, whatever their school (they still need a team role in the case's district); changing
  it takes the team's write access as well.
* **Break-glass**: a district role (a district-wide team role, the database manager, a backup
  administrator) may open a case it cannot otherwise see by giving a reason: the grant is audited,
  notifies the case's leaders and expires (:data:`BREAK_GLASS_HOURS`). It gives working access.
* Auditors, district viewers, system administrators and referring staff never see a case.

Lists use ``Case.objects.visible_to(user)``; one case is fetched with :func:`get_case_for_user`:
404 when not visible (its existence is not revealed), 403 when visible but read-only and the view
changes something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, Value
from django.http import Http404

from btam.accounts.models import Role
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.cases.models import Case, CaseQuerySet

TEAM_ROLES = frozenset({Role.TEAM_MEMBER, Role.TEAM_LEADER, Role.RAPID_RESPONSE})
LEADER_ROLES = frozenset({Role.TEAM_LEADER})
# Who may break the glass (held for the whole district).
BREAK_GLASS_ROLES = TEAM_ROLES | {Role.DATABASE_MANAGER, Role.BACKUP_ADMIN}
# Who reaches the case pages at all (the policy); each then sees only what scope_cases allows.
CASE_PAGE_ROLES = BREAK_GLASS_ROLES
BREAK_GLASS_HOURS = 24


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def district_team_ids(user: User, roles: frozenset[str] = TEAM_ROLES) -> set[int]:
    """Districts where the user holds one of ``roles`` for the whole district (no named schools)."""
    if not _active(user):
        return set()
    return {m.district_id for m in user.active_memberships if m.role in roles and not m.named_school_ids}


def named_school_ids(user: User, roles: frozenset[str] = TEAM_ROLES) -> set[int]:
    """Schools named on the user's team memberships (district-wide memberships are not expanded)."""
    if not _active(user):
        return set()
    ids: set[int] = set()
    for m in user.active_memberships:
        if m.role in roles:
            ids.update(m.named_school_ids)
    return ids


def break_glass_district_ids(user: User) -> set[int]:
    return district_team_ids(user, BREAK_GLASS_ROLES)


def scope_cases(qs: CaseQuerySet, user: User, *, write: bool = False) -> CaseQuerySet:
    """Cases the user may see (or, with ``write``, change)."""
    from btam.cases.models import BreakGlassGrant, CaseMember, CaseSchool

    if not _active(user):
        return qs.none()
    districts = district_team_ids(user)
    schools = named_school_ids(user)
    glass = Exists(BreakGlassGrant.objects.filter(case_id=OuterRef("pk"), user_id=user.pk, expires_at__gt=clock.now()))
    glass_possible = bool(break_glass_district_ids(user))
    if not districts and not schools and not glass_possible:
        return qs.none()

    team = Q(district_id__in=districts) if districts else Q(pk__in=[])
    if schools:
        links = CaseSchool.objects.filter(case_id=OuterRef("pk"), school_id__in=schools, removed_at__isnull=True)
        if write:
            links = links.filter(access=CaseSchool.Access.FULL)
        team |= Q(Exists(links))
    named = Q(Exists(CaseMember.objects.filter(case_id=OuterRef("pk"), user_id=user.pk))) | Q(manager_id=user.pk)
    condition = team & (Q(restricted=False) | named)
    if not write:
        # A named member of a restricted case sees it whatever their school (a team role in the
        # case's district is still needed); changing it takes the team's write access as well.
        member_districts = {m.district_id for m in user.active_memberships if m.role in TEAM_ROLES}
        if member_districts:
            condition |= Q(restricted=True, district_id__in=member_districts) & named
    if glass_possible:
        # A grant counts only while the user still holds a break-glass role in the case's district.
        condition |= glass & Q(district_id__in=break_glass_district_ids(user))
    return qs.filter(condition)


def get_case_for_user(user: User, pk: int, *, write: bool = False) -> Case:
    """One case the user may see; 404 otherwise. With ``write``: 403 when the user may only read it
    (a transferred case's old school).

    Whether the user may change it comes with the case, in the same statement (every case page
    asks), and :func:`can_write` answers from it for this user."""
    from btam.cases.models import Case

    writable = Case.objects.writable_by(user).filter(pk=OuterRef("pk"))
    flag: Any = Value(False) if writable.query.is_empty() else Exists(writable)
    case = (
        Case.objects.visible_to(user)
        .select_related("school", "district", "manager")
        .filter(pk=pk)
        .annotate(_user_can_write=flag)
        .first()
    )
    if case is None:
        raise Http404
    case._write_access = (user.pk, bool(case._user_can_write))  # type: ignore[attr-defined]
    if write and not can_write(user, case):
        raise PermissionDenied
    return case


def can_write(user: User, case: Case) -> bool:
    from btam.cases.models import Case

    known = getattr(case, "_write_access", None)
    if known is not None and known[0] == user.pk:
        return bool(known[1])
    return Case.objects.writable_by(user).filter(pk=case.pk).exists()


def is_leader_for(user: User, case: Case) -> bool:
    """A team leader of the case's lead school (or of its whole district)."""
    if not _active(user):
        return False
    for m in user.active_memberships:
        if m.role in LEADER_ROLES and m.district_id == case.district_id:
            if not m.named_school_ids or case.school_id in m.named_school_ids:
                return True
    return False


def can_break_glass(user: User, case: Case) -> bool:
    return case.district_id in break_glass_district_ids(user)


def leaders_of(case: Case) -> list[User]:
    """The team leaders who approve a closure and hear of a break-glass: those of the lead school,
    else the district-wide ones."""
    from btam.accounts.models import User

    # One filter() call: every condition applies to the same membership (a second call would
    # join the memberships again, and a leader of another school holding any district-wide
    # access level would match).
    leaders = User.objects.filter(
        Q(memberships__schools=case.school_id) | Q(memberships__schools__isnull=True),
        is_active=True,
        memberships__is_active=True,
        memberships__role=Role.TEAM_LEADER,
        memberships__district_id=case.district_id,
    ).distinct()
    return list(leaders)


def assignable_users(case: Case) -> list[User]:
    """Accounts that may be made case manager or given a task: team roles of the case's working
    schools or the whole district (restricted cases: named members only)."""
    from btam.accounts.models import User
    from btam.cases.models import CaseSchool

    school_ids = list(
        CaseSchool.objects.filter(case=case, removed_at__isnull=True, access=CaseSchool.Access.FULL).values_list(
            "school_id", flat=True
        )
    )
    users = User.objects.filter(
        Q(memberships__schools__in=school_ids) | Q(memberships__schools__isnull=True),
        is_active=True,
        memberships__is_active=True,
        memberships__role__in=TEAM_ROLES,
        memberships__district_id=case.district_id,
    )
    if case.restricted:
        users = users.filter(Q(case_memberships__case=case) | Q(pk=case.manager_id))
    return list(users.distinct().order_by("full_name", "email"))
