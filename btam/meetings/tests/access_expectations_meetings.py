"""Who may reach the meetings and calendar pages (merged into the access walk,
btam/core/tests/test_access_walk.py).

Every case role reaches the Meetings tab and a conference's pages through the policy
(``cases.pages.CASE_POLICY``); which cases (and so which conferences) each sees is the case access
module's business: another school's case is a 404, a read-only school's POST a 403 (see
test_views.py). The calendar page is for the same roles (each manages only their own link). The
feed is public by policy: its token is the credential, and an unknown token is a 404 to everyone.
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS
from btam.testing import EVERYONE

EXPECTED = {
    "meetings:case": CASE_USERS,
    "meetings:schedule": CASE_USERS,
    "meetings:detail": CASE_USERS,
    "meetings:record": CASE_USERS,
    "meetings:reschedule": CASE_USERS,
    "meetings:cancel": CASE_USERS,
    "meetings:decision_add": CASE_USERS,
    "meetings:calendar": CASE_USERS,
    "meetings:calendar_new": CASE_USERS,
    "meetings:calendar_revoke": CASE_USERS,
    "meetings:feed": EVERYONE,
}

SAMPLE_ARGS = {"meeting_pk": "1", "token": "not-a-real-calendar-token"}
