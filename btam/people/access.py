"""Who may see people in the registry.

Team roles (CASE_ROLES) of a district see the whole district's registry: connecting the dots
across schools and years is the point of it. Referring staff see the people enrolled at their
own schools (to name the subject of a referral). Auditors, district viewers and system
administrators see no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from btam.accounts.models import CASE_ROLES, Role

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.people.models import ImportRun, Person, PersonMerge, PersonQuerySet

PEOPLE_ROLES = frozenset(CASE_ROLES)
DEMOGRAPHICS_ROLES = frozenset({Role.TEAM_LEADER, Role.DATABASE_MANAGER, Role.BACKUP_ADMIN})
# Who uploads roster bundles and reads the import runs of their district.
IMPORT_ROLES = frozenset({Role.DATABASE_MANAGER, Role.BACKUP_ADMIN})
# Who may search the registry and open a person's page (each sees only what scope_people allows).
SEARCH_ROLES = PEOPLE_ROLES | {Role.REFERRING_STAFF}
# Who merges two records of one person, and undoes a merge.
MERGE_ROLES = frozenset({Role.TEAM_LEADER, Role.DATABASE_MANAGER, Role.BACKUP_ADMIN})


def scope_people(qs: PersonQuerySet, user: User) -> PersonQuerySet:
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    districts = user.district_ids(*PEOPLE_ROLES)
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


def get_person_for_user(user: User, pk: int) -> Person:
    """One person the user may see (merged records too: their page points to the survivor); 404 otherwise."""
    from btam.people.models import Person

    person = Person.objects.visible_to(user).select_related("district", "merged_into").filter(pk=pk).first()
    if person is None:
        raise Http404
    return person


def merge_district_ids(user: User) -> set[int]:
    """Districts in which the user may merge records (and undo merges)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return user.district_ids(*MERGE_ROLES)


def can_merge(user: User, district_id: int) -> bool:
    return district_id in merge_district_ids(user)


def scope_merges(qs: QuerySet[PersonMerge], user: User) -> QuerySet[PersonMerge]:
    return qs.filter(district_id__in=merge_district_ids(user))


def import_district_ids(user: User) -> set[int]:
    """Districts whose rosters the user may import (and whose import runs they see)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return user.district_ids(*IMPORT_ROLES)


def scope_import_runs(qs: QuerySet[ImportRun], user: User) -> QuerySet[ImportRun]:
    return qs.filter(district_id__in=import_district_ids(user))
