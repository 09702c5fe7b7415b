"""Who may reach the Plan tab's pages (merged into the access walk, btam/core/tests/test_access_walk.py).

Every case role reaches them through the policy (``cases.pages.CASE_POLICY``); which cases (and so
which plans) each sees is the case access module's business: another school's case is a 404, a
read-only school's POST a 403 (see test_plan_views.py and test_safety_plan_views.py).
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    "assessments:plan": CASE_USERS,
    "assessments:intervention_add": CASE_USERS,
    "assessments:intervention_edit": CASE_USERS,
    "assessments:intervention_status": CASE_USERS,
    "assessments:intervention_task_add": CASE_USERS,
    "assessments:safety_plan": CASE_USERS,
    "assessments:safety_plan_pdf": CASE_USERS,
}

SAMPLE_ARGS = {"intervention_pk": "1"}
