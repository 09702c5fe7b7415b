"""The demo district's meetings (filled in by the meetings work)."""

from __future__ import annotations

from btam.orgs.models import District


def load_demo_meetings(district: District) -> int:
    """Add the demo meetings to the district; returns how many were added (0 when already loaded)."""
    return 0
