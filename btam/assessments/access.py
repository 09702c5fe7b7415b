"""Who may see and do what in assessments and plans.

An assessment, an intervention, a check-in or a schedule is visible exactly when its case is
(``btam.cases.access``: the case's schools' teams, the district team, named members of a
restricted case, break-glass); a read-only school reads them and changes nothing. Approving a
decision at the scheme's top levels is a team leader's (``cases.access.is_leader_for``). A
district's assessment settings (scheme, instruments, intervals, rules, its own definition files,
its own intervention kinds) are managed by its database managers and district-wide team leaders.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from btam.accounts.models import Role, User
from btam.assessments.models import Intervention
from btam.cases import access as case_access
from btam.cases.models import Case

SETTINGS_ROLES = frozenset({Role.DATABASE_MANAGER, Role.TEAM_LEADER})


def get_case(user: User, pk: int, *, write: bool = False) -> Case:
    """The case of an assessment page: 404 when not visible, 403 when read-only and ``write``."""
    return case_access.get_case_for_user(user, pk, write=write)


def get_intervention(
    user: User, case_pk: int, intervention_pk: int, *, write: bool = False
) -> tuple[Case, Intervention]:
    """One intervention of a case the user may see (404 otherwise; 403 for a write when read-only)."""
    case = get_case(user, case_pk, write=write)
    try:
        intervention = Intervention.objects.get(pk=intervention_pk, case=case)
    except Intervention.DoesNotExist:
        raise Http404 from None
    return case, intervention


def can_approve(user: User, case: Case) -> bool:
    """Whether the user may approve a decision on the case: a team leader of the case."""
    return case_access.is_leader_for(user, case)


def settings_district_ids(user: User) -> set[int]:
    """Districts whose assessment settings the user manages: a database manager's, or a team
    leader's whose membership covers the whole district (no named schools)."""
    if not (user.is_authenticated and user.is_active):
        return set()
    ids: set[int] = set()
    for m in user.active_memberships:
        if m.role == Role.DATABASE_MANAGER or (m.role == Role.TEAM_LEADER and not m.named_school_ids):
            ids.add(m.district_id)
    return ids


def require_settings_district(user: User, district_id: int) -> None:
    if district_id not in settings_district_ids(user):
        raise PermissionDenied
