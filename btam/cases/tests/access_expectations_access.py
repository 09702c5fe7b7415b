"""Who may reach the "Schools and access" tab, its actions and the break-glass page (merged into the
access walk, see btam/core/tests/test_access_walk.py).

The tab and its actions are for the case roles (which cases each sees is the access module's
business: test_access_cases.py). The break-glass page is for the district roles that may break
the glass; the walk's accounts all hold their role for the whole district, and a team member of
named schools only is refused by the view (test_break_glass_views.py).
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED: dict[str, frozenset[str]] = {
    "cases:access": CASE_USERS,
    "cases:transfer": CASE_USERS,
    "cases:remove_school": CASE_USERS,
    "cases:restore_school": CASE_USERS,
    "cases:restrict": CASE_USERS,
    "cases:add_member": CASE_USERS,
    "cases:remove_member": CASE_USERS,
    "cases:break_glass": CASE_USERS,
}
