"""Delivery status: each inbox item says what happened to its email; a district's database managers
(and backup administrators) list the failed and dead emails of their district, without content, and
requeue one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.notifications.actions import RequeueError, do_requeue_delivery, do_set_notification_preferences
from btam.notifications.delivery import notify
from btam.notifications.models import DeliveryStatus, Notification, NotificationPreference
from btam.orgs.models import District
from btam.testing import DistrictFactory, make_member
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
State = OutboxMessage.State
INBOX = reverse("notifications:inbox")
DELIVERIES = reverse("notifications:deliveries")


@pytest.fixture
def district(frozen: Any) -> District:
    return DistrictFactory.create(name="Cedar Test District (fictitious)")


@pytest.fixture
def carol(district: District) -> User:
    return make_member(Role.TEAM_MEMBER, district, full_name="Carol Recipient", email="carol@example.test")


@pytest.fixture
def manager(district: District) -> User:
    return make_member(Role.DATABASE_MANAGER, district, full_name="Mona Manager")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tell(user: User, n: int, *, email: bool = True, urgent: bool = False) -> Notification:
    [item] = notify(
        recipients=[user],
        district_id=next(iter(user.district_ids())),
        kind=Notification.Kind.TASK_ASSIGNED,
        title=f"A task for case 2030-{n:04d} needs doing",
        link="/cases/",
        target=None,
        urgent=urgent,
        dedupe_scope=f"test:status:{n}",
        email=email,
    )
    return item


def fail(item: Notification, state: str = State.DEAD, error: str = "") -> OutboxMessage:
    assert item.email_outbox is not None
    OutboxMessage.objects.filter(pk=item.email_outbox.pk).update(
        state=state,
        attempts=10,
        last_error=error or "SMTPRecipientsRefused: {'carol@example.test': (550, b'no such user')}",
    )
    return OutboxMessage.objects.get(pk=item.email_outbox.pk)


def mark_sent(item: Notification) -> None:
    assert item.email_outbox is not None
    OutboxMessage.objects.filter(pk=item.email_outbox.pk).update(state=State.SENT)


# The inbox ---------------------------------------------------------------------------------------


def status_in_inbox(user: User) -> list[str]:
    html = client_for(user).get(INBOX).content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-status="')[1:]]


def test_each_inbox_item_says_what_happened_to_its_email(carol: User, frozen: Any) -> None:
    sent, waiting, failed, none = tell(carol, 1), tell(carol, 2), tell(carol, 3), tell(carol, 4, email=False)
    mark_sent(sent)
    fail(failed)
    expected = {
        sent.pk: DeliveryStatus.SENT,
        waiting.pk: DeliveryStatus.WAITING,
        failed.pk: DeliveryStatus.FAILED,
        none.pk: DeliveryStatus.NONE,
    }
    for item in Notification.objects.all():
        assert item.delivery_status == expected[item.pk]
    html = client_for(carol).get(INBOX).content.decode()
    for label in ("Email sent", "Email waiting to be sent", "Email could not be sent", "No email (inbox only)"):
        assert label in html
    assert sorted(status_in_inbox(carol)) == sorted(s.value for s in expected.values())


def test_an_item_held_for_the_digest_says_so(carol: User, frozen: Any) -> None:
    do_set_notification_preferences(
        actor=carol, delivery=NotificationPreference.Delivery.DAILY_DIGEST, digest_time=dt.time(7)
    )
    item = tell(carol, 1)
    assert item.delivery_status == DeliveryStatus.DIGEST_WAITING
    assert status_in_inbox(carol) == ["digest_waiting"]
    assert "In your next daily digest" in client_for(carol).get(INBOX).content.decode()


def test_a_retrying_email_shows_as_waiting(carol: User, frozen: Any) -> None:
    item = tell(carol, 1)
    assert item.email_outbox is not None
    OutboxMessage.objects.filter(pk=item.email_outbox.pk).update(state=State.PENDING, attempts=3)
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.WAITING


# Failed deliveries -------------------------------------------------------------------------------


def test_the_manager_lists_failed_and_dead_emails_of_their_district_without_content(
    carol: User, manager: User, frozen: Any
) -> None:
    dead = fail(tell(carol, 1), State.DEAD)
    refused = fail(tell(carol, 2), State.FAILED, error="PermanentDeliveryError: malformed")
    tell(carol, 3)  # waiting: not listed
    mark_sent(tell(carol, 4))  # sent: not listed
    elsewhere = make_member(Role.TEAM_MEMBER, DistrictFactory.create(), email="elsewhere@example.test")
    other = fail(tell(elsewhere, 5))
    response = client_for(manager).get(DELIVERIES)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="failed-delivery"') == 2
    for message in (dead, refused):
        assert reverse("notifications:requeue_delivery", args=[message.pk]) in html
    assert reverse("notifications:requeue_delivery", args=[other.pk]) not in html
    assert "Carol Recipient" in html  # whose email it was, from the inbox item
    assert "SMTPRecipientsRefused" in html and "PermanentDeliveryError" in html
    # The subject is generic; the body and the addresses are never shown (not even from last_error).
    assert "[OpenBTAM] A task for case 2030-0001 needs doing" in html
    assert "carol@example.test" not in html and "no such user" not in html
    assert "Sign in to OpenBTAM to see them" not in html


def test_a_backup_administrator_sees_them_too(carol: User, district: District, frozen: Any) -> None:
    fail(tell(carol, 1))
    backup = make_member(Role.BACKUP_ADMIN, district)
    assert client_for(backup).get(DELIVERIES).content.decode().count('data-testid="failed-delivery"') == 1


def test_a_manager_of_another_district_sees_none(carol: User, frozen: Any) -> None:
    fail(tell(carol, 1))
    outsider = make_member(Role.DATABASE_MANAGER, DistrictFactory.create())
    html = client_for(outsider).get(DELIVERIES).content.decode()
    assert 'data-testid="failed-delivery"' not in html
    assert "No failed deliveries" in html


def test_team_members_cannot_reach_the_failed_deliveries(carol: User, frozen: Any) -> None:
    assert client_for(carol).get(DELIVERIES).status_code == 403
    assert "Failed email deliveries" not in client_for(carol).get(INBOX).content.decode()


def test_the_inbox_links_managers_to_the_failed_deliveries(manager: User) -> None:
    assert f'href="{DELIVERIES}"' in client_for(manager).get(INBOX).content.decode()


def test_requeueing_puts_it_back_in_the_outbox_and_audits_it(carol: User, manager: User, frozen: Any) -> None:
    message = fail(tell(carol, 1))
    response = client_for(manager).post(reverse("notifications:requeue_delivery", args=[message.pk]))
    assert response.status_code == 302 and response["Location"] == DELIVERIES
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (State.PENDING, 0, "")
    event = AuditEvent.objects.get(target_type="worker.outboxmessage", target_id=str(message.pk))
    assert event.verb == Verb.UPDATED and event.actor == manager
    assert event.before == {"state": State.DEAD, "attempts": 10}
    assert event.detail == {"kind": "email", "requeued": True}
    # The sweep delivers it now; the inbox item then says it was sent.
    frozen.advance(seconds=1)
    assert outbox.sweep() == {State.SENT: 1}
    assert Notification.objects.get().delivery_status == DeliveryStatus.SENT


def test_requeueing_one_that_is_not_failed_says_so(carol: User, manager: User) -> None:
    item = tell(carol, 1)
    assert item.email_outbox is not None
    response = client_for(manager).post(
        reverse("notifications:requeue_delivery", args=[item.email_outbox.pk]), follow=True
    )
    assert response.status_code == 200
    assert "That delivery is not failed: it is Waiting to be sent." in response.content.decode()
    assert OutboxMessage.objects.get(pk=item.email_outbox.pk).state == State.PENDING
    assert not AuditEvent.objects.filter(target_type="worker.outboxmessage").exists()
    with pytest.raises(RequeueError):
        do_requeue_delivery(actor=manager, message=item.email_outbox)


def test_requeueing_another_districts_delivery_is_not_found(carol: User, frozen: Any) -> None:
    message = fail(tell(carol, 1))
    outsider = make_member(Role.DATABASE_MANAGER, DistrictFactory.create())
    response = client_for(outsider).post(reverse("notifications:requeue_delivery", args=[message.pk]))
    assert response.status_code == 404
    assert OutboxMessage.objects.get(pk=message.pk).state == State.DEAD


def test_requeueing_a_delivery_that_does_not_exist_is_not_found(manager: User) -> None:
    assert client_for(manager).post(reverse("notifications:requeue_delivery", args=[999999])).status_code == 404


def test_requeue_is_a_post(carol: User, manager: User, frozen: Any) -> None:
    message = fail(tell(carol, 1))
    assert client_for(manager).get(reverse("notifications:requeue_delivery", args=[message.pk])).status_code == 405


def test_a_team_member_cannot_requeue(carol: User, frozen: Any) -> None:
    message = fail(tell(carol, 1))
    assert client_for(carol).post(reverse("notifications:requeue_delivery", args=[message.pk])).status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).state == State.DEAD
