"""Cases: from a report (or a concern raised by the team) to a closed case.

A case tells its whole story to the next person who opens it: the reports it came from, the
people on it, notes, tasks, documents, messages with the reporter, decisions and status changes
(the timeline is derived from these rows and the audit trail, not stored twice).

Privacy rules that shape these models:

- Every free text that can describe a student (title, summary, notes, reasons, task titles,
  document names, a free-text person's name) is encrypted at rest
  (:class:`~btam.lib.encrypted.EncryptedTextField`); documents are stored by the encrypting
  default storage and downloaded only through audited views.
- Full-text search works over keyed hashes of the words (:class:`CaseSearchDoc`, see
  ``search.py``), so the search index holds no plain text either.
- Access: :meth:`CaseQuerySet.visible_to` (see ``access.py``); the schools on a case
  (:class:`CaseSchool`), named members of a restricted case (:class:`CaseMember`) and break-glass
  grants (:class:`BreakGlassGrant`) decide who sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from btam.lib.encrypted import EncryptedTextField

if TYPE_CHECKING:
    from btam.accounts.models import User


class Status(models.TextChoices):
    SCREENING = "screening", _("Screening")
    EVALUATION = "evaluation", _("Evaluation")
    MANAGEMENT = "management", _("Management")
    MONITORING = "monitoring", _("Monitoring")
    CLOSED = "closed", _("Closed")


class ScreeningDecision(models.TextChoices):
    EVALUATE = "evaluate", _("Needs a detailed evaluation")
    NO_FURTHER_ACTION = "no_further_action", _("Resolved at screening: no further evaluation needed")


class ClosureReason(models.TextChoices):
    RESOLVED = "resolved", _("Concern resolved; plan completed")
    NO_THREAT = "no_threat", _("No threat found (unfounded or transient)")
    LEFT_DISTRICT = "left_district", _("Subject left the district (records sent on per policy)")
    REFERRED_OUT = "referred_out", _("Referred to an outside agency")
    MERGED = "merged", _("Merged into another case")
    OTHER = "other", _("Other (explained in the note)")


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: User) -> CaseQuerySet:
        from btam.cases import access

        return access.scope_cases(self, user)

    def writable_by(self, user: User) -> CaseQuerySet:
        from btam.cases import access

        return access.scope_cases(self, user, write=True)


class Case(models.Model):
    # Allowed workflow moves (see can_transition_to and workflow.py for the guards). Closing goes
    # through the closure request and the leader's approval; reopening returns to the stage the
    # case was closed from.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.SCREENING: {Status.EVALUATION, Status.CLOSED},
        Status.EVALUATION: {Status.MANAGEMENT, Status.SCREENING, Status.CLOSED},
        Status.MANAGEMENT: {Status.MONITORING, Status.EVALUATION, Status.CLOSED},
        Status.MONITORING: {Status.MANAGEMENT, Status.EVALUATION, Status.CLOSED},
        Status.CLOSED: set(),  # reopen: actions.do_reopen_case
    }

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="cases")
    # The school leading the case now (a transfer changes it); every school with access is a
    # CaseSchool row, this one included.
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="lead_cases")
    year = models.PositiveSmallIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("number in the year"))

    title = EncryptedTextField(_("title"))
    summary = EncryptedTextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCREENING)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_cases",
        verbose_name=_("case manager"),
    )

    # Screening (needed before evaluation).
    screening_decision = models.CharField(
        _("screening decision"), max_length=30, choices=ScreeningDecision.choices, blank=True
    )
    screening_rationale = EncryptedTextField(_("screening rationale"), blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Risk level (needed before management): written by the assessments module's decision.
    # A level id of the district's scheme (``risk_scheme``; see btam/assessments/definitions.py) and its
    # rank in that scheme (0 = lowest) so that lists sort and filter by it across schemes.
    risk_level = models.CharField(_("risk level"), max_length=40, blank=True)
    risk_scheme = models.CharField(max_length=60, blank=True)
    risk_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_rationale = EncryptedTextField(_("risk level rationale"), blank=True)
    risk_set_at = models.DateTimeField(null=True, blank=True)
    risk_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Need to know: a restricted case is visible only to its named members (CaseMember) and its
    # manager; district roles may break the glass (BreakGlassGrant).
    restricted = models.BooleanField(_("restricted to named members"), default=False)

    # Closure: requested by a member (reason and note), approved by a leader.
    closure_reason = models.CharField(_("closure reason"), max_length=30, choices=ClosureReason.choices, blank=True)
    closure_note = EncryptedTextField(_("closure note"), blank=True)
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    closure_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The stage the case was closed from: reopening returns to it.
    closed_from = models.CharField(max_length=20, choices=Status.choices, blank=True)

    # A case merged into another stays (read-only, pointing to the survivor) until the merge is undone.
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    # The earliest due date of the case's open tasks (kept by the task actions): "overdue" and
    # "due soon" filters read it without touching the tasks.
    next_due_on = models.DateField(null=True, blank=True)
    # When the case is next due for reassessment (kept by btam/assessments from its schedule).
    reassess_due_on = models.DateField(null=True, blank=True)

    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened"))
    # Last activity of any kind (a note, a task, a status change...): the list's default order.
    updated_at = models.DateTimeField(_("last activity"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["district", "year", "seq"], name="case_number_unique")]
        indexes = [
            models.Index(fields=["district", "-updated_at", "-id"], name="case_district_recent_idx"),
            models.Index(fields=["district", "status", "-updated_at"], name="case_district_status_idx"),
            models.Index(fields=["school", "-updated_at"], name="case_school_recent_idx"),
            models.Index(fields=["district", "next_due_on"], name="case_district_due_idx"),
            models.Index(fields=["manager", "-updated_at"], name="case_manager_recent_idx"),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"Case {self.number}"

    @property
    def risk_level_label(self) -> str:
        """The level's name in its scheme ("" when none is recorded)."""
        if not self.risk_level:
            return ""
        from btam.assessments.levels import level_label

        return level_label(self.risk_scheme, self.risk_level, district_id=self.district_id)

    @property
    def number(self) -> str:
        return f"{self.year}-{self.seq:04d}"

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def closure_pending(self) -> bool:
        return self.closure_requested_at is not None and not self.is_closed

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())


