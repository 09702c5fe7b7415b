"""Who may reach the inbox pages (merged into btam/core/tests/test_access_walk.py): every signed-in
account has an inbox of its own; what is in it is scoped to the account (tested in test_views).
Escalations are read-only in /admin/: nobody adds or deletes one there. Preferences are one's own
(no id in the path); failed deliveries are for the district's database managers and backups."""

from btam.accounts.models import Role
from btam.testing import ALL_SIGNED_IN

# Failed email deliveries of a district: its database managers and backup administrators.
DELIVERY_MANAGERS = frozenset({Role.DATABASE_MANAGER.value, Role.BACKUP_ADMIN.value})

EXPECTED = {
    "notifications:inbox": ALL_SIGNED_IN,
    "notifications:open": ALL_SIGNED_IN,
    "notifications:mark_all_read": ALL_SIGNED_IN,
    "notifications:preferences": ALL_SIGNED_IN,
    "notifications:deliveries": DELIVERY_MANAGERS,
    "notifications:requeue_delivery": DELIVERY_MANAGERS,
    "admin:notifications_escalation_add": frozenset(),
    "admin:notifications_escalation_delete": frozenset(),
}
