"""Who may see what of notifications.

- A person's own inbox and preferences: ``Notification.objects.for_user``,
  ``NotificationPreference.objects.visible_to`` (nobody reaches another person's).
- Failed email deliveries: the database managers and backup administrators of the district the
  message belongs to (``deliveries_visible_to``). They see the kind, the generic subject, the
  recipient's account, the attempts and the error's class, never the body or the address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btam.accounts.models import Role
from btam.core.access import roles
from btam.worker.models import OutboxMessage

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from btam.accounts.models import User

DELIVERY_MANAGER_ROLES = (Role.DATABASE_MANAGER, Role.BACKUP_ADMIN)
DELIVERY_POLICY = roles(*DELIVERY_MANAGER_ROLES, label="delivery managers")
PROBLEM_STATES = (OutboxMessage.State.FAILED, OutboxMessage.State.DEAD)


def deliveries_visible_to(user: User) -> QuerySet[OutboxMessage]:
    """Outbox messages of the districts where the user is a database manager or backup administrator."""
    if not user.is_authenticated or not user.is_active:
        return OutboxMessage.objects.none()
    districts = user.district_ids(*DELIVERY_MANAGER_ROLES)
    if not districts:
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(district_id__in=districts)


def failed_deliveries_visible_to(user: User) -> QuerySet[OutboxMessage]:
    return deliveries_visible_to(user).filter(state__in=PROBLEM_STATES)
