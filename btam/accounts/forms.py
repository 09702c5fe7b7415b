"""Our variants of allauth forms (named in settings.MFA_FORMS)."""

from __future__ import annotations

from allauth.mfa.base.forms import AuthenticateForm
from django.core.exceptions import ValidationError
from django.db import transaction

from btam.audit.models import AuditEvent, Verb


class AuditedAuthenticateForm(AuthenticateForm):
    """The second step of sign-in. Wrong codes are audited through allauth's signal (see
    audit_hooks); a code refused because the account is locked out sends no signal, so it is
    recorded here."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                with transaction.atomic():
                    AuditEvent.objects.record(
                        actor=None,
                        actor_label=self.user.email,
                        verb=Verb.LOGIN_FAILED,
                        target=self.user,
                        reason="refused: too many wrong second-factor codes (locked out)",
                    )
            raise
