"""The inbox: a person's own notifications, newest first; opening one marks it read.

Nobody reaches another person's notification (404, existence not revealed). Opening is a POST
(it changes state) that redirects to the notification's link, which must be a path on this site:
the inbox is never an open redirect. Titles carry no case content, so listing them is not
audited as a read of case data; marking read is an action (audited).

``/inbox/preferences/`` is the person's own choice of immediate emails or a daily digest (there is
no way to name someone else). ``/inbox/deliveries/`` lists the failed and dead emails of the
districts a database manager (or backup administrator) manages, with a requeue button; it shows
the generic subject, the recipient's account and the error's class, never a body or an address.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from btam.accounts.models import User
from btam.core.access import SIGNED_IN, policy
from btam.notifications import access
from btam.notifications.actions import (
    PreferenceError,
    RequeueError,
    do_mark_all_read,
    do_open_notification,
    do_requeue_delivery,
    do_set_notification_preferences,
)
from btam.notifications.delivery import is_internal_path
from btam.notifications.forms import PreferencesForm
from btam.notifications.models import Notification, NotificationPreference

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@policy(SIGNED_IN)
@require_GET
@never_cache
def inbox(request: HttpRequest) -> HttpResponse:
    """GET ``?show=unread`` lists unread ones only; ``?page=n``. htmx gets the list alone."""
    user = _user(request)
    mine = Notification.objects.for_user(user)
    unread_only = request.GET.get("show") == "unread"
    listed = (mine.unread() if unread_only else mine).select_related("email_outbox", "digest_outbox")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "notifications": page.object_list,
        "unread_only": unread_only,
        "unread_count": mine.unread().count(),
        "manages_deliveries": user.has_role(*access.DELIVERY_MANAGER_ROLES),
    }
    if getattr(request, "htmx", False):
        return render(request, "notifications/partials/_list.html", context)
    return render(request, "notifications/inbox.html", context)


@policy(SIGNED_IN)
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points (a path on this site, else the inbox)."""
    user = _user(request)
    notification = Notification.objects.for_user(user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    do_open_notification(actor=user, notification=notification)
    link = notification.link
    return redirect(link if link and is_internal_path(link) else reverse("notifications:inbox"))


@policy(SIGNED_IN)
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = do_mark_all_read(actor=_user(request))
    if count:
        messages.success(
            request,
            ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("There was nothing unread."))
    return redirect("notifications:inbox")


# Preferences -------------------------------------------------------------------------------------


def _preference_of(user: User) -> NotificationPreference:
    """The person's saved preference, or the default (immediately at 07:00) not yet saved."""
    return NotificationPreference.objects.visible_to(user).first() or NotificationPreference(user=user)


@policy(SIGNED_IN)
@never_cache
def preferences(request: HttpRequest) -> HttpResponse:
    """GET shows the person's own choice; POST saves it (400 with the form and its errors)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = _user(request)
    current = _preference_of(user)
    if request.method == "GET":
        form = PreferencesForm(
            initial={"delivery": current.delivery, "digest_time": current.digest_time.strftime("%H:%M")}
        )
        return _preferences_page(request, form, current)
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            do_set_notification_preferences(
                actor=user,
                delivery=form.cleaned_data["delivery"],
                digest_time=form.cleaned_data["digest_time"] or current.digest_time,
            )
        except PreferenceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your notification preferences are saved."))
            return redirect("notifications:preferences")
    return _preferences_page(request, form, current, status=400)


def _preferences_page(
    request: HttpRequest, form: PreferencesForm, current: NotificationPreference, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "current": current,
        "delivery_value": form["delivery"].value() or current.delivery,
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "notifications/preferences.html", context, status=status)


# Failed deliveries (database managers) -----------------------------------------------------------


def _recipients_of(message_ids: list[int]) -> dict[int, User]:
    """The account each email was for, from its inbox item (never the payload's address)."""
    items = Notification.objects.filter(email_outbox_id__in=message_ids).select_related("recipient")
    found = {n.email_outbox_id: n.recipient for n in items if n.email_outbox_id is not None}
    digests = Notification.objects.filter(digest_outbox_id__in=message_ids).select_related("recipient")
    for n in digests:
        if n.digest_outbox_id is not None:
            found.setdefault(n.digest_outbox_id, n.recipient)
    return found


def error_class(last_error: str) -> str:
    """The exception's class only ("SMTPRecipientsRefused"): its message may hold an address."""
    head = last_error.split(":", 1)[0].strip()
    return head if head.isidentifier() else (_("Error") if last_error else "")


@policy(access.DELIVERY_POLICY)
@require_GET
@never_cache
def deliveries(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    failed = access.failed_deliveries_visible_to(user).select_related("district").order_by("-created_at", "-pk")
    page = Paginator(failed, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    recipients = _recipients_of([m.pk for m in rows])
    listed = [
        {
            "message": m,
            # Email subjects are generic by construction (delivery.email_text, digest.digest_text);
            # other kinds show their kind only.
            "subject": m.payload.get("subject", "") if m.kind == "email" and isinstance(m.payload, dict) else "",
            "recipient": recipients.get(m.pk),
            "error": error_class(m.last_error),
        }
        for m in rows
    ]
    return render(request, "notifications/deliveries.html", {"page": page, "rows": listed})


@policy(access.DELIVERY_POLICY)
@require_POST
def requeue_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    message = access.deliveries_visible_to(user).filter(pk=pk).first()
    if message is None:
        raise Http404
    try:
        do_requeue_delivery(actor=user, message=message)
    except RequeueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Delivery %(id)s is queued again; the worker sends it within a minute.") % {"id": message.pk}
        )
    return redirect("notifications:deliveries")
