"""Assessment and management: structured assessments of a case, the team's decision (a level of
the district's scheme with its rationale), the management plan of interventions, check-ins and
the reassessment schedule.

Instruments and level schemes are data files (``instruments/``, see ``definitions.py``), versioned:
an assessment stores the id and version it used and always renders with that version. A district
chooses its scheme and instruments (``AssessmentSettings``) and may add its own definition files
(``CustomDefinition``). There is no score of a person anywhere: answers are evidence with sources.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from btam.lib.encrypted import EncryptedTextField


class AssessmentSettings(models.Model):
    """A district's choices: its level scheme, the instruments its teams use, its reassessment
    intervals and intervention rules where they differ from the scheme's defaults."""

    district = models.OneToOneField("orgs.District", on_delete=models.CASCADE, related_name="assessment_settings")
    level_scheme = models.CharField(_("level scheme"), max_length=60, default="virginia")
    # Instrument ids offered when starting an assessment; empty: every available instrument.
    instruments = models.JSONField(_("instruments"), default=list, blank=True)
    # {level id: days} overriding the scheme's reassess_days.
    reassess_days = models.JSONField(_("reassessment intervals"), default=dict, blank=True)
    # {level id: {"required": [kind ids], "suggested": [kind ids]}} overriding the scheme's rules.
    intervention_rules = models.JSONField(_("intervention rules"), default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("assessment settings")
        verbose_name_plural = _("assessment settings")

    def __str__(self) -> str:
        return f"Assessment settings of district {self.district_id}"


class CustomDefinition(models.Model):
    """A district's own instrument or level-scheme file, validated like the shipped ones. Published
    versions are immutable (assessments render with the version they used); a change is a new
    version."""

    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="custom_definitions")
    definition_id = models.CharField(_("id"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=20)
    content = models.JSONField()
    file_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["definition_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["district", "definition_id", "version"], name="custom_definition_unique")
        ]
        verbose_name = _("custom definition")
        verbose_name_plural = _("custom definitions")

    def __str__(self) -> str:
        return f"{self.definition_id} v{self.version}"


class Assessment(models.Model):
    """One structured assessment of a case with one instrument version, conducted by several
    members (partial saves), ending in the team's decision.

    draft → decided, or draft → pending_approval (the scheme's top levels) → decided / draft
    (declined, with the leader's reason); a draft may be discarded. A decided assessment is the
    record: it is never edited; a reassessment is a new assessment with ``previous`` set.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("In progress")
        PENDING_APPROVAL = "pending_approval", _("Waiting for the leader's approval")
        DECIDED = "decided", _("Decided")
        DISCARDED = "discarded", _("Discarded")

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.DRAFT: (Status.PENDING_APPROVAL, Status.DECIDED, Status.DISCARDED),
        Status.PENDING_APPROVAL: (Status.DECIDED, Status.DRAFT),
        Status.DECIDED: (),
        Status.DISCARDED: (),
    }

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assessments")
    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    instrument_id = models.CharField(_("instrument"), max_length=60)
    instrument_version = models.PositiveIntegerField(_("instrument version"))
    instrument_kind = models.CharField(max_length=20)
    # A reassessment points to the assessment it follows.
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reassessments")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)

    # Answers: {item or step id: value}, JSON, encrypted (evidence notes are narrative).
    answers_json = EncryptedTextField(blank=True, default="")
    # Bumped at every save: a form saved from a stale page is refused, not silently overwritten.
    revision = models.PositiveIntegerField(default=0)

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    # The engine's suggestion, frozen when the decision is recorded (texts of the definition, no free text).
    suggested_outcome = models.CharField(max_length=60, blank=True)
    suggested_level = models.CharField(max_length=40, blank=True)
    # Its reasons (a JSON list of the definition's texts), encrypted: they name the concerns found and
    # the path taken, which would give the answers away. Read and set through ``suggestion_reasons``.
    suggestion_reasons_json = EncryptedTextField(blank=True, default="")

    # The team's decision: a level of the district's scheme with its written rationale.
    scheme_id = models.CharField(max_length=60, blank=True)
    scheme_version = models.PositiveIntegerField(null=True, blank=True)
    level = models.CharField(_("level"), max_length=40, blank=True)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    rationale = EncryptedTextField(_("rationale"), blank=True)
    # Required when the level differs from the suggested one.
    override_reason = EncryptedTextField(_("reason for differing from the suggestion"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The leader's approval (the scheme's levels marked ``approval``).
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField(_("reason for declining"), blank=True)

    class Meta:
        ordering = ["case", "-started_at", "-pk"]
        indexes = [models.Index(fields=["case", "status", "-started_at"], name="assessment_case_idx")]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")

    def __str__(self) -> str:
        return f"Assessment {self.pk} ({self.instrument_id} v{self.instrument_version}) on case {self.case_id}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    @property
    def answers(self) -> dict[str, Any]:
        if not self.answers_json:
            return {}
        value = json.loads(self.answers_json)
        return value if isinstance(value, dict) else {}

    @answers.setter
    def answers(self, value: dict[str, Any]) -> None:
        self.answers_json = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def suggestion_reasons(self) -> list[str]:
        if not self.suggestion_reasons_json:
            return []
        value = json.loads(self.suggestion_reasons_json)
        return [str(reason) for reason in value] if isinstance(value, list) else []

    @suggestion_reasons.setter
    def suggestion_reasons(self, value: list[str]) -> None:
        self.suggestion_reasons_json = (
            json.dumps([str(reason) for reason in value], ensure_ascii=False) if value else ""
        )

    @property
    def is_reassessment(self) -> bool:
        return self.previous_id is not None


class DeclinedDecision(models.Model):
    """A decision a team leader declined, kept in the record: what was decided (level, rationale,
    reason for differing), by whom and when, and who declined it, when and why. The assessment
    itself returns to in progress; each decline is one row (a second never overwrites the first)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="declined_decisions")
    scheme_id = models.CharField(max_length=60, blank=True)
    scheme_version = models.PositiveIntegerField(null=True, blank=True)
    # Blank only for a decline recorded before these rows existed (its level was not kept).
    level = models.CharField(_("level"), max_length=40, blank=True)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    suggested_outcome = models.CharField(max_length=60, blank=True)
    suggested_level = models.CharField(max_length=40, blank=True)
    rationale = EncryptedTextField(_("rationale"), blank=True)
    override_reason = EncryptedTextField(_("reason for differing from the suggestion"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declined_at = models.DateTimeField()
    reason = EncryptedTextField(_("reason for declining"))

    class Meta:
        ordering = ["assessment", "declined_at", "pk"]
        verbose_name = _("declined decision")
        verbose_name_plural = _("declined decisions")

    def __str__(self) -> str:
        return f"Declined decision {self.pk} of assessment {self.assessment_id}"


class Contribution(models.Model):
    """Who saved which answers of an assessment, and when (several members contribute)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="contributions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    # Ids of the items or steps changed (definition ids, no free text).
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["assessment", "at", "pk"]
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")

    def __str__(self) -> str:
        return f"Contribution {self.pk} to assessment {self.assessment_id}"


class Dissent(models.Model):
    """A member's recorded disagreement with a decision (part of the record)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="dissents")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("dissent"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["assessment", "created_at", "pk"]
        verbose_name = _("dissent")
        verbose_name_plural = _("dissents")

    def __str__(self) -> str:
        return f"Dissent {self.pk} on assessment {self.assessment_id}"


class LevelChange(models.Model):
    """The risk-level history of a case: one row each time a level takes effect."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="level_changes")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    scheme_id = models.CharField(max_length=60)
    scheme_version = models.PositiveIntegerField()
    level = models.CharField(max_length=40)
    rank = models.PositiveSmallIntegerField()
    previous_level = models.CharField(max_length=40, blank=True)
    previous_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "set_at", "pk"]
        indexes = [models.Index(fields=["case", "set_at"], name="levelchange_case_idx")]
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")

    def __str__(self) -> str:
        return f"{self.level} on case {self.case_id}"


class InterventionKind(models.Model):
    """A district's own intervention kind, added to the built-in catalogue (``plan.CATALOGUE``)."""

    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="intervention_kinds")
    code = models.SlugField(_("code"), max_length=60)
    label = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="intervention_kind_unique")]
        verbose_name = _("intervention kind")
        verbose_name_plural = _("intervention kinds")

    def __str__(self) -> str:
        return self.label


