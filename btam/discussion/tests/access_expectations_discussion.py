"""Who may reach the discussion tab (merged into the access walk, btam/core/tests/test_access_walk.py).

Every case role reaches it through the policy; which cases (and so which discussions) each sees is
the case access module's business: a case they cannot see is a 404, a POST by someone who may
only read the case a 403 (see test_views.py).
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    "discussion:case": CASE_USERS,
    "discussion:post": CASE_USERS,
    "discussion:suggest": CASE_USERS,
}
