"""allauth hooks: closed sign-up, demo-account rules, audit events for sign-in and sign-out,
and TOTP secrets encrypted with the deployment's keys."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.lib import crypto


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by the district's database manager, never by self sign-up.
        return False

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
            messages.error(request, _("Demo accounts can only sign in while demo mode is on."))
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
        # The address typed is kept (it may be a real account under attack); the password never is.
        attempted = str(credentials.get("email") or credentials.get("username") or "")[:254]
        with transaction.atomic():
            AuditEvent.objects.record(
                actor=None,
                actor_label=attempted or "unknown",
                verb=Verb.LOGIN_FAILED,
                reason="wrong email or password",
            )


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted with BTAM_ENCRYPTION_KEYS."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt_text(encrypted_text)
