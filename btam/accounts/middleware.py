"""Every signed-in account must have a second factor before it reaches any district data."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone


def second_factor_satisfied(user: object) -> bool:
    if getattr(user, "is_demo", False) and settings.DEMO_MODE:
        return True
    has_second_factor = getattr(user, "has_second_factor", None)
    if has_second_factor is not None:  # our User: read with its memberships (no query of its own)
        return bool(has_second_factor())
    return bool(is_mfa_enabled(user))  # type: ignore[arg-type]


class RequireSecondFactorMiddleware:
    """Send a signed-in user without a second factor to the enrolment page.

    Runs before the policy check; only views whose policy allows ``before_second_factor``
    (enrolment, sign-out) and public pages are reachable until TOTP is set up.

    A demo account still signed in when demo mode is switched off is signed out on its next
    request: outside demo mode demo accounts cannot be used at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., object], args: object, kwargs: object
    ) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if getattr(user, "is_demo", False) and not settings.DEMO_MODE:
            from btam.accounts.adapter import DEMO_REFUSED_MESSAGE

            logout(request)
            messages.error(request, DEMO_REFUSED_MESSAGE)
            return redirect("account_login")
        from btam.core.access import policy_for

        match = request.resolver_match
        p = policy_for(view, match.namespace if match else "", match.url_name if match else None)
        if p is None or p.public or p.before_second_factor:
            return None
        if second_factor_satisfied(user):
            return None
        return redirect("mfa_activate_totp")


# How often an unchanged session is written back to renew its idle expiry.
SESSION_RENEW_SECONDS = 60
_RENEWED_KEY = "_btam_renewed"


class SessionRenewalMiddleware:
    """Renew the idle expiry of a session at most once a minute.

    A session expires ``SESSION_COOKIE_AGE`` (the idle timeout) after it was last saved. Saving it
    on every request (Django's ``SESSION_SAVE_EVERY_REQUEST``) costs each page a write and a commit
    to the database; here a session that nothing else changed is saved again only when its last
    renewal is a minute old, so an idle session ends between ``SESSION_COOKIE_AGE`` minus one minute
    and ``SESSION_COOKIE_AGE`` after the last request. Listed after SessionMiddleware, so that its
    response step runs first and SessionMiddleware then saves the marked session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.modified or session.session_key is None or session.is_empty():
            return response
        now = int(timezone.now().timestamp())
        renewed = session.get(_RENEWED_KEY)
        if not isinstance(renewed, int) or not 0 <= now - renewed < SESSION_RENEW_SECONDS:
            session[_RENEWED_KEY] = now
        return response
