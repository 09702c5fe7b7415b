"""Who may reach the assessment pages (merged into the access walk).

Every case role reaches them through the policy; which cases (and so which assessments) each sees
is the access module's business: another school's case is a 404, a read-only school's POST a 403,
and only a team leader of the case approves or declines a decision (the action refuses anyone else;
see test_assessment_views*.py and test_decision_*.py).
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    "assessments:case": CASE_USERS,
    "assessments:start": CASE_USERS,
    "assessments:detail": CASE_USERS,
    "assessments:save": CASE_USERS,
    "assessments:preview": CASE_USERS,
    "assessments:decide": CASE_USERS,
    "assessments:approve": CASE_USERS,
    "assessments:decline": CASE_USERS,
    "assessments:dissent": CASE_USERS,
    "assessments:discard": CASE_USERS,
}

SAMPLE_ARGS = {"assessment_pk": "1"}
