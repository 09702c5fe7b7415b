"""Threat-assessment teams, their members, the district's team settings, and who is away.

* A :class:`Team` belongs to a school, or to the whole district (``school`` empty): one each.
* A :class:`TeamMember` is a staff account holding a team role that covers the team's school,
  with its disciplines (codes: ``disciplines.BUILTIN`` or the district's own
  :class:`DistrictDiscipline`), core or extended membership, and the leader / deputy /
  rapid-response flags (one leader and one deputy per team, never the same person).
* :class:`TeamSettings` holds the district's coverage rule (a preset or its own list).
* An :class:`Absence` marks a person away for some days with one or more backups: urgent
  reports (new urgent reports and their escalation) go to the backups meanwhile
  (``availability.route_urgent``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from btam.teams import disciplines

if TYPE_CHECKING:
    from btam.accounts.models import User


class TeamQuerySet(models.QuerySet["Team"]):
    def visible_to(self, user: User) -> TeamQuerySet:
        """Teams of the schools the user's case roles cover, and the district teams of their districts."""
        from btam.teams import access

        return access.scope_teams(self, user)


class Team(models.Model):
    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="teams")
    # Empty: the district's own team (district-wide leaders and members).
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, null=True, blank=True, related_name="teams")
    created_at = models.DateTimeField()

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["district", "school__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["school"], condition=Q(school__isnull=False), name="team_one_per_school"),
            models.UniqueConstraint(
                fields=["district"], condition=Q(school__isnull=True), name="team_one_per_district"
            ),
        ]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return str(self.name)

    @property
    def name(self) -> str:
        if self.school is None:
            return str(_("District team"))
        return self.school.name

    @property
    def is_district_team(self) -> bool:
        return self.school_id is None


class TeamMember(models.Model):
    class Membership(models.TextChoices):
        CORE = "core", _("Core")
        EXTENDED = "extended", _("Extended")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_memberships")
    # Discipline codes (built-in or the district's own).
    disciplines = models.JSONField(_("disciplines"), default=list, blank=True)
    membership = models.CharField(_("membership"), max_length=10, choices=Membership.choices, default=Membership.CORE)
    is_leader = models.BooleanField(_("leader"), default=False)
    is_deputy = models.BooleanField(_("deputy"), default=False)
    rapid_response = models.BooleanField(_("rapid-response subgroup"), default=False)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["team", "-is_leader", "-is_deputy", "user__full_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_member_once"),
            models.UniqueConstraint(fields=["team"], condition=Q(is_leader=True), name="team_one_leader"),
            models.UniqueConstraint(fields=["team"], condition=Q(is_deputy=True), name="team_one_deputy"),
            models.CheckConstraint(
                condition=~(Q(is_leader=True) & Q(is_deputy=True)), name="team_leader_is_not_deputy"
            ),
        ]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"

    @property
    def is_core(self) -> bool:
        return self.membership == self.Membership.CORE


class DistrictDiscipline(models.Model):
    """A discipline a district adds to the built-in list. Never deleted (members refer to it):
    turned off, it can no longer be given to a member."""

    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="team_disciplines")
    code = models.SlugField(max_length=60)
    label = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["district", "label"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="team_discipline_code_unique"),
        ]
        verbose_name = _("district discipline")
        verbose_name_plural = _("district disciplines")

    def __str__(self) -> str:
        return self.label


class TeamSettings(models.Model):
    """A district's team settings: which disciplines a school team must cover."""

    class Rule(models.TextChoices):
        GUIDANCE = disciplines.GUIDANCE.id, _("The guidance's nine disciplines")
        FLORIDA = disciplines.FLORIDA.id, _("Florida: the four required roles")
        TEXAS = disciplines.TEXAS.id, _("Texas: the expertise list")
        OWN = "own", _("The district's own list")

    district = models.OneToOneField("orgs.District", on_delete=models.CASCADE, related_name="team_settings")
    rule = models.CharField(_("coverage rule"), max_length=20, choices=Rule.choices, default=Rule.GUIDANCE)
    # Discipline codes the district requires (rule "own").
    required = models.JSONField(_("required disciplines"), default=list, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("team settings")
        verbose_name_plural = _("team settings")

    def __str__(self) -> str:
        return f"Team settings of {self.district_id}"


class AbsenceQuerySet(models.QuerySet["Absence"]):
    def on(self, day: dt.date) -> AbsenceQuerySet:
        """Absences running on ``day`` (not ended early)."""
        return self.filter(starts_on__lte=day, ends_on__gte=day, ended_early_at__isnull=True)

    def not_over(self, day: dt.date) -> AbsenceQuerySet:
        """Absences running on ``day`` or later (current and planned)."""
        return self.filter(ends_on__gte=day, ended_early_at__isnull=True)


class Absence(models.Model):
    """A person away from ``starts_on`` to ``ends_on`` (both included), with their backups."""

    MAX_DAYS: ClassVar[int] = 366

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences")
    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField(_("away from"))
    ends_on = models.DateField(_("back after"))
    backups = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="covering_absences")
    created_at = models.DateTimeField()
    # Set when the person ends the absence early (or cancels a planned one).
    ended_early_at = models.DateTimeField(null=True, blank=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "pk"]
        indexes = [models.Index(fields=["district", "ends_on"], name="absence_district_end_idx")]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")

    def __str__(self) -> str:
        return f"Absence of {self.user_id} {self.starts_on}–{self.ends_on}"

    def is_on(self, day: dt.date) -> bool:
        return self.ended_early_at is None and self.starts_on <= day <= self.ends_on
