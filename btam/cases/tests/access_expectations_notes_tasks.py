"""Who may reach the notes and tasks pages (merged into the access walk).

Every case role reaches them through the policy; which cases (and so which notes and tasks) each
sees is the access module's business: another school's case is a 404, a read-only school's POST
a 403 (see test_notes_views.py and test_tasks_views.py). "My tasks" lists only the user's own
tasks on cases they can see.
"""

from __future__ import annotations

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    "cases:notes": CASE_USERS,
    "cases:note_add": CASE_USERS,
    "cases:note_edit": CASE_USERS,
    "cases:note_correct": CASE_USERS,
    "cases:tasks": CASE_USERS,
    "cases:task_add": CASE_USERS,
    "cases:task_edit": CASE_USERS,
    "cases:task_status": CASE_USERS,
    "cases:my_tasks": CASE_USERS,
}

SAMPLE_ARGS = {"note_pk": "1", "task_pk": "1"}
