"""The daily digest: one email a day for people who prefer it to an email per notification.

A notification for someone whose preference is the digest (``NotificationPreference``) is put in
their inbox at once, marked ``in_digest`` and not emailed (``delivery.notify``); an urgent one is
always emailed at once. The periodic job ``notifications-digest`` (every 5 minutes) then, for each
such person whose digest is due, sends one email through the outbox that counts what is waiting, in
generic words only:

    3 tasks assigned to you, 1 reassessment due: open OpenBTAM https://.../inbox/

and marks the items counted (``digest_outbox``, ``digested_at``). Items read in the meantime are
not counted; when nothing unread is waiting, nothing is sent (and the day is not used up: an item
arriving later that day goes out at the next run).

When a digest is due: each day's digest time (site's time zone) is one moment; a person's digest is
due at a run when the latest such moment (today's, or yesterday's while today's has not come) has
not had its digest yet. Comparing moments, not calendar days, matters for a late time: with 23:58
and runs every five minutes, the last run of the day may come at 23:55 and the next at 00:03, and
that run still sends the day's digest. Yesterday's digest sent after midnight is only due for items
that arrived before midnight: an item arriving in the early morning waits for today's time, as it
did before. ``last_digest_on`` holds the site's day of the latest moment whose digest was sent (the
moment is that day at ``digest_time``).

At most one digest per person and day, whatever the number of workers or runs: the person is
claimed with a conditional update of ``last_digest_on`` in the transaction that enqueues the
email and marks the items (the loser of two runs updates no row and moves on; a crash rolls the
claim back and the next run sends it), and the email's dedupe key names the person and the day
of the digest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from btam.lib import clock
from btam.notifications.delivery import EMAIL_KIND, has_usable_email, in_site_language, public_base_url, site_name
from btam.notifications.models import Notification, NotificationPreference
from btam.worker import outbox

logger = logging.getLogger(__name__)

Kind = Notification.Kind


def _phrases() -> dict[str, Callable[[int], str]]:
    """How many of a kind, in words (translated at call time). Generic: no case content exists here."""

    def n(singular: str, plural: str) -> Callable[[int], str]:
        return lambda count: ngettext(singular, plural, count) % {"count": count}

    return {
        Kind.URGENT_REPORT: n("%(count)d urgent report", "%(count)d urgent reports"),
        Kind.ESCALATION: n("%(count)d escalation", "%(count)d escalations"),
        Kind.NEW_REPORT: n("%(count)d new report", "%(count)d new reports"),
        Kind.REPORTER_MESSAGE: n("%(count)d message from a reporter", "%(count)d messages from reporters"),
        Kind.REFERRAL: n("%(count)d report referred to your school", "%(count)d reports referred to your school"),
        Kind.SURGE: n("%(count)d surge of reports", "%(count)d surges of reports"),
        Kind.CASE_ASSIGNED: n("%(count)d case assigned to you", "%(count)d cases assigned to you"),
        Kind.CLOSURE_REQUESTED: n("%(count)d case closure to approve", "%(count)d case closures to approve"),
        Kind.BREAK_GLASS: n("%(count)d break-glass access", "%(count)d break-glass accesses"),
        Kind.TASK_ASSIGNED: n("%(count)d task assigned to you", "%(count)d tasks assigned to you"),
        Kind.CASE_TRANSFERRED: n(
            "%(count)d case transferred to your school", "%(count)d cases transferred to your school"
        ),
        Kind.DECISION_APPROVAL: n("%(count)d decision to approve", "%(count)d decisions to approve"),
        Kind.DECISION_DECLINED: n("%(count)d decision declined", "%(count)d decisions declined"),
        Kind.INTERVENTION_ASSIGNED: n(
            "%(count)d intervention assigned to you", "%(count)d interventions assigned to you"
        ),
        Kind.REASSESSMENT_DUE: n("%(count)d reassessment due", "%(count)d reassessments due"),
        Kind.MENTIONED: n("%(count)d mention of you", "%(count)d mentions of you"),
        Kind.DISCUSSION_REPLY: n("%(count)d reply in a discussion", "%(count)d replies in discussions"),
        Kind.MEETING_SCHEDULED: n("%(count)d case conference scheduled", "%(count)d case conferences scheduled"),
        Kind.MEETING_CHANGED: n("%(count)d case conference changed", "%(count)d case conferences changed"),
        Kind.TEAM_CHANGED: n("%(count)d change to your team", "%(count)d changes to your team"),
        Kind.COVERING: n("%(count)d colleague to cover for", "%(count)d colleagues to cover for"),
    }


def count_phrase(kind: str, count: int) -> str:
    phrase = _phrases().get(kind)
    if phrase is not None:
        return phrase(count)
    # A kind added later without its phrase: its label and the number, still generic.
    label = Kind(kind).label if kind in Kind.values else _("Other notification")
    return f"{label}: {count}"


def inbox_path() -> str:
    return reverse("notifications:inbox")


@in_site_language
def digest_text(counts: Counter[str]) -> tuple[str, str]:
    """(subject, body) of a digest: how many of each kind, and where to sign in. Nothing else."""
    site = site_name()
    total = sum(counts.values())
    subject = f"[{site}] " + ngettext(
        "Your daily summary: %(count)d new notification", "Your daily summary: %(count)d new notifications", total
    ) % {"count": total}
    # Most frequent first; kinds in their declared order on a tie, so the text is stable.
    order = {kind: i for i, kind in enumerate(Kind.values)}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))
    summary = ", ".join(count_phrase(kind, count) for kind, count in ranked)
    body = "\n\n".join(
        [
            _("%(summary)s: open %(site)s %(url)s")
            % {"summary": summary, "site": site, "url": public_base_url() + inbox_path()},
            _("This email holds no details. Sign in to %(site)s to see them.") % {"site": site},
            _(
                "You receive one summary a day because you chose the daily digest in your notification "
                "preferences. Urgent notifications are always emailed at once."
            ),
        ]
    )
    return subject, body + "\n"


def local_day_and_time(at: dt.datetime) -> tuple[dt.date, dt.time]:
    local = timezone.localtime(at)
    return local.date(), local.time()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def digest_day(digest_time: dt.time, at: dt.datetime) -> dt.date:
    """The site's day of the latest digest moment at or before ``at``: today once ``digest_time``
    has come, yesterday before it."""
    day, time_now = local_day_and_time(at)
    return day if digest_time <= time_now else day - dt.timedelta(days=1)


def waiting(user_id: int, at: dt.datetime) -> Q:
    """The items of a person that the next digest counts: held for it, not yet counted, unread."""
    return Q(
        recipient_id=user_id,
        in_digest=True,
        digest_outbox__isnull=True,
        read_at__isnull=True,
        urgent=False,
        created_at__lte=at,
    )


def arrived_before(day: dt.date, at: dt.datetime) -> dt.datetime | None:
    """What can make the digest of ``day`` due at ``at``: today's, any item waiting (None);
    an earlier day's (sent late, after midnight), only items that arrived before that day ended."""
    if day >= local_day_and_time(at)[0]:
        return None
    return start_of_day(day + dt.timedelta(days=1))


