"""The demo district's teams (filled in by the teams work)."""

from __future__ import annotations

from btam.orgs.models import District


def load_demo_teams(district: District) -> int:
    """Add the demo teams to the district; returns how many were added (0 when already loaded)."""
    return 0
