"""Who may reach the pages of people on a case, related cases, merging and splitting (merged into
the access walk, see btam/core/tests/test_access_walk.py). Which cases each sees is the access
module's business: a case they may not see answers 404."""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS, TEAM

EXPECTED = {
    "cases:participant_add": CASE_USERS,
    "cases:participant_add_registry": CASE_USERS,
    "cases:people_find": CASE_USERS,
    "cases:participant_link": CASE_USERS,
    "cases:participant_role": CASE_USERS,
    "cases:participant_remove": CASE_USERS,
    "cases:link_add": CASE_USERS,
    "cases:link_remove": CASE_USERS,
    "cases:merge_pick": CASE_USERS,
    "cases:merge_confirm": CASE_USERS,
    "cases:merge_undo": CASE_USERS,
    "cases:split": CASE_USERS,
    # From a report's page: for the team that triages reports.
    "cases:add_report": TEAM,
}

SAMPLE_ARGS = {
    "participant_pk": "1",
    "link_pk": "1",
    "target_pk": "1",
    "merge_pk": "1",
    "report_pk": "1",
}
