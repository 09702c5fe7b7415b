"""Who may reach the Documents, Timeline and Reporter tabs of a case and their actions (merged into
the access walk, see btam/core/tests/test_access_walk.py). Which cases each user sees is the access
module's business: a case they may not see answers 404 (tests in test_documents_views.py,
test_timeline_views.py and test_reporter_views.py)."""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    name: CASE_USERS
    for name in [
        "cases:documents",
        "cases:document_upload",
        "cases:document_version_upload",
        "cases:document_download",
        "cases:attachment_download",
        "cases:timeline",
        "cases:reporter",
        "cases:message_reporter",
    ]
}

SAMPLE_ARGS = {"document_pk": "1", "version_pk": "1", "attachment_pk": "1", "report_pk": "1"}
