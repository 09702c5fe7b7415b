"""Audit events for the second factor: wrong codes, authenticators added or removed, recovery
codes regenerated.

Why signals here, when OpenBTAM otherwise writes audit events explicitly and never from
signals: these changes happen inside allauth's own MFA views and forms, and allauth offers no
adapter method or other hook for them. ``allauth.mfa.signals`` (``authentication_failed``,
``authenticator_added``, ``authenticator_removed``, ``authenticator_reset``) are the only points
where our code runs. The receivers only record; no other logic hangs on them. Connected in
``AccountsConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals
from allauth.mfa.models import Authenticator
from django.db import transaction

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb


def _detail(authenticator: Authenticator | None) -> dict[str, Any]:
    return {"authenticator": authenticator.type} if authenticator is not None else {}


def on_authentication_failed(
    sender: object, *, user: User, authenticator: Authenticator | None = None, **kwargs: Any
) -> None:
    """A wrong (or already used) second-factor code, at sign-in or when re-authenticating."""
    reauthentication = bool(kwargs.get("reauthentication"))
    with transaction.atomic():
        AuditEvent.objects.record(
            # At sign-in the person is not signed in yet: name the account, as for a wrong password.
            actor=user if reauthentication else None,
            actor_label=user.email,
            verb=Verb.LOGIN_FAILED,
            target=user,
            reason="wrong or reused second-factor code" + (" (re-authentication)" if reauthentication else ""),
            detail=_detail(authenticator),
        )


def on_authenticator_added(sender: object, *, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    is_codes = authenticator.type == Authenticator.Type.RECOVERY_CODES
    verb = Verb.RECOVERY_CODES_GENERATED if is_codes else Verb.MFA_ENABLED
    with transaction.atomic():
        AuditEvent.objects.record(actor=user, verb=verb, target=user, detail=_detail(authenticator))


def on_authenticator_removed(sender: object, *, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    with transaction.atomic():
        AuditEvent.objects.record(actor=user, verb=Verb.MFA_DISABLED, target=user, detail=_detail(authenticator))


def on_authenticator_reset(sender: object, *, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    """Recovery codes regenerated: the old codes stop working."""
    with transaction.atomic():
        AuditEvent.objects.record(
            actor=user, verb=Verb.RECOVERY_CODES_GENERATED, target=user, detail=_detail(authenticator)
        )


def connect() -> None:
    signals.authentication_failed.connect(on_authentication_failed, dispatch_uid="btam.audit.mfa_failed")
    signals.authenticator_added.connect(on_authenticator_added, dispatch_uid="btam.audit.mfa_added")
    signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid="btam.audit.mfa_removed")
    signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid="btam.audit.mfa_reset")
