"""Case conferences (meetings) and each person's private calendar feed.

A :class:`Meeting` is a case conference on one case: its time and place, an agenda, the invited
team members (:class:`MeetingInvitee`, each with their attendance once the meeting is held),
outside participants as free text ("parent", "outside therapist"), the minutes and the decisions
(:class:`MeetingDecision`), each of which became a task of the case. Its states are
``scheduled -> held | cancelled`` (:attr:`Meeting.TRANSITIONS`); a move to another time or a
cancellation keeps its reason (:class:`MeetingChange`). Every free text is case content and is
encrypted at rest.

A :class:`CalendarFeed` is a person's secret iCalendar link: only a keyed hash of its token is
stored (see ``calendar.py``); a new link revokes the old one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from btam.lib.encrypted import EncryptedTextField

if TYPE_CHECKING:
    from btam.accounts.models import User


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def visible_to(self, user: User) -> MeetingQuerySet:
        """Meetings of the cases the user may see (access is the case's: see btam/cases/access.py)."""
        from btam.cases.models import Case

        return self.filter(case__in=Case.objects.visible_to(user).values("pk"))


class Meeting(models.Model):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        State.SCHEDULED: frozenset({State.HELD, State.CANCELLED}),
        State.HELD: frozenset(),
        State.CANCELLED: frozenset(),
    }

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="meetings")
    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.SCHEDULED)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    location = EncryptedTextField(_("where"), blank=True, default="")
    agenda = EncryptedTextField(_("agenda"))
    # Free text, one per line: people from outside the team ("parent", "outside therapist").
    outside_participants = EncryptedTextField(_("outside participants"), blank=True, default="")
    minutes = EncryptedTextField(_("minutes"), blank=True, default="")
    # Bumped at every move to another time (the iCalendar SEQUENCE of the meeting).
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["case", "-starts_at"], name="meeting_case_idx"),
            models.Index(fields=["district", "state", "starts_at"], name="meeting_district_idx"),
        ]
        verbose_name = _("case conference")
        verbose_name_plural = _("case conferences")

    def __str__(self) -> str:
        return f"Case conference {self.pk} on case {self.case_id}"

    def can_transition_to(self, state: str) -> bool:
        return state in self.TRANSITIONS.get(self.state, frozenset())

    @property
    def is_scheduled(self) -> bool:
        return self.state == self.State.SCHEDULED

    @property
    def is_held(self) -> bool:
        return self.state == self.State.HELD

    @property
    def is_cancelled(self) -> bool:
        return self.state == self.State.CANCELLED


class MeetingInvitee(models.Model):
    class Attendance(models.TextChoices):
        NOT_RECORDED = "", _("Not recorded")
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="meeting_invitations")
    attendance = models.CharField(_("attendance"), max_length=10, choices=Attendance.choices, blank=True, default="")

    class Meta:
        ordering = ["meeting", "user__full_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="meeting_invitee_unique")]
        indexes = [models.Index(fields=["user", "meeting"], name="meeting_invitee_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} invited to {self.meeting_id}"


class MeetingDecision(models.Model):
    """A decision taken at a meeting; it became a task of the case (owner and due date)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = EncryptedTextField(_("decision"))
    task = models.OneToOneField(
        "cases.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="meeting_decision"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["meeting", "created_at", "pk"]

    def __str__(self) -> str:
        return f"Decision {self.pk} of meeting {self.meeting_id}"


class MeetingChange(models.Model):
    """A move to another time or a cancellation, with its reason (shown on the meeting's page)."""

    class Kind(models.TextChoices):
        RESCHEDULED = "rescheduled", _("Moved")
        CANCELLED = "cancelled", _("Cancelled")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_starts_at = models.DateTimeField()
    to_starts_at = models.DateTimeField(null=True, blank=True)
    reason = EncryptedTextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["meeting", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} meeting {self.meeting_id}"


class CalendarFeedQuerySet(models.QuerySet["CalendarFeed"]):
    def active(self) -> CalendarFeedQuerySet:
        return self.filter(revoked_at__isnull=True)

    def for_user(self, user: User) -> CalendarFeedQuerySet:
        """A person's own links only: nobody manages another person's feed."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(user_id=user.pk)

    def visible_to(self, user: User) -> CalendarFeedQuerySet:
        return self.for_user(user)


class CalendarFeed(models.Model):
    """A person's private calendar link. Only HMAC-SHA256 of the token is stored; revoked links
    stay as history (when each was made, last read and ended)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_active"
            )
        ]
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")

    def __str__(self) -> str:
        return f"Calendar link {self.pk} of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
