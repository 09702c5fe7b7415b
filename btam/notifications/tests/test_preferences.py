"""Notification preferences: a person chooses immediate emails or a daily digest, for themselves
only; bad input is refused with a clear message and nothing saved; urgent ones never wait."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.notifications.actions import PreferenceError, do_set_notification_preferences
from btam.notifications.delivery import notify
from btam.notifications.models import Notification, NotificationPreference
from btam.testing import DistrictFactory, make_member
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
PREFERENCES = reverse("notifications:preferences")
DIGEST = NotificationPreference.Delivery.DAILY_DIGEST
IMMEDIATELY = NotificationPreference.Delivery.IMMEDIATELY


@pytest.fixture
def alice(frozen: Any) -> User:
    return make_member(Role.TEAM_MEMBER, DistrictFactory.create(), full_name="Alice Prefers-Digest")


@pytest.fixture
def bob(alice: User) -> User:
    return make_member(Role.TEAM_LEADER, DistrictFactory.create(), full_name="Bob Other-Person")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tell(user: User, n: int, *, urgent: bool = False) -> Notification:
    [item] = notify(
        recipients=[user],
        district_id=next(iter(user.district_ids())),
        kind=Notification.Kind.TASK_ASSIGNED,
        title=f"A task for case 2030-00{n:02d} needs doing",
        link="/cases/",
        target=None,
        urgent=urgent,
        dedupe_scope=f"test:pref:{n}",
        email=True,
    )
    return item


# The page --------------------------------------------------------------------------------------


def test_the_page_shows_the_default_and_says_urgent_ones_always_go_at_once(alice: User) -> None:
    response = client_for(alice).get(PREFERENCES)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="immediately" checked' in html
    assert 'value="07:00"' in html
    assert "always emailed immediately, whatever you choose" in html
    assert 'for="id_digest_time"' in html  # every field has its label
    assert not NotificationPreference.objects.exists()  # looking saves nothing


def test_the_inbox_links_to_the_preferences(alice: User) -> None:
    html = client_for(alice).get(reverse("notifications:inbox")).content.decode()
    assert f'href="{PREFERENCES}"' in html


def test_choosing_the_digest_saves_it_and_audits_the_change(alice: User) -> None:
    response = client_for(alice).post(PREFERENCES, {"delivery": DIGEST, "digest_time": "18:30"})
    assert response.status_code == 302
    assert response["Location"] == PREFERENCES
    preference = NotificationPreference.objects.get(user=alice)
    assert (preference.delivery, preference.digest_time) == (DIGEST, dt.time(18, 30))
    event = AuditEvent.objects.get(target_type="notifications.notificationpreference")
    assert event.verb == Verb.UPDATED and event.actor == alice
    assert event.before == {"delivery": IMMEDIATELY, "digest_time": "07:00"}
    assert event.after == {"delivery": DIGEST, "digest_time": "18:30"}
    page = client_for(alice).get(PREFERENCES).content.decode()
    assert 'value="daily_digest" checked' in page and 'value="18:30"' in page


def test_choosing_immediately_without_a_time_keeps_the_saved_time(alice: User) -> None:
    do_set_notification_preferences(actor=alice, delivery=DIGEST, digest_time=dt.time(6, 15))
    response = client_for(alice).post(PREFERENCES, {"delivery": IMMEDIATELY, "digest_time": ""})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=alice)
    assert (preference.delivery, preference.digest_time) == (IMMEDIATELY, dt.time(6, 15))


# Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["25:00", "7pm", "12:61", "noon", "07:30:99"])
def test_an_invalid_time_is_refused_with_the_typed_value_kept(alice: User, typed: str) -> None:
    response = client_for(alice).post(PREFERENCES, {"delivery": DIGEST, "digest_time": typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the time as hours and minutes on a 24-hour clock, for example 07:30." in html
    assert f'value="{typed}"' in html  # nothing typed is lost
    assert 'value="daily_digest" checked' in html
    assert not NotificationPreference.objects.exists()
    assert not AuditEvent.objects.filter(target_type="notifications.notificationpreference").exists()


def test_the_digest_without_a_time_is_refused(alice: User) -> None:
    response = client_for(alice).post(PREFERENCES, {"delivery": DIGEST, "digest_time": ""})
    assert response.status_code == 400
    assert "Enter the time of the daily digest, for example 07:30." in response.content.decode()
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("choice", ["hourly", "", "IMMEDIATELY"])
def test_an_unknown_choice_is_refused(alice: User, choice: str) -> None:
    response = client_for(alice).post(PREFERENCES, {"delivery": choice, "digest_time": "07:00"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose one of the options shown" in html or "Choose how your emails should come." in html
    assert not NotificationPreference.objects.exists()


def test_someone_elses_preferences_cannot_be_set(alice: User, bob: User) -> None:
    """There is no way to name another person: a smuggled ``user`` field changes only one's own."""
    response = client_for(alice).post(
        PREFERENCES, {"delivery": DIGEST, "digest_time": "18:00", "user": bob.pk, "user_id": bob.pk}
    )
    assert response.status_code == 302
    assert NotificationPreference.objects.get().user == alice
    assert not NotificationPreference.objects.filter(user=bob).exists()
    assert list(NotificationPreference.objects.visible_to(bob)) == []


def test_someone_elses_preferences_are_not_shown(alice: User, bob: User) -> None:
    do_set_notification_preferences(actor=bob, delivery=DIGEST, digest_time=dt.time(21, 45))
    html = client_for(alice).get(PREFERENCES + f"?user={bob.pk}").content.decode()
    assert 'value="21:45"' not in html and 'value="immediately" checked' in html


def test_the_action_refuses_an_unknown_choice_and_a_non_time(alice: User) -> None:
    with pytest.raises(PreferenceError):
        do_set_notification_preferences(actor=alice, delivery="hourly", digest_time=dt.time(7))
    with pytest.raises(PreferenceError):
        do_set_notification_preferences(actor=alice, delivery=DIGEST, digest_time="07:00")  # type: ignore[arg-type]
    assert not NotificationPreference.objects.exists()


def test_the_page_refuses_other_methods(alice: User) -> None:
    assert client_for(alice).put(PREFERENCES).status_code == 405


def test_an_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(PREFERENCES)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# What the choice does --------------------------------------------------------------------------


def test_a_digest_person_gets_the_inbox_item_at_once_and_no_email(alice: User) -> None:
    do_set_notification_preferences(actor=alice, delivery=DIGEST, digest_time=dt.time(7))
    item = tell(alice, 1)
    assert Notification.objects.for_user(alice).get() == item
    assert item.in_digest and item.email_outbox is None
    assert not OutboxMessage.objects.filter(kind="email").exists()


def test_an_urgent_notification_is_emailed_at_once_whatever_the_preference(alice: User) -> None:
    do_set_notification_preferences(actor=alice, delivery=DIGEST, digest_time=dt.time(7))
    item = tell(alice, 2, urgent=True)
    assert not item.in_digest
    assert item.email_outbox is not None
    assert item.email_outbox.payload["to"] == [alice.email]


def test_someone_who_chose_immediately_gets_each_email(alice: User) -> None:
    do_set_notification_preferences(actor=alice, delivery=IMMEDIATELY, digest_time=dt.time(7))
    item = tell(alice, 3)
    assert not item.in_digest and item.email_outbox is not None
