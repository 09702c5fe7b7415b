"""The inbox: a person's own notifications, newest first; opening one marks it read.

Nobody reaches another person's notification (404, existence not revealed). Opening is a POST
(it changes state) that redirects to the notification's link, which must be a path on this site:
the inbox is never an open redirect. Titles carry no case content, so listing them is not
audited as a read of case data; marking read is an action (audited).
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from btam.accounts.models import User
from btam.core.access import SIGNED_IN, policy
from btam.notifications.actions import do_mark_all_read, do_open_notification
from btam.notifications.delivery import is_internal_path
from btam.notifications.models import Notification

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
    listed = (mine.unread() if unread_only else mine).select_related("email_outbox")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "notifications": page.object_list,
        "unread_only": unread_only,
        "unread_count": mine.unread().count(),
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