def _arrived_for(day: dt.date, at: dt.datetime) -> Q:
    before = arrived_before(day, at)
    return Q(created_at__lte=at) if before is None else Q(created_at__lt=before)


def _not_sent_for(day: dt.date) -> Q:
    return Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=day)


def due_preference_ids(at: dt.datetime) -> list[int]:
    """Preferences whose digest is due at ``at``: the latest digest moment (today's once its time
    has come, else yesterday's) has had no digest yet, and something unread is waiting for it. (Not
    filtered on the choice: items held while someone chose the digest are counted once in a digest
    even if they have switched back to immediate emails since.)"""
    today, time_now = local_day_and_time(at)
    yesterday = today - dt.timedelta(days=1)
    held = Notification.objects.filter(
        in_digest=True, digest_outbox__isnull=True, read_at__isnull=True, urgent=False
    ).values("recipient_id")
    due_today = (
        Q(digest_time__lte=time_now) & _not_sent_for(today) & Q(user_id__in=held.filter(_arrived_for(today, at)))
    )
    due_yesterday = (
        Q(digest_time__gt=time_now) & _not_sent_for(yesterday) & Q(user_id__in=held.filter(_arrived_for(yesterday, at)))
    )
    return list(
        NotificationPreference.objects.filter(due_today | due_yesterday, user__is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def send_one(preference_id: int, at: dt.datetime) -> bool:
    """Claim one person's digest for its latest moment and send it; False when another run took
    it, it is not due any more, or nothing unread is waiting for it (then the claim is rolled back)."""
    digest_time = NotificationPreference.objects.filter(pk=preference_id).values_list("digest_time", flat=True).first()
    if digest_time is None:
        return False
    day = digest_day(digest_time, at)
    with transaction.atomic():
        # The time is part of the claim: a person who changed it meanwhile is looked at again next run.
        claimed = (
            NotificationPreference.objects.filter(_not_sent_for(day), pk=preference_id, digest_time=digest_time).update(
                last_digest_on=day
            )
            == 1
        )
        if not claimed:
            return False
        preference = NotificationPreference.objects.select_related("user").get(pk=preference_id)
        user = preference.user
        items = list(
            Notification.objects.select_for_update()
            .filter(waiting(user.pk, at))
            .order_by("pk")
            .values_list("pk", "kind", "district_id", "created_at")
        )
        before = arrived_before(day, at)
        makes_due = [item for item in items if before is None or item[3] < before]
        if not makes_due or not user.is_active or not has_usable_email(user):
            transaction.set_rollback(True)  # nothing to send: this day's digest is not used up
            return False
        counts = Counter(kind for _pk, kind, _district, _at in items)
        # The district of most of the items (a person in several districts gets one digest).
        district_id = Counter(district for _pk, _kind, district, _at in items).most_common(1)[0][0]
        subject, body = digest_text(counts)
        message = outbox.enqueue(
            kind=EMAIL_KIND,
            payload={"to": [user.email], "subject": subject, "body": body},
            dedupe_key=f"digest:user:{user.pk}:{day.isoformat()}",
            district_id=district_id,
        )
        Notification.objects.filter(pk__in=[pk for pk, _kind, _district, _at in items]).update(
            digest_outbox=message, digested_at=at
        )
    return True


def send_digests(at: dt.datetime | None = None) -> int:
    """Send every digest due at ``at`` (now); the number sent. One person's failure is logged and
    does not stop the others (retried at the next run)."""
    at = at or clock.now()
    sent = 0
    for preference_id in due_preference_ids(at):
        try:
            sent += send_one(preference_id, at)
        except Exception:
            logger.exception("Daily digest for preference %s failed; retried at the next run", preference_id)
    return sent


@task(queue_name="default")
def send_daily_digests() -> int:
    """Every 5 minutes: send the daily digests that are due (once a day per person)."""
    return send_digests()
