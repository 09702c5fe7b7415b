"""Signing in through the real forms, and codes from the test authenticator."""

from __future__ import annotations

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from btam.testing import TEST_PASSWORD, TOTP_SECRET

PERIOD = 30


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The authenticator's current code. Waits out the last seconds of a 30-second window so the
    code is still current when the server checks it."""
    if time.time() % PERIOD > PERIOD - 3:
        time.sleep(PERIOD - time.time() % PERIOD + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // PERIOD))


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def submit_password(client: Client, email: str, password: str = TEST_PASSWORD) -> HttpResponse:
    return client.post(reverse("account_login"), {"login": email, "password": password})  # type: ignore[return-value]


def submit_code(client: Client, code: str) -> HttpResponse:
    return client.post(reverse("mfa_authenticate"), {"code": code})  # type: ignore[return-value]


def sign_in(client: Client, email: str, password: str = TEST_PASSWORD) -> HttpResponse:
    """Password, then the TOTP code: the whole sign-in of an enrolled account."""
    response = submit_password(client, email, password)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    return submit_code(client, totp_code())
