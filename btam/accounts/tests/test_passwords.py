"""Passwords after NIST SP 800-63B: Argon2 hashes; at least 12 characters; common, breached-style
and padded passwords refused from offline lists; long passphrases welcome."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.testing import TEST_PASSWORD, UserFactory, give_totp


@pytest.mark.django_db
def test_new_passwords_are_hashed_with_argon2() -> None:
    user = UserFactory.create()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_an_older_pbkdf2_hash_is_upgraded_to_argon2_at_the_next_sign_in() -> None:
    user = UserFactory.create()
    User.objects.filter(pk=user.pk).update(password=make_password(TEST_PASSWORD, hasher="pbkdf2_sha256"))
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        pytest.param("Xk7#mq2!Lp9", "password_too_short", id="11-characters"),
        pytest.param("password1234", "password_too_common", id="password1234"),
        pytest.param("cookiemonster", "password_too_common", id="django-common-list"),
        pytest.param("aaaaaaaaaaaaaaaa", "password_repetitive", id="one-repeated-character"),
        pytest.param("abababababababab", "password_repetitive", id="two-repeated-characters"),
        pytest.param("123456789012", "password_sequence", id="number-run"),
        pytest.param("qwertyuiopasdf", "password_sequence", id="keyboard-run"),
        pytest.param("openbtam2026!!", "password_padded_common", id="product-name"),
        pytest.param("sunshine123456", "password_padded_common", id="padded-common"),
        pytest.param("!!!dragon2026", "password_padded_common", id="common-padded-both-ends"),
        pytest.param("x" * 10 + "Yz" * 124, "password_too_long", id="over-256-characters"),
    ],
)
def test_it_refuses_weak_passwords(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_password(password)
    assert code in {e.code for e in raised.value.error_list}


@pytest.mark.parametrize(
    "password",
    [
        "correct-horse-battery-staple-42",
        "the lantern by the river hums at dusk",
        "Tr0ub4dor&3-goes-walking",
        "ünïcödé pässphräse wörks tóo",
        # 66 characters: NIST asks that at least 64 be accepted.
        "a quiet harbour, seven gulls, one lighthouse, and a long walk home",
    ],
)
def test_it_accepts_long_passphrases(password: str) -> None:
    validate_password(password)


@pytest.mark.django_db
def test_a_password_like_the_email_address_is_refused() -> None:
    user = User(email="marguerite.okonkwo@example.test", full_name="Marguerite Okonkwo")
    with pytest.raises(ValidationError):
        validate_password("marguerite.okonkwo", user=user)


@pytest.mark.django_db
def test_the_change_password_form_explains_the_rule_and_keeps_the_old_password(client: Client) -> None:
    user = UserFactory.create()
    give_totp(user)
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": "sunshine123456", "password2": "sunshine123456"},
    )
    assert response.status_code == 200
    assert "common password with digits or symbols added" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_changing_the_password_is_audited_and_ends_other_sessions(client: Client) -> None:
    user = UserFactory.create()
    give_totp(user)
    client.force_login(user)
    other_device = Client()
    other_device.force_login(user)
    new = "seven quiet herons over the marsh"
    response = client.post(
        reverse("account_change_password"), {"oldpassword": TEST_PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert identify_hasher(user.password).algorithm == "argon2"
    [event] = AuditEvent.objects.filter(verb=Verb.PASSWORD_CHANGED)
    assert event.actor_id == user.pk and event.target_id == str(user.pk)
    assert client.get(reverse("core:home")).status_code == 200  # this session continues
    assert other_device.get(reverse("core:home")).status_code == 302  # the others end
