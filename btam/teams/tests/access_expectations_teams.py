"""Who may reach the team pages (merged into btam/core/tests/test_access_walk.py).

The case roles pass the policy (OUTSIDER leads a team in the other district). Which team each
sees and changes is the view's business (tested in test_views_*.py): a team of another school or
district is a 404, a change by a member who does not lead it a 403; the district settings answer
403 to a case role that does not manage the district.
"""

from __future__ import annotations

from btam.accounts.models import CASE_ROLES, Role
from btam.testing import OUTSIDER

TEAM_PAGES = frozenset({*(r.value for r in CASE_ROLES), OUTSIDER})
SETTINGS = frozenset({Role.DATABASE_MANAGER.value, Role.TEAM_LEADER.value, OUTSIDER})

EXPECTED = {
    "teams:list": TEAM_PAGES,
    "teams:create": TEAM_PAGES,
    "teams:settings": SETTINGS,
    "teams:discipline_add": SETTINGS,
    "teams:discipline_active": SETTINGS,
    "teams:away": TEAM_PAGES,
    "teams:away_end": TEAM_PAGES,
    "teams:detail": TEAM_PAGES,
    "teams:member_add": TEAM_PAGES,
    "teams:member_edit": TEAM_PAGES,
    "teams:member_remove": TEAM_PAGES,
    "teams:leaders": TEAM_PAGES,
}

SAMPLE_ARGS = {"member_pk": "1", "discipline_pk": "1", "absence_pk": "1"}
