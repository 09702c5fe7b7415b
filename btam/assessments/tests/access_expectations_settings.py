"""Who may reach the district assessment settings pages (merged into the access walk).

Database managers and team leaders pass the policy (the walk's leaders manage their whole
district; OUTSIDER leads the other district and manages its settings). Which district each
manages is the view's business: a leader whose membership names schools gets a 403, another
district's id a 403, another district's file or kind a 404 (see test_settings_views.py).
"""

from __future__ import annotations

from btam.accounts.models import Role
from btam.testing import OUTSIDER

SETTINGS_MANAGERS = frozenset({Role.DATABASE_MANAGER.value, Role.TEAM_LEADER.value, OUTSIDER})

EXPECTED = {
    "assessments:settings": SETTINGS_MANAGERS,
    "assessments:settings_files": SETTINGS_MANAGERS,
    "assessments:settings_file_download": SETTINGS_MANAGERS,
    "assessments:settings_file_delete": SETTINGS_MANAGERS,
    "assessments:settings_kinds": SETTINGS_MANAGERS,
    "assessments:settings_kind_edit": SETTINGS_MANAGERS,
    "assessments:settings_kind_active": SETTINGS_MANAGERS,
}

SAMPLE_ARGS = {"definition_pk": "1", "kind_pk": "1"}
