"""Who may reach the monitoring pages (merged into the access walk, btam/core/tests/test_access_walk.py).

Every case role reaches them through the policy; which cases each sees is the case access
module's business: another school's case is a 404, a read-only school's POST a 403 (see
test_monitoring_views.py). The due list shows only the cases the user can see.
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    "assessments:monitoring": CASE_USERS,
    "assessments:check_in_add": CASE_USERS,
    "assessments:reassessment_date": CASE_USERS,
    "assessments:due": CASE_USERS,
}
