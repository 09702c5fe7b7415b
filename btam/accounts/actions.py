"""State changes for accounts. Each is atomic and writes its audit event in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.meetings.actions import do_revoke_all_calendar_links


def do_sign_out_everywhere(*, actor: User) -> list[int]:
    """End every session of ``actor`` (the session hash includes a generation we bump here) and
    revoke their calendar link: "sign out everywhere" is what a lost phone calls for, and a
    calendar program on that phone holds the link. Returns the ids of the links revoked."""
    with transaction.atomic():
        User.objects.filter(pk=actor.pk).update(session_generation=F("session_generation") + 1)
        actor.refresh_from_db(fields=["session_generation"])
        revoked = do_revoke_all_calendar_links(actor=actor, user=actor, reason="signed out everywhere")
        AuditEvent.objects.record(
            actor=actor, verb=Verb.LOGOUT_EVERYWHERE, target=actor, detail={"calendar_links_revoked": revoked}
        )
    return revoked


def do_revoke_access_after_new_password(*, actor: User | None, user: User, reset: bool) -> list[int]:
    """A new password (changed while signed in, or ``reset`` from an emailed link; ``actor`` is
    None then) also revokes the calendar link, which the password does not protect. Other
    sessions end by themselves (the session hash includes the password hash). Called from the
    allauth adapter's ``set_password``, in its transaction. Returns the ids of the links revoked."""
    return do_revoke_all_calendar_links(
        actor=actor, user=user, reason="password reset" if reset else "password changed"
    )
