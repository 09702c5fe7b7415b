"""Sessions end after 30 idle minutes (BTAM_SESSION_IDLE_MINUTES), and "sign out everywhere"
ends every session of the account at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from btam.accounts.middleware import _RENEWED_KEY, SESSION_RENEW_SECONDS
from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb

pytestmark = pytest.mark.django_db


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_the_idle_timeout_is_thirty_minutes_renewed_by_requests() -> None:
    assert settings.BTAM_SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # Renewed by SessionRenewalMiddleware (once a minute at most), inside SessionMiddleware.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    chain = settings.MIDDLEWARE
    renewal = chain.index("btam.accounts.middleware.SessionRenewalMiddleware")
    assert renewal == chain.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_each_request_pushes_the_expiry_thirty_minutes_ahead(client: Client, leader: User) -> None:
    client.force_login(leader)
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get(reverse("core:home")).status_code == 200
    remaining = session_row(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_a_session_renewed_less_than_a_minute_ago_is_not_written_again(client: Client, leader: User) -> None:
    client.force_login(leader)
    assert client.get(reverse("core:home")).status_code == 200  # renewed now
    soon = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(pk=client.session.session_key).update(expire_date=soon)
    assert client.get(reverse("core:home")).status_code == 200
    assert session_row(client).expire_date == soon  # not written: renewed seconds ago


def test_a_session_renewed_a_minute_ago_is_renewed_again(client: Client, leader: User) -> None:
    client.force_login(leader)
    assert client.get(reverse("core:home")).status_code == 200
    session = client.session
    session[_RENEWED_KEY] = int(timezone.now().timestamp()) - SESSION_RENEW_SECONDS
    session.save()
    Session.objects.filter(pk=session.session_key).update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get(reverse("core:home")).status_code == 200
    remaining = session_row(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_a_renewal_mark_from_the_future_renews_the_session(client: Client, leader: User) -> None:
    client.force_login(leader)
    session = client.session
    session[_RENEWED_KEY] = int(timezone.now().timestamp()) + 3600  # a clock that went back
    session.save()
    Session.objects.filter(pk=session.session_key).update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get(reverse("core:home")).status_code == 200
    assert session_row(client).expire_date - timezone.now() > timedelta(minutes=29)


def test_a_session_idle_past_its_expiry_is_signed_out(client: Client, leader: User) -> None:
    client.force_login(leader)
    assert client.get(reverse("core:home")).status_code == 200
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_a_session_just_inside_its_idle_time_stays_signed_in(client: Client, leader: User) -> None:
    client.force_login(leader)
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get(reverse("core:home")).status_code == 200


def test_the_session_cookie_is_not_kept_after_the_browser_closes(client: Client, leader: User) -> None:
    client.force_login(leader)
    response = client.get(reverse("core:home"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_sign_out_everywhere_ends_every_session_of_the_account(leader: User, colleague: User) -> None:
    laptop, phone, someone_else = Client(), Client(), Client()
    laptop.force_login(leader)
    phone.force_login(leader)
    someone_else.force_login(colleague)
    assert phone.get(reverse("core:home")).status_code == 200

    response = laptop.post(reverse("accounts_sign_out_everywhere"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    for client in (laptop, phone):
        home = client.get(reverse("core:home"))
        assert home.status_code == 302 and home["Location"].startswith(reverse("account_login"))
    # Other accounts are untouched.
    assert someone_else.get(reverse("core:home")).status_code == 200

    [event] = AuditEvent.objects.filter(verb=Verb.LOGOUT_EVERYWHERE)
    assert event.actor_id == leader.pk and event.target_id == str(leader.pk)
    leader.refresh_from_db()
    assert leader.session_generation == 1

    # Signing in again works.
    laptop.force_login(leader)
    assert laptop.get(reverse("core:home")).status_code == 200


def test_the_security_page_offers_sign_out_everywhere(client: Client, leader: User) -> None:
    client.force_login(leader)
    html = client.get(reverse("accounts_security")).content.decode()
    assert f'action="{reverse("accounts_sign_out_everywhere")}"' in html


def test_sign_out_everywhere_needs_a_post_with_a_valid_form_token(leader: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)
    assert client.get(reverse("accounts_sign_out_everywhere")).status_code == 405
    refused = client.post(reverse("accounts_sign_out_everywhere"))
    assert refused.status_code == 403
    assert "This form has expired" in refused.content.decode()
    leader.refresh_from_db()
    assert leader.session_generation == 0
    assert not AuditEvent.objects.filter(verb=Verb.LOGOUT_EVERYWHERE).exists()
