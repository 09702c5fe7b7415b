"""Who may reach the case list and its saved filters (merged into the access walk).

The list is for everyone who works cases (each sees only the cases ``visible_to`` gives them); a
saved filter is its owner's alone (someone else's answers 404, see test_list_saved_filters.py).
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED: dict[str, frozenset[str]] = {
    "cases:list": CASE_USERS,
    "cases:save_filter": CASE_USERS,
    "cases:delete_filter": CASE_USERS,
}
