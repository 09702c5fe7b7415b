"""Signing in with email, password and an authenticator code; signing out."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from btam.accounts.models import User
from btam.testing import TOTP_SECRET
from e2e.conftest import BrowserLog
from e2e.helpers import hotp, sign_in, submit_password, submit_totp


def test_helper_codes_match_the_server() -> None:
    for counter in (0, 1, 59_000_000, 2**40):
        assert hotp(TOTP_SECRET, counter) == format_hotp_value(hotp_value(TOTP_SECRET, counter))


def test_it_signs_in_with_password_and_authenticator_code(
    page: Page, team_member: User, browser_log: BrowserLog
) -> None:
    submit_password(page, team_member.email)

    expect(page).to_have_url("/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    submit_totp(page)

    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    expect(page.get_by_text("Welcome, Robin.")).to_be_visible()
    expect(page.get_by_role("heading", name="North Test High")).to_be_visible()
    # The page's own styles and scripts load under the CSP: USWDS, site.css, htmx.
    expect(page.locator(".usa-skipnav")).to_have_css("position", "absolute")
    expect(page.locator("main")).to_have_css("padding-top", "24px")
    assert page.evaluate("typeof htmx") == "object"
    assert browser_log.csp_violations == []
    assert browser_log.script_errors == []


def test_a_wrong_authenticator_code_is_refused(page: Page, team_member: User) -> None:
    submit_password(page, team_member.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign In", exact=True).click()

    expect(page).to_have_url("/accounts/2fa/authenticate/")
    expect(page.get_by_role("alert")).to_contain_text("code")
    page.goto("/")  # not signed in: sent back to the pending second step
    expect(page).to_have_url("/accounts/2fa/authenticate/")


def test_a_wrong_password_is_refused(page: Page, team_member: User) -> None:
    submit_password(page, team_member.email, "not-the-password-at-all")

    expect(page).to_have_url("/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("not correct")


def test_it_signs_out_from_the_header(page: Page, team_member: User) -> None:
    sign_in(page, team_member.email)

    page.get_by_role("button", name="Sign out (Robin)").click()

    expect(page).to_have_url("/accounts/login/")
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
