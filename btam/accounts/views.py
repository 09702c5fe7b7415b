from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from btam.accounts.actions import do_sign_out_everywhere
from btam.core.access import SIGNED_IN, SIGNED_IN_SETUP, policy


@policy(SIGNED_IN)
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security.html")


@policy(SIGNED_IN_SETUP)
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    revoked = do_sign_out_everywhere(actor=request.user)  # type: ignore[arg-type]
    logout(request)
    if revoked:
        messages.success(
            request,
            _(
                "You have been signed out on every device and your calendar link was revoked. Sign in "
                "again to continue, and make a new calendar link if you need one."
            ),
        )
    else:
        messages.success(request, _("You have been signed out on every device. Sign in again to continue."))
    return redirect("account_login")
