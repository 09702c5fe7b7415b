"""Who may read the audit trail: auditors (and system administrators) of a district, for that
district only. The trail names actors and targets by id; it never holds case content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from btam.accounts.models import Role

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.audit.models import AuditEventQuerySet

AUDIT_READER_ROLES = frozenset({Role.AUDITOR, Role.SYSTEM_ADMIN})


def scope_events(qs: AuditEventQuerySet, user: User) -> AuditEventQuerySet:
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    districts = {m.district_id for m in user.active_memberships if m.role in AUDIT_READER_ROLES}
    return qs.filter(district_id__in=districts)
