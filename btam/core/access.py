"""Deny by default: every view declares the policy that opens it.

A view without a declared policy answers 403 to everyone (and the access walk test fails).
Policies say *who may reach a page*; object-level checks (which case, which school) live in each
app's ``access.py`` and its ``visible_to(user)`` querysets.

Views of our own apps use the ``@policy(...)`` decorator. Views of third-party apps (allauth,
the admin, i18n) get theirs from ``THIRD_PARTY_POLICIES`` by URL namespace or name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Policy:
    """Who may reach a view: anyone, any signed-in user, or holders of some roles."""

    name: str
    public: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    # Signed-in users whose second factor is not set up yet may reach it (MFA enrolment, sign-out).
    before_second_factor: bool = False

    def allows(self, request: HttpRequest) -> bool:
        if self.public:
            return True
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return False
        if not self.roles:
            return True
        return bool(user.has_role(*self.roles))  # type: ignore[union-attr]


PUBLIC = Policy("public", public=True)
SIGNED_IN = Policy("signed-in")
# Reachable while the second factor is still being set up: enrolment pages and sign-out.
SIGNED_IN_SETUP = Policy("signed-in (second-factor setup)", before_second_factor=True)


def roles(*names: str, label: str = "") -> Policy:
    return Policy(label or "roles:" + ",".join(sorted(names)), roles=frozenset(names))


def policy(p: Policy) -> Callable[[F], F]:
    """Declare who may reach a view. Without this, the view is denied to everyone."""

    def decorate(view: F) -> F:
        view.btam_policy = p  # type: ignore[attr-defined]
        return view

    return decorate


def _admin_policy() -> Policy:
    from btam.accounts.models import ADMIN_ROLES

    return roles(*ADMIN_ROLES, label="admin")


# allauth pages: signing in, resetting a password and the second-factor step of sign-in are public;
# managing one's own account is for the signed-in user; enrolment is reachable before the second
# factor is set up (that is its purpose).
_ALLAUTH_PUBLIC = {
    "account_login",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_inactive",
    "account_signup",  # closed by the adapter: shows "sign-up is closed"
    "account_confirm_email",
    "account_email_verification_sent",
    "account_login_code_confirm",
    "account_confirm_login_code",
    "account_request_login_code",
    "account_confirm_password_reset_code",
    "account_reset_password_from_code",
    "mfa_authenticate",
    "mfa_login_webauthn",
    "mfa_signup_webauthn",
    "mfa_trust",
}
_ALLAUTH_SETUP = {
    "account_logout",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_list_webauthn",
    "mfa_add_webauthn",
    "mfa_remove_webauthn",
    "mfa_edit_webauthn",
    "mfa_reauthenticate",
    "mfa_reauthenticate_webauthn",
    "account_reauthenticate",
}


def third_party_policy(namespace: str, url_name: str | None) -> Policy | None:
    if namespace == "admin":
        return _admin_policy()
    if url_name in _ALLAUTH_PUBLIC:
        return PUBLIC
    if url_name in _ALLAUTH_SETUP:
        return SIGNED_IN_SETUP
    if url_name and (url_name.startswith("account_") or url_name.startswith("mfa_")):
        # Any other account page (change password, email addresses, sessions): the signed-in user.
        return SIGNED_IN
    if url_name == "set_language":
        return PUBLIC
    return None


def policy_for(view: Callable[..., Any], namespace: str, url_name: str | None) -> Policy | None:
    declared = getattr(view, "btam_policy", None)
    if declared is None:
        # Class-based views expose the class on view_class; the admin wraps its views.
        declared = getattr(getattr(view, "view_class", None), "btam_policy", None)
    if declared is not None:
        return declared  # type: ignore[no-any-return]
    return third_party_policy(namespace, url_name)


class PolicyMiddleware:
    """Refuse every request whose view has no policy, or whose policy does not open it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Iterable[Any], kwargs: dict[str, Any]
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        namespace = match.namespace if match else ""
        url_name = match.url_name if match else None
        # Static files served by runserver in development have no URL name.
        if settings.DEBUG and request.path.startswith(settings.STATIC_URL):
            return None
        p = policy_for(view, namespace, url_name)
        if p is None:
            logger.error("No access policy declared for view %s (url name %r): denied.", view, url_name)
            raise PermissionDenied
        request.btam_policy = p  # type: ignore[attr-defined]
        if p.allows(request):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied
