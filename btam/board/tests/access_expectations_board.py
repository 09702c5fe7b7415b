"""Who may reach the monitoring board (merged into the access walk, btam/core/tests/test_access_walk.py).

Team leaders and the district's data roles (database manager, backup administrator) reach it;
OUTSIDER leads a team in another district and sees his own district's board. What each sees on it
is scoped by the case and report querysets (tested in test_board_views.py and test_board_panels.py).
"""

from __future__ import annotations

from btam.accounts.models import Role
from btam.testing import OUTSIDER

BOARD_USERS = frozenset({Role.TEAM_LEADER.value, Role.DATABASE_MANAGER.value, Role.BACKUP_ADMIN.value, OUTSIDER})

EXPECTED = {
    "board:index": BOARD_USERS,
    "board:panels": BOARD_USERS,
}
