"""The daily digest: once a day per person at their time (site's time zone), counting what is new
and unread in generic words, through the outbox; nothing when nothing is new; never for urgent ones.

T0 is 2030-03-04 09:00 UTC, 04:00 in New York (the site's time zone in the tests); a digest at
07:00 is due from 12:00 UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from btam.accounts.models import Role, User
from btam.notifications import digest
from btam.notifications.actions import do_open_notification, do_set_notification_preferences
from btam.notifications.delivery import notify
from btam.notifications.models import DeliveryStatus, Notification, NotificationPreference
from btam.notifications.tests.helpers import NARRATIVE, PERSON_NAME, T0, Received, drain
from btam.testing import DistrictFactory, make_member
from btam.worker.models import OutboxMessage
from btam.worker.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
DIGEST = NotificationPreference.Delivery.DAILY_DIGEST
SEVEN_LOCAL = T0.replace(hour=12)  # 07:00 in New York on 2030-03-04 (EST)


@pytest.fixture(autouse=True)
def site_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.BTAM_PUBLIC_BASE_URL = "https://btam.example.test"


@pytest.fixture
def dana(frozen: Any) -> User:
    user = make_member(Role.TEAM_MEMBER, DistrictFactory.create(), totp=False, full_name="Dana Digest")
    do_set_notification_preferences(actor=user, delivery=DIGEST, digest_time=dt.time(7, 0))
    return user


def tell(user: User, kind: str, n: int, *, urgent: bool = False, email: bool = True) -> Notification:
    [item] = notify(
        recipients=[user],
        district_id=next(iter(user.district_ids())),
        kind=kind,
        title=f"Something for case 2030-{n:04d} ({PERSON_NAME} must never show)"[:300],
        link=f"/cases/{n}/",
        target=None,
        urgent=urgent,
        dedupe_scope=f"test:digest:{kind}:{n}",
        email=email,
    )
    return item


def digests() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(dedupe_key__startswith="digest:").order_by("pk"))


def test_the_digest_counts_each_kind_in_generic_words_and_marks_the_items(dana: User, frozen: Any) -> None:
    items = [tell(dana, Kind.TASK_ASSIGNED, n) for n in range(3)] + [tell(dana, Kind.REASSESSMENT_DUE, 9)]
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 1
    [message] = digests()
    assert message.kind == "email"
    assert message.payload["to"] == [dana.email]
    assert message.payload["subject"] == "[OpenBTAM] Your daily summary: 4 new notifications"
    body = message.payload["body"]
    assert body.startswith(
        "3 tasks assigned to you, 1 reassessment due: open OpenBTAM https://btam.example.test/inbox/\n"
    )
    assert message.dedupe_key == f"digest:user:{dana.pk}:2030-03-04"
    for item in items:
        item.refresh_from_db()
        assert (item.digest_outbox, item.digested_at) == (message, SEVEN_LOCAL)
        assert item.read_at is None  # counted, not read: it stays unread in the inbox
    # No case content: no title, no case number, no name, no link to a case.
    for secret in (PERSON_NAME, "2030-0009", "/cases/", NARRATIVE, "Something for case"):
        assert secret not in body and secret not in message.payload["subject"]


def test_no_digest_before_the_persons_time_in_the_site_time_zone(dana: User, frozen: Any) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(SEVEN_LOCAL - dt.timedelta(minutes=1))  # 06:59 in New York, 11:59 UTC
    assert digest.send_digests() == 0
    assert digests() == []
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 1


def test_nothing_is_sent_when_nothing_is_new(dana: User, frozen: Any) -> None:
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0
    assert not OutboxMessage.objects.exists()


def test_nothing_is_sent_when_everything_was_read_already(dana: User, frozen: Any) -> None:
    items = [tell(dana, Kind.TASK_ASSIGNED, n) for n in range(2)]
    for item in items:
        do_open_notification(actor=dana, notification=item)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0
    assert digests() == []
    assert {i.delivery_status for i in Notification.objects.all()} == {DeliveryStatus.DIGEST_SKIPPED}


def test_items_read_before_the_digest_are_not_counted(dana: User, frozen: Any) -> None:
    read = tell(dana, Kind.TASK_ASSIGNED, 1)
    tell(dana, Kind.TASK_ASSIGNED, 2)
    do_open_notification(actor=dana, notification=read)
    frozen.freeze(SEVEN_LOCAL)
    digest.send_digests()
    [message] = digests()
    assert message.payload["body"].startswith("1 task assigned to you: open OpenBTAM")
    read.refresh_from_db()
    assert read.digest_outbox is None


def test_the_digest_goes_once_a_day_however_often_the_job_runs(dana: User, frozen: Any) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 1
    assert digest.send_digests() == 0  # the next run, the same day
    frozen.advance(hours=3)
    tell(dana, Kind.MENTIONED, 2)  # new after today's digest: waits for tomorrow's
    assert digest.send_digests() == 0
    assert len(digests()) == 1
    frozen.freeze(SEVEN_LOCAL + dt.timedelta(days=1))
    assert digest.send_digests() == 1
    first, second = digests()
    assert second.dedupe_key == f"digest:user:{dana.pk}:2030-03-05"
    assert second.payload["body"].startswith("1 mention of you: open OpenBTAM")


def new_york(day: int, hour: int, minute: int) -> dt.datetime:
    """A moment in March 2030 in the site's time zone of these tests."""
    return dt.datetime(2030, 3, day, hour, minute, tzinfo=ZoneInfo("America/New_York"))