class Intervention(models.Model):
    """One intervention of a case's management plan."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("In place")
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.PLANNED, Status.ACTIVE)

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(_("intervention"), max_length=60)  # a catalogue code or a district's own
    details = EncryptedTextField(_("details"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("end or review"), null=True, blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    tasks = models.ManyToManyField("cases.Task", blank=True, related_name="interventions")

    class Meta:
        ordering = ["case", "created_at", "pk"]
        indexes = [models.Index(fields=["case", "status"], name="intervention_case_idx")]
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class SafetyPlan(models.Model):
    """The case's safety plan: what the printable PDF shows (each section says who reads it)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="safety_plan")
    # {section id: text}, JSON, encrypted.
    sections_json = EncryptedTextField(blank=True, default="")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("safety plan")
        verbose_name_plural = _("safety plans")

    def __str__(self) -> str:
        return f"Safety plan of case {self.case_id}"

    @property
    def sections(self) -> dict[str, str]:
        if not self.sections_json:
            return {}
        value = json.loads(self.sections_json)
        return value if isinstance(value, dict) else {}

    @sections.setter
    def sections(self, value: dict[str, str]) -> None:
        self.sections_json = json.dumps(value, ensure_ascii=False, sort_keys=True)


class CheckIn(models.Model):
    """A monitoring contact with the subject (or about them), optionally for one intervention."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("Phone")
        PARENT = "parent", _("With a parent or guardian")
        STAFF_REPORT = "staff_report", _("Staff report")
        RECORDS = "records", _("Records review")
        OTHER = "other", _("Other")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="check_ins")
    intervention = models.ForeignKey(
        Intervention, on_delete=models.SET_NULL, null=True, blank=True, related_name="check_ins"
    )
    occurred_on = models.DateField(_("date"))
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    summary = EncryptedTextField(_("summary"))
    concern = models.BooleanField(_("new concern raised"), default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "-occurred_on", "-created_at", "-pk"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")

    def __str__(self) -> str:
        return f"Check-in {self.pk} on case {self.case_id}"


class ReassessmentSchedule(models.Model):
    """When the case is next due for reassessment (set from the level's interval when a decision
    takes effect, or by hand with a reason); reminders go out through the worker."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="reassessment")
    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("reassessment due"))
    interval_days = models.PositiveIntegerField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    # The last day a reminder was queued for (one reminder a day at most, never twice for one day).
    reminded_on = models.DateField(null=True, blank=True)
    # Why the date was set by hand (``monitoring_actions.do_set_reassessment_date``); empty when it
    # follows from the level's interval.
    reason = EncryptedTextField(_("reason for the date"), blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["district", "due_on"], name="reassess_district_due_idx")]
        verbose_name = _("reassessment schedule")
        verbose_name_plural = _("reassessment schedules")

    def __str__(self) -> str:
        return f"Reassessment of case {self.case_id} due {self.due_on}"
