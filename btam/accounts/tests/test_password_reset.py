"""Password reset by email: the message holds a one-time link and nothing about the account's
data; an unknown address gets the same answer (no enumeration) and no email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a lighthouse keeper counts seven gulls"


def request_reset(client: Client, email: str) -> str:
    response = client.post(reverse("account_reset_password"), {"email": email})
    assert response.status_code == 302
    return str(response["Location"])


def reset_link(message: mail.EmailMessage) -> str:
    match = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_a_reset_email_holds_a_link_and_nothing_about_the_account(client: Client, leader: User) -> None:
    request_reset(client, leader.email)
    [message] = mail.outbox
    assert message.to == [leader.email]
    assert message.subject.startswith("[OpenBTAM] ")
    reset_link(message)
    body = message.body.lower()
    for private in (leader.full_name, "team leader", "district", "school", "case", "student"):
        assert private.lower() not in body
    assert AuditEvent.objects.filter(verb=Verb.PASSWORD_RESET_REQUESTED, target_id=str(leader.pk)).count() == 1


def test_an_unknown_address_gets_the_same_answer_and_no_email(client: Client, leader: User) -> None:
    known = request_reset(client, leader.email)
    unknown = request_reset(Client(), "nobody-here@example.test")
    assert known == unknown == reverse("account_reset_password_done")
    assert [m.to for m in mail.outbox] == [[leader.email]]
    page = client.get(unknown).content.decode()
    assert "nobody-here" not in page


def test_the_link_sets_a_new_password_once(client: Client, leader: User) -> None:
    other_device = Client()
    other_device.force_login(leader)
    request_reset(client, leader.email)
    link = reset_link(mail.outbox[0])

    form_url = client.get(link)["Location"]
    assert client.get(form_url).status_code == 200
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")

    leader.refresh_from_db()
    assert leader.check_password(NEW_PASSWORD) and not leader.check_password(TEST_PASSWORD)
    # Not signed in by the reset (the second factor is still needed), and old sessions ended.
    assert "_auth_user_id" not in client.session
    assert other_device.get(reverse("core:home")).status_code == 302
    assert AuditEvent.objects.filter(verb=Verb.PASSWORD_RESET, target_id=str(leader.pk)).count() == 1

    # The same link a second time: refused with a clear page.
    again = Client()
    second = again.get(link, follow=True)
    assert second.status_code == 200
    assert "has already been used" in second.content.decode()
    assert 'name="password1"' not in second.content.decode()


def test_a_weak_new_password_is_refused_and_the_old_one_kept(client: Client, leader: User) -> None:
    request_reset(client, leader.email)
    form_url = client.get(reset_link(mail.outbox[0]))["Location"]
    response = client.post(form_url, {"password1": "sunshine123456", "password2": "sunshine123456"})
    assert response.status_code == 200
    assert "common password" in response.content.decode()
    leader.refresh_from_db()
    assert leader.check_password(TEST_PASSWORD)
    assert not AuditEvent.objects.filter(verb=Verb.PASSWORD_RESET).exists()


def test_a_tampered_reset_link_is_refused(client: Client, leader: User) -> None:
    request_reset(client, leader.email)
    link = reset_link(mail.outbox[0])
    tampered = link[:-6] + ("0" if link[-6] != "0" else "1") + link[-5:]
    response = client.get(tampered, follow=True)
    assert response.status_code == 200
    assert 'name="password1"' not in response.content.decode()
