"""Resetting an account's access also ends its calendar link: "sign out everywhere" (what a lost
phone calls for), a password changed while signed in and a password reset from an emailed link.
The link is a credential of its own (the token in its address): ending sessions does not end it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from btam.accounts.actions import do_sign_out_everywhere
from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.meetings.actions import do_create_calendar_link
from btam.meetings.models import CalendarFeed
from btam.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a lighthouse keeper counts seven gulls"
FEED_TYPE = "meetings.calendarfeed"


def link_of(user: User) -> str:
    _feed, token = do_create_calendar_link(actor=user)
    return reverse("meetings:feed", args=[token])


def works(path: str) -> bool:
    response = Client().get(path)
    assert response.status_code in (200, 404)
    return response.status_code == 200


def revocations(user: User) -> list[AuditEvent]:
    feeds = [str(pk) for pk in CalendarFeed.objects.filter(user=user).values_list("pk", flat=True)]
    return list(AuditEvent.objects.filter(verb=Verb.UPDATED, target_type=FEED_TYPE, target_id__in=feeds).order_by("pk"))


def test_sign_out_everywhere_revokes_the_calendar_link(leader: User, colleague: User) -> None:
    lost_phone = link_of(leader)
    someone_elses = link_of(colleague)
    assert works(lost_phone)
    laptop = Client()
    laptop.force_login(leader)

    response = laptop.post(reverse("accounts_sign_out_everywhere"), follow=True)

    assert "your calendar link was revoked" in response.content.decode()
    assert not works(lost_phone)
    assert works(someone_elses)  # other people's links are untouched
    assert not CalendarFeed.objects.filter(user=leader).active().exists()
    [event] = revocations(leader)
    assert event.actor_id == leader.pk and event.reason == "signed out everywhere"
    [signed_out] = AuditEvent.objects.filter(verb=Verb.LOGOUT_EVERYWHERE)
    assert signed_out.detail == {"calendar_links_revoked": [CalendarFeed.objects.get(user=leader).pk]}


def test_sign_out_everywhere_without_a_calendar_link_only_ends_the_sessions(leader: User) -> None:
    laptop = Client()
    laptop.force_login(leader)

    response = laptop.post(reverse("accounts_sign_out_everywhere"), follow=True)

    html = response.content.decode()
    assert "You have been signed out on every device." in html
    assert "calendar link" not in html
    assert revocations(leader) == []
    [signed_out] = AuditEvent.objects.filter(verb=Verb.LOGOUT_EVERYWHERE)
    assert signed_out.detail == {"calendar_links_revoked": []}


def test_the_action_returns_the_links_it_revoked_and_a_second_call_revokes_nothing(leader: User) -> None:
    link_of(leader)
    [feed] = CalendarFeed.objects.filter(user=leader)
    assert do_sign_out_everywhere(actor=leader) == [feed.pk]
    assert do_sign_out_everywhere(actor=leader) == []
    assert len(revocations(leader)) == 1


def test_changing_the_password_revokes_the_calendar_link(client: Client, leader: User) -> None:
    path = link_of(leader)
    client.force_login(leader)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert not works(path)
    [event] = revocations(leader)
    assert event.actor_id == leader.pk and event.reason == "password changed"


def test_a_refused_new_password_keeps_the_calendar_link(client: Client, leader: User) -> None:
    path = link_of(leader)
    client.force_login(leader)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": "sunshine123456", "password2": "sunshine123456"},
    )

    assert response.status_code == 200
    assert works(path)
    assert revocations(leader) == []


def test_resetting_the_password_from_the_emailed_link_revokes_the_calendar_link(client: Client, leader: User) -> None:
    path = link_of(leader)
    client.post(reverse("account_reset_password"), {"email": leader.email})
    match = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", str(mail.outbox[0].body))
    assert match
    form_url = client.get(match.group(1))["Location"]

    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert not works(path)
    [event] = revocations(leader)
    # Nobody is signed in during a reset: the event names the account.
    assert event.actor_id is None and event.actor_name == leader.email and event.reason == "password reset"


def test_the_security_and_calendar_pages_say_the_link_is_revoked_too(client: Client, leader: User) -> None:
    client.force_login(leader)
    security = client.get(reverse("accounts_security")).content.decode()
    assert "revokes your calendar link" in security
    calendar = client.get(reverse("meetings:calendar")).content.decode()
    assert "when you sign out everywhere, and when you change or reset your password" in calendar
