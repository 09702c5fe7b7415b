"""The inbox pages: a person's own notifications only, opening marks read and goes to a path on this
site only, mark all read, pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.notifications.delivery import notify
from btam.notifications.models import Notification
from btam.notifications.tests.helpers import T0
from btam.notifications.views import PAGE_SIZE
from btam.testing import DistrictFactory, UserFactory, give_totp, make_member
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
INBOX = reverse("notifications:inbox")
READ_ALL = reverse("notifications:mark_all_read")


# The inbox is the same page for every account; these hold access levels without triage pages.
@pytest.fixture
def alice(frozen: Any) -> User:
    return make_member(Role.AUDITOR, DistrictFactory.create(), full_name="Alice Inbox-Owner")


@pytest.fixture
def bob(alice: User) -> User:
    user = UserFactory.create(full_name="Bob Other-Person")
    give_totp(user)
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def item(user: User, n: int, *, urgent: bool = False, link: str = "/people/", email: bool = False) -> Notification:
    district_id = user.district_ids().pop() if user.district_ids() else DistrictFactory.create().pk
    [made] = notify(
        recipients=[user],
        district_id=district_id,
        kind=Notification.Kind.URGENT_REPORT if urgent else Notification.Kind.NEW_REPORT,
        title=f"Synthetic notice number {n}",
        link=link,
        target=None,
        urgent=urgent,
        dedupe_scope=f"test:{n}",
        email=email,
    )
    Notification.objects.filter(pk=made.pk).update(created_at=T0 + dt.timedelta(minutes=n))
    made.refresh_from_db()
    return made


def open_url(n: Notification) -> str:
    return reverse("notifications:open", args=[n.pk])


def test_the_inbox_lists_my_notifications_newest_first_and_marks_unread_and_urgent(alice: User, bob: User) -> None:
    item(alice, 1)
    item(alice, 2, urgent=True, email=True)
    read = item(alice, 3)
    Notification.objects.filter(pk=read.pk).update(read_at=T0)
    item(bob, 4)
    response = client_for(alice).get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert [n.title for n in response.context["notifications"]] == [
        "Synthetic notice number 3",
        "Synthetic notice number 2",
        "Synthetic notice number 1",
    ]
    assert "Synthetic notice number 4" not in html
    assert html.count('data-unread="true"') == 2
    assert html.count(">Unread</span>") == 2  # in words, not only by colour
    assert "Urgent:" in html and ">Urgent</span>" in html
    assert "You have 2 unread notifications." in html
    assert "Email waiting to be sent" in html  # the delivery status of the urgent one
    assert 'data-testid="unread-count">2' in html  # the navigation badge


def test_the_unread_filter(alice: User) -> None:
    item(alice, 1)
    read = item(alice, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=T0)
    response = client_for(alice).get(INBOX, {"show": "unread"})
    assert [n.title for n in response.context["notifications"]] == ["Synthetic notice number 1"]


def test_the_inbox_is_paginated_and_htmx_gets_the_list_alone(alice: User) -> None:
    for n in range(PAGE_SIZE + 5):
        item(alice, n)
    client = client_for(alice)
    first = client.get(INBOX)
    assert len(first.context["notifications"]) == PAGE_SIZE
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(INBOX, {"page": 2}, headers={"HX-Request": "true"})
    assert len(second.context["notifications"]) == 5
    assert "<html" not in second.content.decode()
    assert client.get(INBOX, {"page": "not-a-number"}).status_code == 200
    assert client.get(INBOX, {"page": "999"}).context["page"].number == 2


def test_an_empty_inbox(alice: User) -> None:
    html = client_for(alice).get(INBOX).content.decode()
    assert "No notifications yet." in html
    assert "Mark all read" not in html


def test_opening_marks_read_audits_and_goes_to_the_link(alice: User, frozen: Any) -> None:
    n = item(alice, 1, link="/people/?from=inbox")
    response = client_for(alice).post(open_url(n))
    assert response.status_code == 302
    assert response["Location"] == "/people/?from=inbox"
    n.refresh_from_db()
    assert n.read_at == frozen.now()
    event = AuditEvent.objects.get(target_type="notifications.notification", target_id=str(n.pk))
    assert (event.actor, event.verb) == (alice, Verb.UPDATED)
    # Opening it again changes nothing more.
    client_for(alice).post(open_url(n))
    assert AuditEvent.objects.filter(target_type="notifications.notification").count() == 1


@pytest.mark.parametrize("link", ["https://evil.test/phish", "//evil.test/phish", "/\\evil.test", "", "javascript:x"])
def test_opening_never_redirects_off_the_site(alice: User, link: str) -> None:
    n = item(alice, 1)
    Notification.objects.filter(pk=n.pk).update(link=link)  # however it got there
    response = client_for(alice).post(open_url(n))
    assert response.status_code == 302
    assert response["Location"] == INBOX


def test_nobody_opens_another_persons_notification(alice: User, bob: User) -> None:
    n = item(bob, 1)
    response = client_for(alice).post(open_url(n))
    assert response.status_code == 404
    n.refresh_from_db()
    assert n.read_at is None
    assert client_for(alice).post(reverse("notifications:open", args=[999999])).status_code == 404


def test_opening_is_a_post(alice: User) -> None:
    n = item(alice, 1)
    assert client_for(alice).get(open_url(n)).status_code == 405
    n.refresh_from_db()
    assert n.read_at is None


def test_an_inactive_account_sees_no_inbox(alice: User) -> None:
    n = item(alice, 1)
    client = client_for(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert client.post(open_url(n)).status_code in (302, 403, 404)
    n.refresh_from_db()
    assert n.read_at is None


def test_anonymous_visitors_are_sent_to_sign_in(alice: User) -> None:
    n = item(alice, 1)
    for response in (Client().get(INBOX), Client().post(open_url(n)), Client().post(READ_ALL)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read_marks_mine_only(alice: User, bob: User, frozen: Any) -> None:
    for n in range(3):
        item(alice, n)
    theirs = item(bob, 9)
    response = client_for(alice).post(READ_ALL, follow=True)
    assert "3 notifications marked read." in response.content.decode()
    assert not Notification.objects.for_user(alice).unread().exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    event = AuditEvent.objects.get(target_type="notifications.notification", verb=Verb.UPDATED)
    assert event.detail == {"all": True, "count": 3}
    response = client_for(alice).post(READ_ALL, follow=True)
    assert "There was nothing unread." in response.content.decode()
    assert client_for(alice).get(READ_ALL).status_code == 405


def test_the_email_state_shown_follows_the_outbox(alice: User) -> None:
    n = item(alice, 1, email=True)
    assert n.email_outbox is not None
    OutboxMessage.objects.filter(pk=n.email_outbox.pk).update(state=OutboxMessage.State.SENT)
    assert "Email sent" in client_for(alice).get(INBOX).content.decode()
