"""State changes for accounts. Each is atomic and writes its audit event in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb


def do_sign_out_everywhere(*, actor: User) -> None:
    """End every session of ``actor``: the session hash includes a generation we bump here."""
    with transaction.atomic():
        User.objects.filter(pk=actor.pk).update(session_generation=F("session_generation") + 1)
        actor.refresh_from_db(fields=["session_generation"])
        AuditEvent.objects.record(actor=actor, verb=Verb.LOGOUT_EVERYWHERE, target=actor)
