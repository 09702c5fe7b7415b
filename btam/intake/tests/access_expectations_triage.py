"""Who may reach the staff pages of intake (merged into the access walk, see
btam/core/tests/test_access_walk.py).

The team (TRIAGE_ROLES) works the queue and reports; referring staff and the team refer students.
OUTSIDER leads a team in another district: the policy lets him reach the list pages (he sees only
his own district there), and every page of one report, attachment or group answers him 404
(counted as denied). The decision URLs answer 404 before 405 for a GET, so they read the same.
"""

from __future__ import annotations

from btam.accounts.models import Role
from btam.testing import OUTSIDER

TEAM = frozenset({Role.TEAM_MEMBER.value, Role.TEAM_LEADER.value, Role.RAPID_RESPONSE.value})
REFERRERS = TEAM | {Role.REFERRING_STAFF.value}

EXPECTED: dict[str, frozenset[str]] = {
    # Lists: the policy opens them; each shows only the user's own schools (or referrals).
    "intake:queue": TEAM | {OUTSIDER},
    "intake:referrals": REFERRERS | {OUTSIDER},
    "intake:referral_new": REFERRERS | {OUTSIDER},
    # POST only (a GET is a 405 to those the policy lets through).
    "intake:referral_people": REFERRERS | {OUTSIDER},
    # One report, attachment or group: 404 to anyone whose team does not work it.
    "intake:report": TEAM,
    "intake:acknowledge": TEAM,
    "intake:change_urgency": TEAM,
    "intake:screen_out": TEAM,
    "intake:refer": TEAM,
    "intake:mark_duplicate": TEAM,
    "intake:open_case": TEAM,
    "intake:mark_abuse": TEAM,
    "intake:unmark_abuse": TEAM,
    "intake:reopen": TEAM,
    "intake:post_message": TEAM,
    "intake:attachment": TEAM,
    "intake:surge_group": TEAM,
    "intake:acknowledge_group": TEAM,
    # The read-only report list in /admin/: nobody adds or deletes reports there.
    "admin:intake_report_add": frozenset(),
    "admin:intake_report_delete": frozenset(),
}

SAMPLE_ARGS: dict[str, str] = {}
