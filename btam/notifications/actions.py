"""Inbox actions: a person opens a notification, or marks all of theirs read; sets how their
emails come (preferences); a database manager requeues an email that could not be delivered.

Escalations are started and acknowledged through ``escalation.py`` (called by intake and triage),
and notifications are made by ``delivery.notify``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.lib import clock
from btam.notifications.models import Notification, NotificationPreference
from btam.worker import outbox
from btam.worker.models import OutboxMessage

if TYPE_CHECKING:
    from btam.accounts.models import User


class NotificationError(Exception):
    """The notification is not the actor's."""


class PreferenceError(ValueError):
    """A preference that cannot be saved (the message says why, for the form)."""


class RequeueError(ValueError):
    """A delivery that cannot be requeued (the message says why)."""


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


def do_set_notification_preferences(*, actor: User, delivery: str, digest_time: dt.time) -> NotificationPreference:
    """Set how the actor's own emails come: each at once, or one daily digest at ``digest_time``
    (site's time zone). Urgent notifications are emailed at once whatever the choice. Nobody sets
    another person's preferences: there is no argument for it."""
    if delivery not in NotificationPreference.Delivery.values:
        raise PreferenceError(_("Choose how your emails should come."))
    if not isinstance(digest_time, dt.time) or digest_time.tzinfo is not None:
        raise PreferenceError(_("Enter the digest time as hours and minutes, for example 07:30."))
    digest_time = digest_time.replace(second=0, microsecond=0)
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
        before = {"delivery": preference.delivery, "digest_time": preference.digest_time.strftime("%H:%M")}
        preference.delivery = delivery
        preference.digest_time = digest_time
        preference.updated_at = clock.now()
        preference.save(update_fields=["delivery", "digest_time", "updated_at"])
        after = {"delivery": delivery, "digest_time": digest_time.strftime("%H:%M")}
        # A user may belong to several districts (or none): the event is the person's own.
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=preference,
            district_id=min(actor.district_ids(), default=None),
            before=before,
            after=after,
        )
    return preference


def do_requeue_delivery(*, actor: User, message: OutboxMessage) -> None:
    """Put a failed or dead delivery back in the outbox (attempts reset, due now). The caller has
    checked the message belongs to a district the actor manages (access via the view's queryset)."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
        if locked is None:
            raise RequeueError(_("That delivery no longer exists."))
        if locked.state not in (OutboxMessage.State.FAILED, OutboxMessage.State.DEAD):
            state = locked.get_state_display()
            raise RequeueError(_("That delivery is not failed: it is %(state)s.") % {"state": state})
        before = {"state": locked.state, "attempts": locked.attempts}
        if not outbox.requeue(locked.pk):
            raise RequeueError(_("That delivery could not be requeued; reload the page."))
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=locked,
            district_id=locked.district_id,
            before=before,
            after={"state": OutboxMessage.State.PENDING, "attempts": 0},
            detail={"kind": locked.kind, "requeued": True},
        )
