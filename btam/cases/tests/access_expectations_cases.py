"""Who may reach the case pages (merged into the access walk, see btam/core/tests/test_access_walk.py).

The policy opens the case pages to the team roles and the district roles that may break the glass
(database manager, backup administrator); which cases each sees is the access module's business
(object tests in test_access.py): a case they may not see answers 404. OUTSIDER leads a team in
another district: the policy lets him through, every case of this district is a 404 to him.
"""

from __future__ import annotations

from btam.accounts.models import Role
from btam.testing import OUTSIDER

CASE_USERS = frozenset(
    {
        Role.TEAM_MEMBER.value,
        Role.TEAM_LEADER.value,
        Role.RAPID_RESPONSE.value,
        Role.DATABASE_MANAGER.value,
        Role.BACKUP_ADMIN.value,
        OUTSIDER,
    }
)

TEAM = frozenset({Role.TEAM_MEMBER.value, Role.TEAM_LEADER.value, Role.RAPID_RESPONSE.value, OUTSIDER})

EXPECTED: dict[str, frozenset[str]] = {
    # Opening a case is for the team (a case for a report is opened from the report's page).
    "cases:new": TEAM,
    "cases:detail": CASE_USERS,
    "cases:edit": CASE_USERS,
    "cases:screening": CASE_USERS,
    "cases:move": CASE_USERS,
    "cases:request_closure": CASE_USERS,
    "cases:approve_closure": CASE_USERS,
    "cases:decline_closure": CASE_USERS,
    "cases:reopen": CASE_USERS,
}
