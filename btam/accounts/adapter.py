"""allauth hooks: closed sign-up, demo-account rules, audit events for sign-in, sign-out,
lockout and password changes, clear refusal messages, and TOTP secrets encrypted with the
deployment's keys."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

from btam.audit.models import AuditEvent, Verb
from btam.lib import crypto

DEMO_REFUSED_MESSAGE = gettext_lazy(
    "Demo accounts can only sign in while demo mode is on. Use your own account, or ask the "
    "person who runs this installation."
)


def _attempted_login(credentials: dict[str, Any]) -> str:
    # The address typed is kept (it may be a real account under attack); the password never is.
    return str(credentials.get("email") or credentials.get("username") or "")[:254]


def _record_refused_sign_in(credentials: dict[str, Any], reason: str) -> None:
    """A refused sign-in, named by the address typed; aimed at the account when one has that
    address, so that the account's district auditors see attempts against it."""
    from btam.accounts.models import User

    attempted = _attempted_login(credentials)
    account = User.objects.filter(email__iexact=attempted).first() if attempted else None
    with transaction.atomic():
        AuditEvent.objects.record(
            actor=None, actor_label=attempted or "unknown", verb=Verb.LOGIN_FAILED, target=account, reason=reason
        )


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": gettext_lazy(
            "Too many failed sign-in attempts. For your security, signing in is paused for a while "
            "(up to 15 minutes). If you have forgotten your password, reset it."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by the district's database manager, never by self sign-up.
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Throttling and lockout (ACCOUNT_RATE_LIMITS "login_failed"): refused attempts are audited too."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            _record_refused_sign_in(credentials, "refused: too many failed sign-in attempts (throttled or locked out)")
            raise

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        if getattr(user, "is_demo", False) and not settings.DEMO_MODE:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            with transaction.atomic():
                AuditEvent.objects.record(
                    actor=None,
                    actor_label=user.get_username(),
                    verb=Verb.LOGIN_FAILED,
                    target=user,
                    reason="demo account refused: DEMO_MODE is off",
                )
            messages.error(request, DEMO_REFUSED_MESSAGE)
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().login(request, user)
        with transaction.atomic():
            AuditEvent.objects.record(actor=user, verb=Verb.LOGIN, target=user)  # type: ignore[arg-type]

    def logout(self, request: HttpRequest) -> None:
        user = request.user
        if user.is_authenticated:
            with transaction.atomic():
                AuditEvent.objects.record(actor=user, verb=Verb.LOGOUT, target=user)
        super().logout(request)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        _record_refused_sign_in(credentials, "wrong email or password")

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Sensitive account changes (second factor, recovery codes) ask for the password again,
        except within the re-authentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT, 5 minutes)
        after signing in: an account sent to TOTP enrolment right after its password, and then
        shown its recovery codes, is not asked twice."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not self._signed_in_recently()

    def _signed_in_recently(self) -> bool:
        from allauth.account import app_settings as allauth_account_settings
        from allauth.account.internal.flows.login import get_authentication_records

        request = self.request
        if request is None or not request.user.is_authenticated:
            return False
        records = get_authentication_records(request, request.user)
        window = allauth_account_settings.REAUTHENTICATION_TIMEOUT
        return any(time.time() - float(r.get("at", 0)) < window for r in records)

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """Change (signed in) or reset (from an emailed link): the new hash, its event and the end
        of the calendar link together."""
        request = self.request
        signed_in = request is not None and request.user.is_authenticated
        from btam.accounts.actions import do_revoke_access_after_new_password
        from btam.accounts.models import User

        assert isinstance(user, User)
        with transaction.atomic():
            user.set_password(password)
            user.save(update_fields=["password"])
            AuditEvent.objects.record(
                actor=user if signed_in else None,
                actor_label=user.get_username(),
                verb=Verb.PASSWORD_CHANGED if signed_in else Verb.PASSWORD_RESET,
                target=user,
            )
            # The calendar link is not protected by the password: a new password ends it too.
            do_revoke_access_after_new_password(actor=user if signed_in else None, user=user, reset=not signed_in)

    def send_password_reset_mail(self, user: AbstractBaseUser, email: str, context: dict[str, Any]) -> None:
        with transaction.atomic():
            AuditEvent.objects.record(actor=None, actor_label=email, verb=Verb.PASSWORD_RESET_REQUESTED, target=user)
        super().send_password_reset_mail(user, email, context)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted with BTAM_ENCRYPTION_KEYS."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        # A TOTP code is accepted once: a replayed code is refused like a wrong one.
        "incorrect_code": gettext_lazy(
            "That code is wrong or has already been used. Wait for the next code in your "
            "authenticator app and try again."
        ),
    }

    def encrypt(self, text: str) -> str:
        return crypto.encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt_text(encrypted_text)