def test_a_late_digest_missed_by_the_last_run_of_the_day_goes_out_just_after_midnight(dana: User, frozen: Any) -> None:
    """23:58: the last run of the 4th comes at 23:55, the next at 00:03 on the 5th; that run sends
    the 4th's digest, and the 5th's goes out after 23:58 on the 5th (at 00:03 on the 6th), once."""
    do_set_notification_preferences(actor=dana, delivery=DIGEST, digest_time=dt.time(23, 58))
    tell(dana, Kind.TASK_ASSIGNED, 1)  # 04:00 on the 4th
    frozen.freeze(new_york(4, 23, 55))
    assert digest.send_digests() == 0  # 23:58 has not come

    frozen.freeze(new_york(5, 0, 3))
    assert digest.send_digests() == 1
    [first] = digests()
    assert first.dedupe_key == f"digest:user:{dana.pk}:2030-03-04"  # the day that ended
    assert first.payload["body"].startswith("1 task assigned to you:")
    assert NotificationPreference.objects.get(user=dana).last_digest_on == dt.date(2030, 3, 4)

    frozen.freeze(new_york(5, 0, 8))
    assert digest.send_digests() == 0  # the next run: the 4th's digest is sent
    frozen.freeze(new_york(5, 10, 0))
    tell(dana, Kind.MENTIONED, 2)
    for moment in (new_york(5, 10, 5), new_york(5, 23, 55)):
        frozen.freeze(moment)
        assert digest.send_digests() == 0  # the 5th's 23:58 has not come
    frozen.freeze(new_york(6, 0, 3))
    assert digest.send_digests() == 1
    assert digest.send_digests() == 0
    first, second = digests()
    assert second.dedupe_key == f"digest:user:{dana.pk}:2030-03-05"
    assert second.payload["body"].startswith("1 mention of you:")


def test_a_digest_sent_at_its_time_late_in_the_day_is_not_sent_again_after_midnight(dana: User, frozen: Any) -> None:
    do_set_notification_preferences(actor=dana, delivery=DIGEST, digest_time=dt.time(23, 50))
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(new_york(4, 23, 52))
    assert digest.send_digests() == 1
    frozen.freeze(new_york(4, 23, 57))
    tell(dana, Kind.MENTIONED, 2)  # after the 4th's digest: it waits for the 5th's
    frozen.freeze(new_york(5, 0, 2))
    assert digest.send_digests() == 0
    frozen.freeze(new_york(5, 23, 50))
    assert digest.send_digests() == 1
    assert [m.dedupe_key for m in digests()] == [f"digest:user:{dana.pk}:2030-03-{day}" for day in ("04", "05")]


def test_an_item_arriving_after_midnight_waits_for_that_days_time_even_when_yesterdays_was_unused(
    dana: User, frozen: Any
) -> None:
    """Nothing was waiting at 23:58 on the 4th; an item at 10:00 on the 5th is not sent as the
    4th's digest but at 23:58 on the 5th."""
    do_set_notification_preferences(actor=dana, delivery=DIGEST, digest_time=dt.time(23, 58))
    frozen.freeze(new_york(5, 10, 0))
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(new_york(5, 10, 5))
    assert digest.due_preference_ids(frozen.now()) == []
    [preference_id] = NotificationPreference.objects.filter(user=dana).values_list("pk", flat=True)
    assert digest.send_one(preference_id, frozen.now()) is False  # even when asked directly
    assert NotificationPreference.objects.get(user=dana).last_digest_on is None
    frozen.freeze(new_york(5, 23, 58))
    assert digest.send_digests() == 1
    [message] = digests()
    assert message.dedupe_key == f"digest:user:{dana.pk}:2030-03-05"


