"""One registry of people per district: students, staff, guardians and people outside the school.

Fed from the district's own data (OneRoster CSV, see ``importers/``). Enrolments keep history:
a transfer ends one enrolment and starts another, it never overwrites. Every query is scoped by
district first (``Person.objects.visible_to(user)``, see ``access.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from btam.accounts.models import User


class SourceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")  # tobedeleted in the source, or ended


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, user: User) -> PersonQuerySet:
        from btam.people import access

        return access.scope_people(self, user)

    def canonical(self) -> PersonQuerySet:
        """People that were not merged into another record."""
        return self.filter(merged_into__isnull=True)


class Person(models.Model):
    class Kind(models.TextChoices):
        STUDENT = "student", _("Student")
        STAFF = "staff", _("Staff")
        GUARDIAN = "guardian", _("Parent or guardian")
        OTHER = "other", _("Other (outside the school)")

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STUDENT)
    # The OneRoster role as given (student, teacher, administrator, aide, parent, guardian, relative...).
    source_role = models.CharField(_("role in the source"), max_length=40, blank=True)
    source_id = models.CharField(_("source id (sourcedId)"), max_length=255, blank=True)
    state_id = models.CharField(_("state id"), max_length=100, blank=True)
    local_id = models.CharField(_("local id"), max_length=255, blank=True)
    username = models.CharField(_("username"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    # Other identifiers from the source: [{"type": "LDAP", "id": "12"}, ...]
    other_ids = models.JSONField(_("other identifiers"), default=list, blank=True)
    given_name = models.CharField(_("given name"), max_length=150)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150)
    preferred_given_name = models.CharField(_("preferred given name"), max_length=150, blank=True)
    preferred_middle_name = models.CharField(_("preferred middle name"), max_length=150, blank=True)
    preferred_family_name = models.CharField(_("preferred family name"), max_length=150, blank=True)
    pronouns = models.CharField(_("pronouns"), max_length=60, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=SourceStatus.choices, default=SourceStatus.ACTIVE)
    # Lower-case, accent-free names (legal and preferred) for search; kept by save() and the importer.
    search_name = models.CharField(max_length=700, blank=True, editable=False)
    # From the source: its dateLastModified, and a hash of the imported fields (unchanged rows are skipped).
    source_modified = models.DateTimeField(null=True, blank=True)
    source_hash = models.CharField(max_length=64, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    # The staff account of a roster teacher or administrator (see staff_accounts.py; off by default).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="roster_records"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "source_id"], condition=~Q(source_id=""), name="person_source_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["district", "search_name"]),
            models.Index(fields=["district", "local_id"]),
            models.Index(fields=["district", "state_id"]),
            models.Index(fields=["district", "username"]),
            models.Index(fields=["district", "kind", "grade"]),
        ]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_name = self.compute_search_name()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def display_name(self) -> str:
        given = self.preferred_given_name or self.given_name
        family = self.preferred_family_name or self.family_name
        return f"{given} {family}".strip()

    def compute_search_name(self) -> str:
        from btam.people.search import normalize

        parts = [
            self.given_name,
            self.middle_name,
            self.family_name,
            self.preferred_given_name,
            self.preferred_middle_name,
            self.preferred_family_name,
        ]
        return normalize(" ".join(p for p in parts if p))[:700]


class SourceOrg(models.Model):
    """Every org of the source (district, school, department...), mapped to our School when it is one."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="source_orgs")
    source_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=40)
    identifier = models.CharField(max_length=255, blank=True)
    parent_source_id = models.CharField(max_length=255, blank=True)
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=SourceStatus.choices, default=SourceStatus.ACTIVE)
    source_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "source_id"], name="sourceorg_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class Enrollment(models.Model):
    """A person at a school (through a class) between dates. History, never overwritten."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="enrollments")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    org_source_id = models.CharField(max_length=255, blank=True)
    class_source_id = models.CharField(max_length=255, blank=True)
    source_id = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=40)
    primary = models.BooleanField(default=False)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=SourceStatus.choices, default=SourceStatus.ACTIVE)
    source_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "source_id"], condition=~Q(source_id=""), name="enrollment_source_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.role} at {self.school or self.org_source_id}"


class GuardianLink(models.Model):
    """A parent, guardian or relative of a student (OneRoster agentSourcedIds)."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    guardian = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardian_of")
    student = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardians")
    relationship = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=SourceStatus.choices, default=SourceStatus.ACTIVE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["guardian", "student"], name="guardianlink_unique")]

    def __str__(self) -> str:
        return f"{self.guardian_id} -> {self.student_id}"


class Demographics(models.Model):
    """Stored only where the district turns demographics on; shown only to roles that need them."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="demographics")
    source_id = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict)
    source_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"demographics of {self.person_id}"


def _import_upload_path(instance: ImportRun, filename: str) -> str:
    return "imports/bundle"  # the storage gives every file a random name; the original name is not kept


class ImportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Importing")
        SUCCEEDED = "succeeded", _("Imported")
        REJECTED = "rejected", _("Rejected: nothing imported")
        FAILED = "failed", _("Failed: nothing imported")

    # queued -> running (the worker took it) -> succeeded | rejected | failed; a run that never
    # started can fail too (its bundle could not be read). Finished runs never change again.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED}),
        Status.RUNNING: frozenset({Status.SUCCEEDED, Status.REJECTED, Status.FAILED}),
        Status.SUCCEEDED: frozenset(),
        Status.REJECTED: frozenset(),
        Status.FAILED: frozenset(),
    }
    FINISHED: ClassVar[frozenset[str]] = frozenset({Status.SUCCEEDED, Status.REJECTED, Status.FAILED})

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="import_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_format = models.CharField(max_length=20, default="oneroster")
    source_version = models.CharField(max_length=10, blank=True)
    # Uploaded bundle, in the default (encrypted) storage, deleted once imported.
    bundle = models.FileField(upload_to=_import_upload_path, blank=True)
    bundle_size = models.PositiveBigIntegerField(default=0)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=40, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(default=0)
    # {"users.csv": {"created": 1, "updated": 0, "deactivated": 0, "unchanged": 5, "rejected": 0}, ...}
    summary = models.JSONField(default=dict, blank=True)
    # [{"file": "users.csv", "line": 4, "column": "birthDate", "reason": "..."}]
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Last progress report of a running import: a run silent for hours lost its worker.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class PersonMerge(models.Model):
    """Two records of one person merged: reversible, with what moved recorded for the undo."""

    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_absorbed")
    reason = models.TextField()
    moved = models.JSONField(default=dict)  # {"enrollments": [ids], "guardian_links": [ids], ...}
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"merge {self.merged_id} into {self.survivor_id}"
