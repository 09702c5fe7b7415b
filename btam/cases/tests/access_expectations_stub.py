"""Placeholder tabs (removed as each area lands with its own table)."""

from btam.cases.tests.access_expectations_cases import CASE_USERS

EXPECTED = {
    name: CASE_USERS
    for name in ["cases:list", "cases:notes", "cases:tasks", "cases:my_tasks", "cases:documents", "cases:timeline", "cases:reporter", "cases:access"]
}