class CaseCounter(models.Model):
    """The last case number given in a district and year (locked while numbering a new case)."""

    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "year"], name="case_counter_unique")]

    def __str__(self) -> str:
        return f"{self.district_id}/{self.year}: {self.last}"


class CaseSchool(models.Model):
    """A school whose team works the case (full) or keeps read access after a transfer (read)."""

    class Access(models.TextChoices):
        FULL = "full", _("Works the case")
        READ = "read", _("Read only (case transferred)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="school_links")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="case_links")
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.FULL)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Access removed (the old school after a transfer, when the new team removes it): kept for history.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "school"], name="case_school_unique")]
        indexes = [models.Index(fields=["school", "case"], name="case_school_access_idx")]

    def __str__(self) -> str:
        return f"{self.school_id} on {self.case_id} ({self.access})"


class CaseMember(models.Model):
    """A named member of a restricted case (the case manager is always one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_memberships")
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_member_unique")]
        indexes = [models.Index(fields=["user", "case"], name="case_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.case_id}"


class BreakGlassGrant(models.Model):
    """Emergency access of a district role to a case it could not otherwise see: a reason, an
    audit event, the leader notified, and an expiry."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = EncryptedTextField(_("reason"))
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "case", "expires_at"], name="break_glass_user_idx")]

    def __str__(self) -> str:
        return f"Break-glass {self.user_id} on {self.case_id}"


