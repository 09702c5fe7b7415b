"""Telling people: an inbox item each, and an email through the outbox when it cannot wait.

:func:`notify` is the one entry point. It writes in the caller's transaction (an action, an outbox
handler), so a rolled-back change tells nobody, and it is idempotent: every item has a dedupe key
made of the event (``dedupe_scope``) and the recipient, and so has its email, so processing an
event twice (an outbox re-delivery after a crash) never doubles an inbox item or an email.

Nothing here carries case content. A title names the school and what needs doing ("A new urgent
report for Lincoln High needs attention"); the email repeats it with a link to sign in to
("open OpenBTAM https://.../intake/reports/42/"). Names, narratives and risk levels stay behind
the sign-in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from btam.lib import clock
from btam.notifications.models import Notification, NotificationPreference
from btam.worker import outbox

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.intake.models import Report

P = ParamSpec("P")
R = TypeVar("R")

EMAIL_KIND = "email"  # the outbox's built-in kind (btam.worker.outbox.send_email)
DEDUPE_KEY_MAX = 200  # Notification.dedupe_key and OutboxMessage.dedupe_key
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


def in_site_language(func: Callable[P, R]) -> Callable[P, R]:
    """Write titles and emails in the site's language (``LANGUAGE_CODE``), whoever's request or
    worker makes them: they are stored, and read by other people. (Accounts have no language of
    their own yet.)"""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapper


def public_base_url() -> str:
    """The site's address as people reach it (for links in emails), without a trailing slash."""
    return str(getattr(settings, "BTAM_PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL)).rstrip("/")


def site_name() -> str:
    return str(getattr(settings, "BTAM_SITE_NAME", "OpenBTAM"))


def is_internal_path(link: str) -> bool:
    """A path on this site ("/intake/reports/42/"), never another site ("//evil.test", "https://...")."""
    return (
        link.startswith("/")
        and not link.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(link, allowed_hosts=None, require_https=False)
    )


def report_path(report: Report) -> str:
    """The staff page of a report; the triage queue until that page exists. An id only, no names."""
    try:
        return reverse("intake:report", args=[report.pk])
    except NoReverseMatch:
        try:
            return reverse("intake:queue")
        except NoReverseMatch:
            return "/intake/"


def has_usable_email(user: User) -> bool:
    if not user.email:
        return False
    try:
        validate_email(user.email)
    except ValidationError:
        return False
    return True


def wants_digest(user: User) -> bool:
    """Whether the person chose one daily digest email over an email per (non-urgent) notification."""
    return NotificationPreference.objects.filter(
        user=user, delivery=NotificationPreference.Delivery.DAILY_DIGEST
    ).exists()


def email_text(title: str, link: str) -> tuple[str, str]:
    """(subject, body) of a notification email: the title and where to sign in, nothing more."""
    site = site_name()
    subject = f"[{site}] {title}"
    url = public_base_url() + (link or "/")
    body = "\n\n".join(
        [
            _("%(title)s: open %(site)s %(url)s") % {"title": title, "site": site, "url": url},
            _("This email holds no details. Sign in to %(site)s to see them.") % {"site": site},
            _("You receive it because of your access level in %(site)s.") % {"site": site},
        ]
    )
    return subject, body + "\n"


def _target_ref(target: models.Model | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


def notify(
    *,
    recipients: Iterable[User],
    district_id: int,
    kind: str,
    title: str,
    link: str,
    target: models.Model | None,
    urgent: bool,
    dedupe_scope: str,
    email: bool,
) -> list[Notification]:
    """Put one item in each recipient's inbox and, with ``email``, queue one email each.

    ``dedupe_scope`` names the event ("escalation:7:step:1"): an item already made for this event
    and recipient is returned as it is, and no second email is queued. A recipient who prefers the
    daily digest gets no email now for a non-urgent item: it is marked ``in_digest`` and counted in
    their next digest (digest.py); an urgent one is emailed at once whatever the preference. Inactive accounts are
    skipped; so is the email of an account without a valid address (its inbox item stays).
    ``link`` must be a path on this site. Call it inside the transaction of the change that
    causes it; it opens a savepoint of its own.
    """
    if link and not is_internal_path(link):
        raise ValueError("A notification links to a path on this site only.")
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    if not title or len(title) > Notification._meta.get_field("title").max_length:  # type: ignore[operator]
        raise ValueError("A notification needs a short title.")
    if urgent:
        # Availability: for an urgent report (and its escalation), someone away today is replaced by
        # their backups who can open it (never dropped when none is). Other urgent kinds (the
        # break-glass alert) reach the person they are addressed to. See btam/teams/availability.py.
        from btam.teams.availability import ROUTED_KINDS, route_urgent

        if kind in ROUTED_KINDS:
            recipients = route_urgent(recipients, district_id, target=target)
    target_type, target_id = _target_ref(target)
    at = clock.now()
    seen: set[int] = set()
    items: list[Notification] = []
    with transaction.atomic():
        for user in recipients:
            if user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            key = f"{dedupe_scope}:user:{user.pk}"
            if len(key) + len("notification:") > DEDUPE_KEY_MAX:
                raise ValueError("The notification's dedupe scope is too long.")
            item, created = Notification.objects.get_or_create(
                dedupe_key=key,
                defaults={
                    "recipient": user,
                    "district_id": district_id,
                    "kind": kind,
                    "urgent": urgent,
                    "title": title,
                    "link": link,
                    "target_type": target_type,
                    "target_id": target_id,
                    "created_at": at,
                },
            )
            if created and email and has_usable_email(user) and not urgent and wants_digest(user):
                # Their preference: counted in the daily digest (digest.py) instead. Urgent never waits.
                item.in_digest = True
                item.save(update_fields=["in_digest"])
            elif created and email and has_usable_email(user):
                subject, body = email_text(title, link)
                item.email_outbox = outbox.enqueue(
                    kind=EMAIL_KIND,
                    payload={"to": [user.email], "subject": subject, "body": body},
                    dedupe_key=f"notification:{key}",
                    district_id=district_id,
                )
                item.save(update_fields=["email_outbox"])
            items.append(item)
    return items
