"""A new account must set up an authenticator app before it reaches anything else."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from btam.accounts.models import Role, User
from btam.orgs.models import District
from btam.testing import make_member
from e2e.conftest import AxeCheck
from e2e.helpers import submit_password, totp_code


@pytest.fixture
def newcomer(district: District) -> User:
    return make_member(Role.TEAM_MEMBER, district, totp=False, full_name="Casey Newcomer")


def test_a_new_account_enrols_an_authenticator_app(page: Page, newcomer: User, axe_check: AxeCheck) -> None:
    submit_password(page, newcomer.email)

    # Straight to enrolment: having just given the password, the account is not asked for it again.
    expect(page).to_have_url("/accounts/2fa/totp/activate/")
    axe_check(page)
    page.goto("/")  # the workspace is out of reach until enrolment is done
    expect(page).to_have_url("/accounts/2fa/totp/activate/")

    # What a person types into their authenticator app instead of scanning the QR code.
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    expect(page).to_have_url("/accounts/2fa/recovery-codes/")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    assert Authenticator.objects.filter(user=newcomer, type=Authenticator.Type.TOTP).exists()
