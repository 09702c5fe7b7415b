"""Navigation entry of the monitoring board: for team leaders and the district's data roles."""

from __future__ import annotations

from django import template

from btam.board.access import can_see_board

register = template.Library()


@register.simple_tag
def can_see_monitoring_board(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and can_see_board(user)  # type: ignore[arg-type]
