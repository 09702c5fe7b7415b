"""``{% inbox_unread user as count %}``: unread notifications, for the navigation badge."""

from __future__ import annotations

from django import template

from btam.notifications.models import Notification

register = template.Library()


@register.simple_tag
def inbox_unread(user: object) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()  # type: ignore[arg-type]
