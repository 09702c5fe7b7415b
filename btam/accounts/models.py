"""Staff accounts and their access levels (memberships) in a district or named schools."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Access levels. What each may do is decided in the per-app access modules."""

    TEAM_MEMBER = "team_member", _("Team member")
    TEAM_LEADER = "team_leader", _("Team leader")
    RAPID_RESPONSE = "rapid_response", _("Rapid-response member")
    DATABASE_MANAGER = "database_manager", _("Database manager")
    BACKUP_ADMIN = "backup_admin", _("Backup administrator")
    AUDITOR = "auditor", _("Auditor")
    REFERRING_STAFF = "referring_staff", _("Referring staff")
    DISTRICT_VIEWER = "district_viewer", _("District viewer")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Roles that work with case content (names, narratives). Auditors, district viewers and system
# administrators never see case content.
CASE_ROLES = frozenset(
    {Role.TEAM_MEMBER, Role.TEAM_LEADER, Role.RAPID_RESPONSE, Role.DATABASE_MANAGER, Role.BACKUP_ADMIN}
)
# Roles that administer the district's accounts and reference data in /admin/.
ADMIN_ROLES = frozenset({Role.DATABASE_MANAGER, Role.SYSTEM_ADMIN})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff account. Signs in with email, password and a second factor."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("deployment operator"),
        default=False,
        help_text=_("Operates the whole installation (creates districts). Not needed for district work."),
    )
    is_demo = models.BooleanField(
        _("demo account"),
        default=False,
        help_text=_("Fictitious demo account: may skip the second factor only while DEMO_MODE is on."),
    )
    # Bumped by "sign out everywhere": every session signed with the old value stops working.
    session_generation = models.PositiveIntegerField(default=0)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def get_session_auth_hash(self) -> str:
        # Include the generation so that "sign out everywhere" invalidates every other session.
        key_salt = "btam.accounts.User.get_session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}:{self.session_generation}", algorithm="sha256").hexdigest()

    # Access levels --------------------------------------------------------------------------------
    @cached_property
    def active_memberships(self) -> list[Membership]:
        """The active access levels, with the ids of their named schools.

        One query, read once per request (every page checks roles, and the second factor, with
        them): the named schools come as a join, not a prefetch, in ``named_school_ids`` (empty:
        the whole district); each membership also carries ``account_has_authenticator`` for
        :meth:`has_second_factor`. (The district is not joined: nothing here needs more than
        ``district_id``.)
        """
        from allauth.mfa.models import Authenticator

        rows = Membership.objects.filter(user_id=self.pk, is_active=True).annotate(
            named_school_id=F("schools__id"),
            has_authenticator=Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"))),
        )
        memberships: dict[int, Membership] = {}
        for row in rows:
            membership = memberships.get(row.pk)
            if membership is None:
                membership = memberships[row.pk] = row
                membership.named_school_ids = []
                membership.account_has_authenticator = bool(row.has_authenticator)
            if row.named_school_id is not None:
                membership.named_school_ids.append(row.named_school_id)
        return list(memberships.values())

    def has_second_factor(self) -> bool:
        """Whether the account has a second factor (allauth's ``is_mfa_enabled``: any authenticator).

        Read with the memberships when the account has any, so that the check every request
        makes costs no query of its own; otherwise (or with an MFA adapter that decides otherwise)
        asked of allauth.
        """
        from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
        from allauth.mfa.utils import is_mfa_enabled

        memberships = self.active_memberships
        if memberships and type(get_adapter()).is_mfa_enabled is DefaultMFAAdapter.is_mfa_enabled:
            return bool(memberships[0].account_has_authenticator)
        return bool(is_mfa_enabled(self))

    def roles(self, district_id: int | None = None) -> set[str]:
        return {m.role for m in self.active_memberships if district_id is None or m.district_id == district_id}

    def has_role(self, *roles: str, district_id: int | None = None) -> bool:
        return any(
            m.role in roles for m in self.active_memberships if district_id is None or m.district_id == district_id
        )

    def district_ids(self, *roles: str) -> set[int]:
        """Districts where the user holds any access level (or one of ``roles``)."""
        return {m.district_id for m in self.active_memberships if not roles or m.role in roles}

    def school_ids(self, *roles: str) -> set[int]:
        """Schools the user works with (optionally through the given roles only)."""
        from btam.orgs.models import School

        ids: set[int] = set()
        whole_districts: set[int] = set()
        for m in self.active_memberships:
            if roles and m.role not in roles:
                continue
            if m.named_school_ids:
                ids.update(m.named_school_ids)
            else:
                whole_districts.add(m.district_id)
        if whole_districts:
            # A set: no ORDER BY (the model's ordering would join the districts to sort by name).
            ids.update(School.objects.filter(district_id__in=whole_districts).order_by().values_list("pk", flat=True))
        return ids

    @property
    def needs_second_factor(self) -> bool:
        """Every account that can sign in to district data must use a second factor."""
        return True


class Membership(models.Model):
    """One access level for a user, scoped to a whole district or to named schools in it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    district = models.ForeignKey("orgs.District", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    schools = models.ManyToManyField(
        "orgs.School",
        blank=True,
        related_name="memberships",
        help_text=_("Leave empty for the whole district."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Set on the memberships of User.active_memberships (not fields).
    named_school_ids: list[int]
    account_has_authenticator: bool

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "district", "role"], name="membership_unique_role"),
        ]
        verbose_name = _("access level")
        verbose_name_plural = _("access levels")

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.district}"
