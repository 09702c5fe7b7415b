"""Districts (the tenant) and their schools or campuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from btam.accounts.models import User


# Words the public report pages use in their own paths (/report/follow-up/, /report/posters/ ...):
# a school or district with one of these short names could not be reached at /report/<name>/.
RESERVED_SLUGS = frozenset({"follow-up", "receipt", "posters", "poster", "static", "admin", "api"})


def validate_not_reserved(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(value)s” is used by the public report pages; choose another short name."),
            params={"value": value},
            code="reserved",
        )


class DistrictQuerySet(models.QuerySet["District"]):
    def visible_to(self, user: User) -> DistrictQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(pk__in=user.district_ids())


class District(models.Model):
    class Kind(models.TextChoices):
        K12 = "k12", _("K-12 school district")
        COLLEGE = "college", _("College or university")

    slug = models.SlugField(_("short name"), max_length=60, unique=True, validators=[validate_not_reserved])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.K12)
    state = models.CharField(_("state"), max_length=2, blank=True, help_text=_("Two-letter state code."))
    crisis_line = models.CharField(_("crisis line"), max_length=100, blank=True)
    is_demo = models.BooleanField(_("fictitious demo district"), default=False)
    store_demographics = models.BooleanField(
        _("store demographics"),
        default=False,
        help_text=_("Keep demographic data from the roster (for fairness reports). Off: it is never stored."),
    )
    link_staff_accounts = models.BooleanField(
        _("link staff accounts from the roster"),
        default=False,
        help_text=_("Link existing staff accounts to roster teachers and administrators by email."),
    )
    invite_staff_accounts = models.BooleanField(
        _("invite roster staff without an account"),
        default=False,
        help_text=_(
            "With linking on: roster teachers and administrators with no account get an inactive one and an "
            "email to set its password. It gives no access until a database manager adds an access level."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class SchoolQuerySet(models.QuerySet["School"]):
    def visible_to(self, user: User) -> SchoolQuerySet:
        """Schools a user works with: every school of a district-wide membership, else the named ones."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(pk__in=user.school_ids())


class School(models.Model):
    class Level(models.TextChoices):
        ELEMENTARY = "elementary", _("Elementary school")
        MIDDLE = "middle", _("Middle school")
        HIGH = "high", _("High school")
        K12 = "k12", _("K-12 school")
        ALTERNATIVE = "alternative", _("Alternative program")
        CAMPUS = "campus", _("College campus")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    slug = models.SlugField(_("short name"), max_length=60, validators=[validate_not_reserved])
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.HIGH)
    identifier = models.CharField(_("state or NCES identifier"), max_length=60, blank=True)
    source_id = models.CharField(_("roster source id"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SchoolQuerySet.as_manager()

    class Meta:
        ordering = ["district", "name"]
        constraints = [models.UniqueConstraint(fields=["district", "slug"], name="school_slug_unique_in_district")]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return self.name
