"""The calendar-feed page (make, replace or revoke one's secret link) and the feed itself.

The page is for signed-in staff with a case role; a new link's address is shown once, in the
answer to the POST that made it (never stored, never in a redirect). The feed is public by policy
(the token in its address is the credential): an unknown, revoked or replaced token, or an
inactive account, answers 404 with a short plain message, and failed look-ups are throttled per
address like the intake's receipt follow-up. Every successful fetch is audited: one event per
district whose cases it showed (usually one), so each district's auditors find it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases import access as case_access
from btam.cases.actions import CaseError
from btam.cases.pages import user_of
from btam.core.access import PUBLIC, policy, roles
from btam.intake import throttle
from btam.lib import clock
from btam.meetings import actions, calendar
from btam.meetings.models import CalendarFeed
from btam.notifications.delivery import public_base_url, site_name

CALENDAR_POLICY = roles(*case_access.CASE_PAGE_ROLES, label="calendar")
# Wrong calendar links per address (a token has 256 random bits: this only slows a flood down).
FEED_FAILURES_PER_ADDRESS = throttle.Limit("calendar-address", "BTAM_CALENDAR_FAILURES_PER_ADDRESS", 30, 15 * 60)


def feed_url(token: str) -> str:
    return public_base_url() + reverse("meetings:feed", args=[token])


def _page(request: HttpRequest, *, new_url: str = "", error: str = "", status: int = 200) -> HttpResponse:
    user = user_of(request)
    active = CalendarFeed.objects.for_user(user).active().first()
    response = render(
        request,
        "meetings/calendar.html",
        {"active": active, "new_url": new_url, "error": error},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@policy(CALENDAR_POLICY)
@never_cache
def manage(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request)


@policy(CALENDAR_POLICY)
@never_cache
def create(request: HttpRequest) -> HttpResponse:
    """Make a new link (the old one stops working) and show its address, once."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        _feed, token = actions.do_create_calendar_link(actor=user_of(request))
    except CaseError as exc:
        return _page(request, error=str(exc), status=400)
    return _page(request, new_url=feed_url(token))


@policy(CALENDAR_POLICY)
@never_cache
def revoke(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        actions.do_revoke_calendar_link(actor=user_of(request))
    except CaseError as exc:
        return _page(request, error=str(exc), status=400)
    messages.success(request, _("Your calendar link was revoked: calendars that used it get nothing from now on."))
    return redirect("meetings:calendar")


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text + "\n", content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _record_read(user: User, feed: CalendarFeed, content: calendar.FeedContent) -> None:
    """One VIEWED event per district whose cases the feed showed, with that district's ids (district
    auditors filter by district); a feed that showed nothing is filed under each district of the
    person. ``districts`` names every district the one fetch touched."""
    districts = sorted(content.district_ids() or user.district_ids())
    nothing: dict[str, list[int]] = {"cases": [], "tasks": [], "meetings": [], "reassessments": []}
    targets: list[int | None] = list(districts) or [None]  # an account without a district: still recorded
    for district_id in targets:
        AuditEvent.objects.record(
            actor=user,
            verb=Verb.VIEWED,
            target=feed,
            district_id=district_id,
            detail={
                "page": "calendar_feed",
                "districts": districts,
                **(content.ids_in(district_id) if district_id is not None else nothing),
            },
        )


@policy(PUBLIC)
@never_cache
def feed(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    address = throttle.client_address(request)
    subject = throttle.subject_for_address(address)
    if throttle.exceeded(FEED_FAILURES_PER_ADDRESS, subject):
        return _plain(_("Too many wrong calendar links from your network: try again later."), 429)
    token_hash = calendar.hash_token(token)
    found = (
        CalendarFeed.objects.active().filter(token_hash=token_hash).select_related("user").first()
        if token_hash
        else None
    )
    if found is None or not found.user.is_active:
        throttle.hit(FEED_FAILURES_PER_ADDRESS, subject)
        return _plain(_("This calendar link does not work: it was revoked or replaced, or it is mistyped."), 404)
    user = found.user
    now = clock.now()
    with translation.override(settings.LANGUAGE_CODE):
        content = calendar.feed_content(user, now=now)
        text = calendar.render_calendar(content.events, name=site_name(), stamp_at=now)
    CalendarFeed.objects.filter(pk=found.pk).update(last_fetched_at=now)
    _record_read(user, found, content)
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = 'inline; filename="openbtam.ics"'
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("calendar/", manage, name="calendar"),
    path("calendar/new/", create, name="calendar_new"),
    path("calendar/revoke/", revoke, name="calendar_revoke"),
    path("calendar/feed/<str:token>.ics", feed, name="feed"),
]
