"""Steps shared by the browser tests: an authenticator app's codes and signing in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from playwright.sync_api import Page

from btam.testing import TEST_PASSWORD, TOTP_SECRET

TOTP_PERIOD = 30
# A code read this close to the end of its period may expire before the server checks it.
TOTP_MARGIN_SECONDS = 3.0


def hotp(secret: str, counter: int, digits: int = 6) -> str:
    """RFC 4226 HOTP with SHA-1, as authenticator apps compute it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def totp_code(secret: str) -> str:
    """The RFC 6238 code an authenticator app shows now (waits out the last seconds of a period)."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < TOTP_MARGIN_SECONDS:
        time.sleep(left + 0.1)
    return hotp(secret, int(time.time()) // TOTP_PERIOD)


def submit_password(page: Page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()


def submit_totp(page: Page, secret: str = TOTP_SECRET) -> None:
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In", exact=True).click()


def sign_in(page: Page, email: str, password: str = TEST_PASSWORD, totp_secret: str = TOTP_SECRET) -> None:
    """Sign in with email, password and the current TOTP code; returns on the workspace."""
    submit_password(page, email, password)
    submit_totp(page, totp_secret)
    page.wait_for_url("/")
