"""Notifications: the in-app inbox, and escalation chains for what must be acknowledged in time.

Delivery (email) goes through the outbox (btam.worker.outbox): a notification never carries case
content, in the inbox title or in an email: "A new urgent report for Lincoln High needs attention".
The teams issue extends this with preferences, digests, availability and deputies.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from btam.accounts.models import User


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user: User) -> NotificationQuerySet:
        """A person's own inbox: nobody sees another person's notifications."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def visible_to(self, user: User) -> NotificationQuerySet:
        return self.for_user(user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One item in a person's inbox."""

    class Kind(models.TextChoices):
        URGENT_REPORT = "urgent_report", _("Urgent report")
        ESCALATION = "escalation", _("Escalation: urgent report not acknowledged")
        NEW_REPORT = "new_report", _("New report")
        REPORTER_MESSAGE = "reporter_message", _("New message from a reporter")
        REFERRAL = "referral", _("Report referred to your school")
        SURGE = "surge", _("Many reports about one thing")
        CASE_ASSIGNED = "case_assigned", _("Case assigned to you")
        CLOSURE_REQUESTED = "closure_requested", _("Case closure waiting for approval")
        BREAK_GLASS = "break_glass", _("Break-glass access to a case")
        TASK_ASSIGNED = "task_assigned", _("Task assigned to you")
        CASE_TRANSFERRED = "case_transferred", _("Case transferred to your school")
        DECISION_APPROVAL = "decision_approval", _("Risk-level decision waiting for approval")
        DECISION_DECLINED = "decision_declined", _("Risk-level decision declined")
        INTERVENTION_ASSIGNED = "intervention_assigned", _("Intervention assigned to you")
        REASSESSMENT_DUE = "reassessment_due", _("Reassessment due")
        MENTIONED = "mentioned", _("You were mentioned in a case discussion")
        DISCUSSION_REPLY = "discussion_reply", _("Reply in a case discussion")
        MEETING_SCHEDULED = "meeting_scheduled", _("Case conference scheduled")
        MEETING_CHANGED = "meeting_changed", _("Case conference changed or cancelled")
        TEAM_CHANGED = "team_changed", _("Your team membership changed")
        COVERING = "covering", _("You are covering for an absent colleague")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    urgent = models.BooleanField(default=False)
    # Generic text only: the school's name and what needs doing, never case content.
    title = models.CharField(max_length=300)
    # A path inside OpenBTAM (the page where the thing is), opened after sign-in.
    link = models.CharField(max_length=300, blank=True)
    # What it is about, for marking related items read: ("intake.report", "42").
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    # One notification per recipient and event, however often the event is processed.
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Email delivery: the outbox message that carries it (its state is the delivery status).
    email_outbox = models.ForeignKey(
        "worker.OutboxMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Held for the recipient's daily digest instead of an email of its own (their preference; never
    # for an urgent item), and the digest email that counted it once it went out (digest.py).
    in_digest = models.BooleanField(default=False)
    digest_outbox = models.ForeignKey(
        "worker.OutboxMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def delivery_status(self) -> DeliveryStatus:
        """What happened to this item's email, in words for its recipient (the inbox shows it)."""
        return DeliveryStatus.of(self)


class DeliveryStatus(models.TextChoices):
    """An inbox item's email, as its recipient sees it (derived, not stored)."""

    SENT = "sent", _("Email sent")
    WAITING = "waiting", _("Email waiting to be sent")
    FAILED = "failed", _("Email could not be sent")
    DIGEST_WAITING = "digest_waiting", _("In your next daily digest")
    DIGEST_SENT = "digest_sent", _("Counted in a daily digest email")
    DIGEST_SKIPPED = "digest_skipped", _("Read before the daily digest: no email")
    NONE = "none", _("No email (inbox only)")

    @classmethod
    def of(cls, item: Notification) -> DeliveryStatus:
        from btam.worker.models import OutboxMessage

        State = OutboxMessage.State
        if item.in_digest:
            message = item.digest_outbox
            if message is None:
                return cls.DIGEST_SKIPPED if item.read_at is not None else cls.DIGEST_WAITING
        else:
            message = item.email_outbox
            if message is None:
                return cls.NONE
        if message.state == State.SENT:
            return cls.SENT if not item.in_digest else cls.DIGEST_SENT
        if message.state in (State.FAILED, State.DEAD):
            return cls.FAILED
        return cls.WAITING


class NotificationPreferenceQuerySet(models.QuerySet["NotificationPreference"]):
    def visible_to(self, user: User) -> NotificationPreferenceQuerySet:
        """One's own preferences only: nobody reads or changes another person's."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(user=user)


def default_digest_time() -> dt.time:
    return dt.time(7, 0)


class NotificationPreference(models.Model):
    """How a person wants their emails: each at once, or one daily digest (urgent ones always at once).

    A person without a row gets every email at once (the default). The inbox item is made at once
    whatever the choice; only the email waits for the digest.
    """

    class Delivery(models.TextChoices):
        IMMEDIATELY = "immediately", _("Immediately: one email for each notification")
        DAILY_DIGEST = "daily_digest", _("Daily digest: one email a day counting what is new")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATELY)
    # When the digest goes out, in the site's time zone (settings.TIME_ZONE).
    digest_time = models.TimeField(default=default_digest_time)
    # The day (site's time zone) whose digest was last sent, claimed with a conditional update: one
    # digest a day; with digest_time it gives the moment of the last digest (digest.py).
    last_digest_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationPreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.get_delivery_display()} for {self.user_id}"

    @property
    def wants_digest(self) -> bool:
        return self.delivery == self.Delivery.DAILY_DIGEST


class Escalation(models.Model):
    """An escalation chain running for one target until someone acknowledges it.

    Step 0 notifies the first group (a school's rapid-response members); when the target is not
    acknowledged by ``next_step_at``, the worker notifies the next group, and so on
    (see escalation.py). Each step is an outbox message due at its time, so a crash of the server
    or the worker delays a step by at most the outbox sweep interval and loses none.

    ``step`` is the index (in ``escalation.STEPS``) of the next step to run, and ``next_step_at``
    when it is due; once every step has run ``step`` equals the number of steps and the state is
    ``exhausted``. A step message whose number is not ``step`` has run already: it does nothing.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("Waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        EXHAUSTED = "exhausted", _("Every step notified, still not acknowledged")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        State.ACTIVE: {State.ACKNOWLEDGED, State.EXHAUSTED},
        State.EXHAUSTED: {State.ACKNOWLEDGED},
        State.ACKNOWLEDGED: set(),
    }
    # Still running (not acknowledged): at most one per target (see Meta.constraints).
    OPEN_STATES: ClassVar[tuple[str, ...]] = (State.ACTIVE, State.EXHAUSTED)

    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    step = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What each step did, in order: {"step": 0, "group": "rapid_response", "outcome": "notified",
    # "due": iso, "at": iso, "recipients": [user ids]} or {..., "outcome": "skipped", "note": "..."}.
    history = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # One running escalation per target; acknowledged ones stay as history (a report referred
            # to another school is escalated afresh there).
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=Q(state__in=["active", "exhausted"]),
                name="escalation_one_open_per_target",
            ),
        ]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"Escalation of {self.target_type}:{self.target_id} at step {self.step}"

    def can_transition_to(self, state: str) -> bool:
        return state in self.TRANSITIONS.get(self.state, set())