class CaseReport(models.Model):
    """A report the case came from (or that was added to it). A report is on one case at most."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="report_links")
    report = models.OneToOneField("intake.Report", on_delete=models.PROTECT, related_name="case_link")
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["linked_at", "pk"]

    def __str__(self) -> str:
        return f"Report {self.report_id} on case {self.case_id}"


class CaseParticipant(models.Model):
    """Someone on the case: a registry person, or a free-text name linkable to the registry later."""

    class Role(models.TextChoices):
        SUBJECT = "subject", _("Subject")
        TARGET = "target", _("Potential target")
        REPORTER = "reporter", _("Reporter")
        WITNESS = "witness", _("Witness")
        GUARDIAN = "guardian", _("Parent or guardian")
        STAFF = "staff", _("Staff involved")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="case_roles"
    )
    # For someone not (yet) in the registry: encrypted.
    name = EncryptedTextField(_("name"), blank=True)
    description = EncryptedTextField(_("notes about this person's part"), blank=True)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "role", "pk"]
        indexes = [models.Index(fields=["person", "case"], name="participant_person_idx")]
        verbose_name = _("person on a case")
        verbose_name_plural = _("people on cases")

    def __str__(self) -> str:
        return f"{self.get_role_display()} on case {self.case_id}"


class CaseLink(models.Model):
    """Two related cases (stored once, lower id first)."""

    from_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_out")
    to_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_in")
    note = EncryptedTextField(_("how they are related"), blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_case", "to_case"], name="case_link_unique")]

    def __str__(self) -> str:
        return f"{self.from_case_id} <-> {self.to_case_id}"


class CaseMerge(models.Model):
    """One case merged into another: what moved (ids per kind), so the merge can be undone."""

    source = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merges_out")
    target = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merges_in")
    # {"reports": [..], "participants": [..], "notes": [..], "tasks": [..], "documents": [..], ...}
    moved = models.JSONField(default=dict)
    # The source's state before the merge (status, closure fields), restored by an undo.
    source_before = models.JSONField(default=dict)
    reason = EncryptedTextField(_("reason"), blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Merge {self.source_id} -> {self.target_id}"


class StatusChange(models.Model):
    """One workflow move, kept as history (shown on the timeline)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = EncryptedTextField(_("reason"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_status} -> {self.to_status}"


class Note(models.Model):
    """A dated, authored, typed note. The author may edit it within EDIT_WINDOW (actions); after that
    only an appended correction (a note with ``corrects`` set) changes the record."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("Interview")
        OBSERVATION = "observation", _("Observation")
        CONTACT = "contact", _("Contact")
        RECORDS_REVIEW = "records_review", _("Records review")
        CONSULTATION = "consultation", _("Consultation")
        SOCIAL_MEDIA = "social_media", _("Social-media review")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(_("date"))
    body = EncryptedTextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # An appended correction points to the note it corrects.
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")

    class Meta:
        ordering = ["case", "-occurred_on", "-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "-created_at"], name="note_case_recent_idx")]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note on case {self.case_id}"


class Task(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.OPEN, Status.IN_PROGRESS)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    title = EncryptedTextField(_("title"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="case_tasks"
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "due_on", "pk"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_idx"),
            models.Index(fields=["case", "status", "due_on"], name="task_case_idx"),
        ]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return f"Task {self.pk} on case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Document(models.Model):
    """A document on the case; its file is the newest of its versions (every version is kept)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    title = EncryptedTextField(_("title"))
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    current = models.ForeignKey(
        "cases.DocumentVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "-created_at", "-pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"Document {self.pk} on case {self.case_id}"


def document_path(instance: DocumentVersion, filename: str) -> str:
    # Random names: nothing of the uploaded file name reaches the disk.
    import secrets

    return f"cases/{instance.document.case.district_id}/{secrets.token_hex(16)}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=document_path, max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    original_name = EncryptedTextField(blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_unique")]

    def __str__(self) -> str:
        return f"Version {self.number} of document {self.document_id}"


class SavedFilter(models.Model):
    """A user's named case-list filter (the query string of the list page)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_case_filters")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["user", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique")]

    def __str__(self) -> str:
        return self.name


class CaseSearchDoc(models.Model):
    """The case's searchable words (title, summary, notes) as keyed hashes (see search.py): the
    full-text index (PostgreSQL tsvector + GIN, SQLite FTS5) is built over these, never over
    plain text."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="search_doc")
    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    tokens = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Search words of case {self.case_id}"
