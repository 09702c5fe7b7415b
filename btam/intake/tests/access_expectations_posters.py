"""Who may reach the report posters (merged into btam/core/tests/test_access_walk.py).

Everyone: a poster holds the school's name, the report link, 911 and the crisis line, nothing
private, and is printed for walls. The sample short names (see access_expectations_public.py)
name no school, so the walk gets a 404 for the PDFs and the list for the index.
"""

from __future__ import annotations

from btam.testing import EVERYONE

EXPECTED: dict[str, frozenset[str]] = {
    "report:posters": EVERYONE,
    "report:poster": EVERYONE,
    "report:poster_in_district": EVERYONE,
}
