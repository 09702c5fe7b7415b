"""What every page of one case shares: the header and tabs, the read audit, the policy.

Each tab's view fetches the case with ``access.get_case_for_user`` and renders through
:func:`render_case`, which records that the user viewed the case (every read of case data is in
the audit trail) and adds the header's context. An htmx request gets the named partial only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases import access
from btam.cases.models import Case
from btam.core.access import roles
from btam.lib import clock

CASE_POLICY = roles(*access.CASE_PAGE_ROLES, label="cases")

# (tab key, url name, label): the tabs of a case page, in order.
TABS: list[tuple[str, str, Any]] = [
    ("overview", "cases:detail", _("Overview")),
    ("notes", "cases:notes", _("Notes")),
    ("discussion", "discussion:case", _("Discussion")),
    ("tasks", "cases:tasks", _("Tasks")),
    ("assessments", "assessments:case", _("Assessments")),
    ("plan", "assessments:plan", _("Plan")),
    ("monitoring", "assessments:monitoring", _("Monitoring")),
    ("meetings", "meetings:case", _("Meetings")),
    ("documents", "cases:documents", _("Documents")),
    ("reporter", "cases:reporter", _("Reporter")),
    ("timeline", "cases:timeline", _("Timeline")),
    ("access", "cases:access", _("Schools and access")),
]


def user_of(request: HttpRequest) -> User:
    return cast(User, request.user)


def lost_access(request: HttpRequest, case: Case, exc: Exception) -> HttpResponse | None:
    """After a refused change: the user's access may have gone meanwhile; then leave the case (the
    message on the case list) instead of showing the case again. None while they still see it."""
    if Case.objects.visible_to(user_of(request)).filter(pk=case.pk).exists():
        return None
    messages.error(request, str(exc))
    return redirect("cases:list")


def record_view(request: HttpRequest, case: Case, *, tab: str) -> None:
    AuditEvent.objects.record(
        actor=user_of(request),
        verb=Verb.VIEWED,
        target=case,
        district_id=case.district_id,
        detail={"case_number": case.number, "tab": tab},
    )


def break_glass_until(user: User, case: Case) -> dt.datetime | None:
    """When the user's break-glass access to the case ends, if they see it under one. No query
    for the team seeing an unrestricted case of its district (no grant is needed there)."""
    from btam.cases.models import BreakGlassGrant

    if case.district_id not in access.break_glass_district_ids(user):
        return None
    if case.district_id in access.district_team_ids(user) and not case.restricted:
        return None
    expiries = BreakGlassGrant.objects.filter(case_id=case.pk, user_id=user.pk, expires_at__gt=clock.now())
    return expiries.order_by("-expires_at").values_list("expires_at", flat=True).first()


def render_case(
    request: HttpRequest,
    case: Case,
    template: str,
    context: dict[str, Any],
    *,
    tab: str,
    status: int = 200,
    partial: str | None = None,
    audit: bool = True,
) -> HttpResponse:
    """Render one tab of a case. ``partial``: the template an htmx request gets instead."""
    user = user_of(request)
    if audit:
        record_view(request, case, tab=tab)
    can_write = context.pop("can_write", None)
    if can_write is None:
        can_write = access.can_write(user, case)
    full = {
        "case": case,
        "tab": tab,
        "tabs": TABS,
        "can_write": can_write,
        "editable": can_write and not case.is_closed and not case.is_merged,
        "break_glass_until": break_glass_until(user, case),
        **context,
    }
    if partial and getattr(request, "htmx", False):
        return render(request, partial, full, status=status)
    response = render(request, template, full, status=status)
    response["Cache-Control"] = "no-store"
    return response
