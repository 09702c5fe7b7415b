"""Signing in: email and password, then the TOTP code; wrong, replayed and throttled attempts are
refused with a clear message (never a 500) and every one is in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from btam.accounts.models import User
from btam.accounts.tests.helpers import sign_in, submit_code, submit_password, totp_code, wrong_code
from btam.audit.models import AuditEvent, Verb

pytestmark = pytest.mark.django_db


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def events(verb: str, user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb, target_type="accounts.user", target_id=str(user.pk)))


def failures_named(email: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED, actor_name=email))


def test_the_sign_in_page_asks_for_email_and_password(client: Client) -> None:
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="email"' in html and 'name="password"' in html


def test_password_then_totp_code_signs_in(client: Client, leader: User) -> None:
    response = submit_password(client, leader.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone does not sign in: data pages still send the visitor to sign in.
    assert signed_in_user_id(client) is None
    assert client.get(reverse("core:home")).status_code == 302

    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()

    response = submit_code(client, totp_code())
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert signed_in_user_id(client) == str(leader.pk)
    assert client.get(reverse("core:home")).status_code == 200
    assert len(events(Verb.LOGIN, leader)) == 1


def test_a_replayed_totp_code_is_refused(leader: User) -> None:
    first, second = Client(), Client()
    submit_password(first, leader.email)
    code = totp_code()
    assert submit_code(first, code).status_code == 302

    submit_password(second, leader.email)
    response = submit_code(second, code)
    assert response.status_code == 200
    assert "already been used" in response.content.decode()
    assert signed_in_user_id(second) is None
    refused = failures_named(leader.email)
    assert len(refused) == 1 and "second-factor code" in refused[0].reason
    assert refused[0].target_id == str(leader.pk)


def test_a_wrong_totp_code_is_refused_and_audited_then_the_right_one_works(client: Client, leader: User) -> None:
    submit_password(client, leader.email)
    code = totp_code()
    response = submit_code(client, wrong_code(code))
    assert response.status_code == 200
    assert "That code is wrong" in response.content.decode()
    assert signed_in_user_id(client) is None
    [failed] = failures_named(leader.email)
    assert failed.reason.startswith("wrong or reused second-factor code")
    assert failed.detail == {"authenticator": "totp"}
    assert failed.actor_id is None

    assert submit_code(client, code).status_code == 302
    assert signed_in_user_id(client) == str(leader.pk)


def test_a_wrong_password_is_refused_without_saying_whether_the_account_exists(client: Client, leader: User) -> None:
    wrong = submit_password(client, leader.email, "not-the-right-password-9")
    unknown = submit_password(client, "nobody@example.test", "not-the-right-password-9")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert signed_in_user_id(client) is None
    [attempt] = failures_named(leader.email)
    assert attempt.target_id == str(leader.pk)  # seen by the account's district auditors
    [unknown_attempt] = failures_named("nobody@example.test")
    assert unknown_attempt.target_id == ""
    # The password typed is never recorded.
    assert not AuditEvent.objects.filter(reason__contains="not-the-right-password").exists()
    assert not AuditEvent.objects.filter(detail__icontains="not-the-right-password").exists()


def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(
    client: Client, leader: User, colleague: User
) -> None:
    for _ in range(5):
        assert submit_password(client, leader.email, "not-the-right-password-9").status_code == 200
    response = submit_password(client, leader.email)
    # allauth answers the form again with an error (200), not a 429 page; never a 500.
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert client.session.get("account_login") is None
    locked = failures_named(leader.email)
    assert len(locked) == 6
    assert any("locked out" in e.reason for e in locked)

    # Another account from the same address is not locked (the per-address limit is 10 a minute).
    assert submit_password(Client(), colleague.email).status_code == 302


def test_the_lockout_lifts_when_its_cache_entries_expire(client: Client, leader: User) -> None:
    for _ in range(5):
        submit_password(client, leader.email, "not-the-right-password-9")
    assert submit_password(client, leader.email).status_code == 200
    # The counters live in the database cache table; move their expiry fifteen minutes on.
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        expired = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0) - timedelta(seconds=1))
        cursor.execute(f"UPDATE {table} SET expires = %s", [expired])  # noqa: S608
        assert cursor.rowcount > 0
    assert submit_password(client, leader.email).status_code == 302


def test_throttling_uses_the_database_cache() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "10/m/ip,5/15m/key"
    cache.set("btam-test-key", "x", 60)
    table = settings.CACHES["default"]["LOCATION"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (table name from settings)
        assert cursor.fetchone()[0] == 1


def test_five_wrong_codes_lock_the_second_step_too(client: Client, leader: User) -> None:
    submit_password(client, leader.email)
    code = totp_code()
    for _ in range(5):
        assert submit_code(client, wrong_code(code)).status_code == 200
    response = submit_code(client, code)
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert signed_in_user_id(client) is None
    refused = failures_named(leader.email)
    assert len(refused) == 6
    assert sum("locked out" in e.reason for e in refused) == 1


def test_signing_out_is_audited_and_ends_the_session(client: Client, leader: User) -> None:
    sign_in(client, leader.email)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert len(events(Verb.LOGOUT, leader)) == 1
    assert client.get(reverse("core:home")).status_code == 302


def test_sign_out_is_post_only(client: Client, leader: User) -> None:
    sign_in(client, leader.email)
    client.get(reverse("account_logout"))
    assert signed_in_user_id(client) == str(leader.pk)


def test_many_sign_in_attempts_from_one_address_are_throttled(client: Client) -> None:
    """Beyond 10 failures a minute from one address the form answers "too many"; beyond 30 posts
    a minute the sign-in page answers 429. Never a 500."""
    statuses = []
    for n in range(31):
        statuses.append(submit_password(client, f"guess{n}@example.test", "not-the-right-password-9").status_code)
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    last = submit_password(client, "guess@example.test", "not-the-right-password-9")
    assert last.status_code == 429
    assert "Too Many Requests" in last.content.decode()
    # Only the attempts that reached the password check were recorded, plus the refusals.
    assert AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED).count() == 30
