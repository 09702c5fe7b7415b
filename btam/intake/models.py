"""Intake: reports from the public form, staff referrals and other channels, their attachments,
the two-way thread with the reporter, triage decisions and surge groups.

Privacy rules that shape these models:

- A report's narrative, the names it mentions, the reporter's identity and contact, and every
  message are encrypted at rest (:class:`~btam.lib.encrypted.EncryptedTextField`).
- The receipt code is never stored: only its keyed hash (``receipt_hash``, see ``receipt.py``).
- Nothing that identifies the reporter's device is stored: no IP address on the report or on the
  audit events of an anonymous submission (throttles keep keyed hashes in the cache, briefly).
- Surge grouping compares keyed hashes of names, links and attachments, and a SimHash of the
  text, so it works without decrypting anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from btam.lib.encrypted import EncryptedTextField

if TYPE_CHECKING:
    from btam.accounts.models import User


class Channel(models.TextChoices):
    WEB = "web", _("Public web form")
    STAFF = "staff", _("Staff referral")
    API = "api", _("API")
    TIP_LINE = "tip_line", _("Tip line (forwarded)")


class Urgency(models.IntegerChoices):
    """Higher is more urgent; the triage queue sorts by it, then by age."""

    ROUTINE = 1, _("Routine")
    ELEVATED = 2, _("Elevated")
    URGENT = 3, _("Urgent")
    EMERGENCY = 4, _("Emergency")


# Urgency at or above this notifies the rapid-response members at once and escalates.
URGENT_THRESHOLD = Urgency.URGENT


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("I don't know")


class HowKnown(models.TextChoices):
    SAW = "saw", _("I saw it")
    HEARD = "heard", _("I heard it")
    ONLINE = "online", _("I saw it online (a post, a message, a video)")
    TOLD = "told", _("Someone told me")
    OTHER = "other", _("Another way")


class ReporterRole(models.TextChoices):
    STUDENT = "student", _("Student")
    PARENT = "parent", _("Parent or guardian")
    STAFF = "staff", _("School staff")
    COMMUNITY = "community", _("Community member")
    UNSAID = "unsaid", _("Prefer not to say")


class ReportQuerySet(models.QuerySet["Report"]):
    def visible_to(self, user: User) -> ReportQuerySet:
        from btam.intake import access

        return access.scope_reports(self, user)


class Report(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SCREENED_OUT = "screened_out", _("Screened out")
        REFERRED = "referred", _("Referred to another school")
        DUPLICATE = "duplicate", _("Duplicate")
        CASE_OPENED = "case_opened", _("Case opened")

    # Allowed status changes (see can_transition_to). Reopening a closed decision goes back to
    # acknowledged; a referral makes the report new again at the receiving school.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.NEW: {Status.ACKNOWLEDGED, Status.SCREENED_OUT, Status.REFERRED, Status.DUPLICATE, Status.CASE_OPENED},
        Status.ACKNOWLEDGED: {Status.SCREENED_OUT, Status.REFERRED, Status.DUPLICATE, Status.CASE_OPENED},
        Status.SCREENED_OUT: {Status.ACKNOWLEDGED},
        Status.REFERRED: {Status.NEW},
        Status.DUPLICATE: {Status.ACKNOWLEDGED},
        Status.CASE_OPENED: set(),
    }
    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.NEW, Status.ACKNOWLEDGED)

    class PublicStatus(models.TextChoices):
        """What the reporter sees: plain words, never case details."""

        RECEIVED = "received", _("Received: your report has reached the school's team.")
        IN_REVIEW = "in_review", _("Being looked at: the team is working on it.")
        CLOSED = "closed", _("Closed: the team has finished with this report.")

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="reports")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="reports")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)

    # The reporter's answers that decide urgency.
    danger_now = models.BooleanField(_("someone is in danger right now"), default=False)
    weapon = models.CharField(
        _("a weapon is mentioned or involved"), max_length=10, choices=YesNoUnknown.choices, default=YesNoUnknown.NO
    )
    self_harm = models.CharField(
        _("someone may hurt themselves"), max_length=10, choices=YesNoUnknown.choices, default=YesNoUnknown.NO
    )
    threat_date = models.DateField(_("date of a threatened event"), null=True, blank=True)
    how_known = models.CharField(_("how the reporter knows"), max_length=20, choices=HowKnown.choices, blank=True)

    # What happened, where and when (free text from the reporter): encrypted.
    narrative = EncryptedTextField(_("what happened"))
    location = EncryptedTextField(_("where"), blank=True)
    occurred = EncryptedTextField(_("when"), blank=True)

    # Urgency: computed from the answers (urgency_reasons lists why), changed by staff with a reason.
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.ROUTINE)
    urgency_reasons = models.JSONField(_("urgency reasons"), default=list, blank=True)
    urgency_set_by_staff = models.BooleanField(default=False)

    # The reporter, only if they chose to say who they are.
    reporter_role = models.CharField(
        _("reporter is a"), max_length=20, choices=ReporterRole.choices, default=ReporterRole.UNSAID
    )
    reporter_name = EncryptedTextField(_("reporter's name"), blank=True)
    reporter_contact = EncryptedTextField(_("reporter's phone or email"), blank=True)
    # An email the reporter gave to be told of new messages (encrypted; the email says only that
    # there is a new message).
    notify_email = EncryptedTextField(_("email for new-message notices"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )

    # Staff referral fields.
    observed_behaviours = models.JSONField(_("observed behaviours"), default=list, blank=True)
    prior_concerns = EncryptedTextField(_("prior concerns"), blank=True)

    # The receipt: only a keyed hash (receipt.py). A staff referral has none.
    receipt_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # Keyed hash of the form's one-time submission token: a resubmitted form (refresh, double tap)
    # is recognised instead of making a second report.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    # Surge features (keyed hashes and a SimHash; see surge.py) and the group the report is in.
    text_simhash = models.BigIntegerField(null=True, blank=True, editable=False)
    surge_group = models.ForeignKey(
        "intake.SurgeGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    surge_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Triage outcome (the decision rows keep the history; these are the current state).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    referred_from = models.ForeignKey("orgs.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Abuse (a prank, spam, a tripped honeypot): kept, never deleted, out of the main queue.
    is_abuse = models.BooleanField(_("marked as abuse"), default=False)

    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-urgency", "created_at"]
        indexes = [
            models.Index(fields=["school", "status", "-urgency", "created_at"], name="report_queue_idx"),
            models.Index(fields=["district", "created_at"], name="report_district_time_idx"),
        ]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"Report {self.reference}"

    @property
    def reference(self) -> str:
        """The staff-facing reference (never shown to the reporter, who has the receipt code)."""
        return f"R-{self.pk}"

    @property
    def is_urgent(self) -> bool:
        return self.urgency >= URGENT_THRESHOLD

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())

    @property
    def public_status(self) -> Report.PublicStatus:
        if self.status == self.Status.NEW:
            return self.PublicStatus.RECEIVED
        if self.status in (self.Status.SCREENED_OUT, self.Status.DUPLICATE):
            return self.PublicStatus.CLOSED
        return self.PublicStatus.IN_REVIEW


class InvolvedPerson(models.Model):
    """Someone the report names: free text from the reporter, or a registry person (staff referral)."""

    class Role(models.TextChoices):
        SUBJECT = "subject", _("The person who may cause harm")
        TARGET = "target", _("A person who may be harmed")
        WITNESS = "witness", _("Someone who knows about it")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("I'm not sure")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="involved")
    name = EncryptedTextField(_("name"), blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.UNKNOWN)
    # Free text the reporter gave about them (grade, class, where they can be found): encrypted.
    description = EncryptedTextField(_("description"), blank=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="report_mentions"
    )
    # Keyed hash of the normalised name (surge grouping by the person named); blank when no name.
    name_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["report", "pk"]
        verbose_name = _("person named in a report")
        verbose_name_plural = _("people named in reports")

    def __str__(self) -> str:
        return f"{self.get_role_display()} on {self.report}"


class ReportLink(models.Model):
    """A link (URL) found in a report: keyed hash only, for surge grouping."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="links")
    link_key = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "link_key"], name="report_link_unique")]

    def __str__(self) -> str:
        return f"Link on {self.report_id}"


