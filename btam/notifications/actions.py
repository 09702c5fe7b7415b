"""Inbox actions: a person opens a notification, or marks all of theirs read.

Escalations are started and acknowledged through ``escalation.py`` (called by intake and triage),
and notifications are made by ``delivery.notify``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count

from btam.audit.models import AuditEvent, Verb
from btam.lib import clock
from btam.notifications.models import Notification

if TYPE_CHECKING:
    from btam.accounts.models import User


class NotificationError(Exception):
    """The notification is not the actor's."""


def do_open_notification(*, actor: User, notification: Notification) -> bool:
    """Mark one of the actor's notifications read. True if it was unread."""
    if notification.recipient_id != actor.pk:
        raise NotificationError("A notification is opened by its recipient only.")
    at = clock.now()
    with transaction.atomic():
        marked = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=at) == 1
        if marked:
            notification.read_at = at
            AuditEvent.objects.record(
                actor=actor,
                verb=Verb.UPDATED,
                target=notification,
                after={"read": True},
                detail={"kind": notification.kind, "urgent": notification.urgent},
            )
    return marked


def do_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read. Returns how many."""
    at = clock.now()
    with transaction.atomic():
        unread = Notification.objects.for_user(actor).unread()
        by_district = dict(unread.order_by().values_list("district_id").annotate(n=Count("pk")))
        count = unread.update(read_at=at)
        for district_id, n in sorted(by_district.items()):
            AuditEvent.objects.record(
                actor=actor,
                verb=Verb.UPDATED,
                target_type=Notification._meta.label_lower,
                district_id=district_id,
                after={"read": True},
                detail={"all": True, "count": n},
            )
    return count
