"""Who may reach the inbox pages (merged into btam/core/tests/test_access_walk.py): every signed-in
account has an inbox of its own; what is in it is scoped to the account (tested in test_views).
Escalations are read-only in /admin/: nobody adds or deletes one there."""

from btam.testing import ALL_SIGNED_IN

EXPECTED = {
    "notifications:inbox": ALL_SIGNED_IN,
    "notifications:open": ALL_SIGNED_IN,
    "notifications:mark_all_read": ALL_SIGNED_IN,
    "admin:notifications_escalation_add": frozenset(),
    "admin:notifications_escalation_delete": frozenset(),
}