class ReporterMessage(models.Model):
    """One message of the two-way thread between the team and the reporter (encrypted)."""

    class Direction(models.TextChoices):
        FROM_TEAM = "from_team", _("From the team")
        FROM_REPORTER = "from_reporter", _("From the reporter")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=20, choices=Direction.choices)
    body = EncryptedTextField(_("message"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    # A team message is "read" once the reporter has opened the thread after it; a reporter
    # message once a team member has read it.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message with the reporter")
        verbose_name_plural = _("messages with reporters")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.report}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: nothing of the reporter's file name reaches the disk.
    import secrets

    return f"intake/{instance.report.district_id}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file from the reporter (or added later to the thread): checked by content, metadata
    stripped from images, encrypted at rest (the default storage encrypts)."""

    class Kind(models.TextChoices):
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"
        GIF = "image/gif", "GIF"
        WEBP = "image/webp", "WebP"
        PDF = "application/pdf", "PDF"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        ReporterMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    content_type = models.CharField(max_length=40, choices=Kind.choices)
    size = models.PositiveIntegerField()
    # The reporter's file name, encrypted (it can hold a name), shown to staff only.
    original_name = EncryptedTextField(blank=True)
    # Keyed hash of the bytes as uploaded: identical attachments group reports (surge).
    content_key = models.CharField(max_length=64, db_index=True, editable=False)
    metadata_stripped = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["report", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"Attachment {self.pk} on {self.report}"


class TriageDecision(models.Model):
    """One decision of the team on a report, kept as history (the report holds the current state)."""

    class Kind(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", _("Acknowledged")
        URGENCY = "urgency", _("Urgency changed")
        SCREEN_OUT = "screen_out", _("Screened out")
        REFER = "refer", _("Referred to another school")
        DUPLICATE = "duplicate", _("Marked duplicate")
        OPEN_CASE = "open_case", _("Case opened")
        ABUSE = "abuse", _("Marked as abuse")
        NOT_ABUSE = "not_abuse", _("Abuse mark removed")
        REOPEN = "reopen", _("Reopened")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = EncryptedTextField(_("reason"), blank=True)
    # Kind-specific facts: {"from": 1, "to": 3} for urgency, {"school": 7} for a referral ...
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["report", "created_at", "pk"]
        verbose_name = _("triage decision")
        verbose_name_plural = _("triage decisions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.report}"


class SurgeGroup(models.Model):
    """Reports about one thing (a person named, a shared link or file, near-identical text) within
    72 hours: the queue shows the group as one item holding its reports."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    # Why reports joined: {"person": n, "link": n, "attachment": n, "text": n}
    reasons = models.JSONField(default=dict, blank=True)
    first_report_at = models.DateTimeField()
    last_report_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_report_at"]
        verbose_name = _("surge group")
        verbose_name_plural = _("surge groups")

    def __str__(self) -> str:
        return f"Surge group {self.pk}"
