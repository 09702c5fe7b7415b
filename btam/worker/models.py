"""Background work: worker heartbeats, the outbox of side effects and the periodic-job slots.

See docs/background-work.md for the processes that run this and the guarantees they give.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from btam.lib.clock import now


class WorkerHeartbeat(models.Model):
    """One row per worker process, touched by the periodic heartbeat task it runs."""

    worker_id = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


class OutboxQuerySet(models.QuerySet["OutboxMessage"]):
    def due(self, at: dt.datetime, *, lease: dt.timedelta, max_attempts: int) -> OutboxQuerySet:
        """Messages a deliverer may claim at ``at``: pending and due, or abandoned mid-delivery.

        A message is abandoned when its claim is older than the lease: the worker that claimed
        it stopped (crash, kill, lost host) before recording the outcome.
        """
        pending = Q(state=OutboxMessage.State.PENDING, next_attempt_at__lte=at)
        abandoned = Q(state=OutboxMessage.State.SENDING, claimed_at__lt=at - lease, attempts__lt=max_attempts)
        return self.filter(pending | abandoned)


class OutboxMessage(models.Model):
    """A side effect (an email, later a webhook or SMS) recorded in the transaction that caused it.

    The worker delivers it after the commit, so a rolled-back action sends nothing and a crash
    after the commit loses nothing. See ``btam.worker.outbox`` for the API and the claim protocol.

    ``payload`` must never hold case content (names of students, concerns, notes, risk levels):
    it is kept in plain JSON, shown to operators, and an email leaves our control. Put a link
    and a generic sentence in it ("A case needs your attention"); the reader signs in to see more.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed: will not be retried")
        DEAD = "dead", _("Gave up after repeated failures")

    # Who may move a message where. The claim (pending -> sending, or sending -> sending after the
    # lease) is a conditional UPDATE; failed and dead go back to pending only by an operator's requeue.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        State.PENDING: frozenset({State.SENDING}),
        State.SENDING: frozenset({State.SENDING, State.SENT, State.PENDING, State.FAILED, State.DEAD}),
        State.SENT: frozenset(),
        State.FAILED: frozenset({State.PENDING}),
        State.DEAD: frozenset({State.PENDING}),
    }

    kind = models.CharField(max_length=60)
    payload = models.JSONField(default=dict, blank=True)
    district = models.ForeignKey(
        "orgs.District", on_delete=models.DO_NOTHING, null=True, blank=True, db_constraint=False, related_name="+"
    )
    # Enqueuing twice with the same key is a no-op (e.g. "case-42-assigned-7").
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="worker_outbox_due_idx")]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        return f"outbox {self.pk} {self.kind} ({self.state})"

    def can_transition_to(self, state: str) -> bool:
        return state in self.TRANSITIONS[self.State(self.state)]


class PeriodicJobState(models.Model):
    """When a periodic job (``btam.worker.schedule.PERIODIC_JOBS``) is next due.

    A scheduler claims a slot with ``UPDATE ... WHERE name = %s AND next_run_at <= now``, so of
    several schedulers exactly one wins each slot and enqueues the task.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M:%S}"
