"""The audit trail: append-only events, sealed into a hash chain by the worker.

Events are written explicitly by actions and views (never from signals) with
:meth:`AuditEvent.objects.record`. The database refuses UPDATE and DELETE of an event
(triggers, see the migrations); the only permitted update is the one-time seal that
sets ``seq``, ``prev_hash`` and ``hash`` on an unsealed event. Sealing is in :mod:`btam.audit.chain`;
``manage.py verify_audit`` checks the chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack

from django.conf import settings
from django.db import models, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from btam.lib import request_context

if TYPE_CHECKING:
    from btam.accounts.models import User


class Verb(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOGOUT = "logout", _("Signed out")
    LOGOUT_EVERYWHERE = "logout_everywhere", _("Signed out everywhere")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    PASSWORD_RESET = "password_reset", _("Password reset")
    MFA_ENABLED = "mfa_enabled", _("Second factor added")
    MFA_DISABLED = "mfa_disabled", _("Second factor removed")
    RECOVERY_CODES_GENERATED = "recovery_codes_generated", _("Recovery codes generated")
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")
    VIEWED = "viewed", _("Viewed")
    DOWNLOADED = "downloaded", _("Downloaded")
    EXPORTED = "exported", _("Exported")
    ACCESS_DENIED = "access_denied", _("Access denied")
    KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")
    DEMO_LOADED = "demo_loaded", _("Demo data loaded")
    BREAK_GLASS = "break_glass", _("Break-glass access to a case")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def visible_to(self, user: User) -> AuditEventQuerySet:
        from btam.audit import access

        return access.scope_events(self, user)


class AuditEventManager(models.Manager["AuditEvent"]):
    def get_queryset(self) -> AuditEventQuerySet:
        return AuditEventQuerySet(self.model, using=self._db)

    def visible_to(self, user: User) -> AuditEventQuerySet:
        return self.get_queryset().visible_to(user)

    def build(self, **fields: Unpack[EventFields]) -> AuditEvent:
        """The event :meth:`record` appends, not saved yet: for an action that writes its rows
        together (``btam.lib.rows``), in the same transaction as the change it records."""
        return _new_event(self.model, **fields)

    def record(self, **fields: Unpack[EventFields]) -> AuditEvent:
        """Append one event. Call it inside the same transaction as the change it records.

        ``omit_ip`` leaves the address out: an anonymous reporter's address is never recorded.
        """
        event = _new_event(self.model, **fields)
        event.save(force_insert=True, using=self._db or router.db_for_write(self.model))
        return event


class EventFields(TypedDict, total=False):
    """What an audit event is made of (see AuditEventManager.record)."""

    actor: Required[User | None]
    verb: Required[str]
    target: models.Model | None
    target_type: str
    target_id: str
    district_id: int | None
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None
    actor_label: str
    omit_ip: bool


def _new_event(
    model: type[AuditEvent],
    *,
    actor: User | None,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    district_id: int | None = None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
    omit_ip: bool = False,
) -> AuditEvent:
    ctx = request_context.current()
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        if district_id is None:
            district_id = getattr(target, "district_id", None)
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    from btam.lib import clock

    return model(
        created_at=clock.now(),
        actor=actor_obj,
        actor_name=(actor_obj.get_full_name() or actor_obj.email) if actor_obj else (actor_label or "system"),
        actor_email=actor_obj.email if actor_obj else "",
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        district_id=district_id,
        reason=reason,
        before=before or {},
        after=after or {},
        detail=detail or {},
        ip_address=None if omit_ip else ctx.ip_address,
        request_id=ctx.request_id,
    )


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    # Copies taken at the time, so the record stays true when the account changes later.
    actor_name = models.CharField(max_length=200)
    actor_email = models.CharField(max_length=254, blank=True)
    district = models.ForeignKey(
        "orgs.District", on_delete=models.DO_NOTHING, null=True, blank=True, db_constraint=False, related_name="+"
    )
    verb = models.CharField(max_length=40, choices=Verb.choices, db_index=True)
    target_type = models.CharField(max_length=100, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # The seal: set once by the worker, in chain order.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district", "created_at"]), models.Index(fields=["target_type", "target_id"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.verb} {self.target_type}:{self.target_id}"


class ChainHead(models.Model):
    """The end of the sealed chain: one row, locked by the sealer, so two sealers never fork it.

    It also remembers the last sealed event, so that deleting the newest events is detected.
    The database refuses to delete it or to move it backwards (triggers, see the migrations).
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain head at seq {self.last_seq}"