def test_an_item_from_before_midnight_goes_out_after_midnight_with_the_later_ones(dana: User, frozen: Any) -> None:
    do_set_notification_preferences(actor=dana, delivery=DIGEST, digest_time=dt.time(23, 58))
    frozen.freeze(new_york(4, 23, 59))
    tell(dana, Kind.TASK_ASSIGNED, 1)  # after the 4th's time, before the run after it
    frozen.freeze(new_york(5, 0, 1))
    tell(dana, Kind.TASK_ASSIGNED, 2)
    frozen.freeze(new_york(5, 0, 3))
    assert digest.send_digests() == 1
    [message] = digests()
    assert message.payload["body"].startswith("2 tasks assigned to you:")  # everything waiting is counted
    assert not Notification.objects.filter(recipient=dana, digest_outbox__isnull=True).exists()


def test_two_runs_racing_just_after_midnight_send_one_late_digest(dana: User, frozen: Any) -> None:
    do_set_notification_preferences(actor=dana, delivery=DIGEST, digest_time=dt.time(23, 58))
    tell(dana, Kind.TASK_ASSIGNED, 1)
    at = new_york(5, 0, 3)
    frozen.freeze(at)
    [preference_id] = digest.due_preference_ids(at)
    assert digest.send_one(preference_id, at) is True
    assert digest.send_one(preference_id, at) is False
    assert len(digests()) == 1


def test_two_runs_racing_for_one_person_send_one_digest(dana: User, frozen: Any) -> None:
    """Both found the person due; the first claims the day, the second claims nothing."""
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(SEVEN_LOCAL)
    [preference_id] = digest.due_preference_ids(SEVEN_LOCAL)
    assert digest.send_one(preference_id, SEVEN_LOCAL) is True
    assert digest.send_one(preference_id, SEVEN_LOCAL) is False
    assert len(digests()) == 1


def test_an_urgent_notification_never_waits_for_the_digest(dana: User, frozen: Any) -> None:
    urgent = tell(dana, Kind.URGENT_REPORT, 1, urgent=True)
    assert urgent.email_outbox is not None and not urgent.in_digest
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0  # nothing held for the digest: the urgent one went at once
    urgent.refresh_from_db()
    assert urgent.digest_outbox is None


def test_inbox_only_notifications_are_not_in_the_digest(dana: User, frozen: Any) -> None:
    tell(dana, Kind.NEW_REPORT, 1, email=False)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0


def test_items_held_before_switching_back_to_immediate_emails_still_get_their_digest(dana: User, frozen: Any) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    do_set_notification_preferences(
        actor=dana, delivery=NotificationPreference.Delivery.IMMEDIATELY, digest_time=dt.time(7)
    )
    later = tell(dana, Kind.TASK_ASSIGNED, 2)
    assert later.email_outbox is not None  # immediate again
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 1
    [message] = digests()
    assert message.payload["body"].startswith("1 task assigned to you:")


def test_a_person_switched_off_gets_no_digest(dana: User, frozen: Any) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    User.objects.filter(pk=dana.pk).update(is_active=False)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0


def test_the_digest_time_is_read_in_the_site_time_zone(dana: User, frozen: Any, settings: Any) -> None:
    settings.TIME_ZONE = "America/Los_Angeles"  # 07:00 there is 15:00 UTC
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_digests() == 0
    frozen.freeze(T0.replace(hour=15))
    assert digest.send_digests() == 1


def test_the_digest_is_a_periodic_job() -> None:
    [job] = [j for j in PERIODIC_JOBS if j.name == "notifications-digest"]
    assert job.task == "btam.notifications.digest.send_daily_digests"
    assert job.every_seconds <= 15 * 60  # a digest goes out within minutes of its time


def test_the_task_sends_the_due_digests(dana: User, frozen: Any) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    frozen.freeze(SEVEN_LOCAL)
    assert digest.send_daily_digests.call() == 1


def test_the_digest_email_reaches_a_real_smtp_server_without_case_content(
    dana: User, frozen: Any, smtp_server: Received
) -> None:
    tell(dana, Kind.TASK_ASSIGNED, 1)
    tell(dana, Kind.TASK_ASSIGNED, 2)
    frozen.freeze(SEVEN_LOCAL)
    digest.send_digests()
    drain()
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [[dana.email]]
    [message] = smtp_server.messages()
    [body] = smtp_server.bodies()
    assert message["Subject"] == "[OpenBTAM] Your daily summary: 2 new notifications"
    assert body.startswith("2 tasks assigned to you: open OpenBTAM https://btam.example.test/inbox/")
    whole = message.as_string()
    for secret in (PERSON_NAME, "2030-0001", "/cases/", "Something for case"):
        assert secret not in whole
    assert {n.delivery_status for n in Notification.objects.all()} == {DeliveryStatus.DIGEST_SENT}


def test_every_kind_has_generic_words() -> None:
    for kind in Kind.values:
        assert digest.count_phrase(kind, 2).startswith("2 ")
    assert digest.count_phrase("a_kind_from_later", 4).endswith(": 4")
