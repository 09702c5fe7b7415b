"""Who may reach the public reporting pages (merged into btam/core/tests/test_access_walk.py).

Everyone, signed in or not: a report and its thread are protected by the receipt code, not by the
sign-in. The sample short names name no school, so the walk gets the "school not found" page (404).
The poster URLs of the same namespace are declared with the poster views.
"""

from __future__ import annotations

from btam.testing import EVERYONE

EXPECTED: dict[str, frozenset[str]] = {
    "report:choose_school": EVERYONE,
    "report:school": EVERYONE,
    "report:school_in_district": EVERYONE,
    "report:receipt_download": EVERYONE,  # POST only: a GET answers 405
    "report:followup": EVERYONE,
    "report:followup_thread": EVERYONE,  # without a code proven in the session: back to the code form
    "report:followup_sign_out": EVERYONE,  # POST only
}

SAMPLE_ARGS = {
    "school_slug": "no-such-school",
    "district_slug": "no-such-district",
}
