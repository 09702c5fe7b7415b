"""Who may read the audit trail: auditors (and system administrators) of a district, for that
district only. The trail names actors and targets by id; it never holds case content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import CharField, Q
from django.db.models.functions import Cast

from btam.accounts.models import Membership, Role

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.audit.models import AuditEventQuerySet

AUDIT_READER_ROLES = frozenset({Role.AUDITOR, Role.SYSTEM_ADMIN})
USER_TARGET_TYPE = "accounts.user"


def reader_district_ids(user: User) -> set[int]:
    """Districts whose trail the user may read."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return user.district_ids(*AUDIT_READER_ROLES)


def scope_events(qs: AuditEventQuerySet, user: User) -> AuditEventQuerySet:
    """Events of the reader's districts, and the district-less account events (sign-in, sign-out,
    password and second-factor changes) of people who hold or held an access level there."""
    districts = reader_district_ids(user)
    if not districts:
        return qs.none()
    # Former members too: their sign-ins while they worked in the district stay its history.
    members = Membership.objects.filter(district_id__in=districts).values("user_id")
    member_ids_as_text = (
        Membership.objects.filter(district_id__in=districts)
        .annotate(user_id_text=Cast("user_id", CharField()))
        .values("user_id_text")
    )
    about_a_member = Q(actor_id__in=members) | Q(target_type=USER_TARGET_TYPE, target_id__in=member_ids_as_text)
    return qs.filter(Q(district_id__in=districts) | (Q(district__isnull=True) & about_a_member))
