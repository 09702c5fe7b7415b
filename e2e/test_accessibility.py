"""axe-core (WCAG 2.0 and 2.1, levels A and AA) finds nothing on the pages every user sees.

The enrolment page and the demo workspace are checked in test_enrolment.py and test_demo.py.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from btam.accounts.models import User
from e2e.conftest import AxeCheck
from e2e.helpers import submit_password, submit_totp


def test_the_sign_in_page_is_accessible(axe_page: Page, axe_check: AxeCheck) -> None:
    axe_page.goto("/accounts/login/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Sign In")

    axe_check(axe_page)


def test_the_sign_in_page_showing_an_error_is_accessible(
    axe_page: Page, team_member: User, axe_check: AxeCheck
) -> None:
    submit_password(axe_page, team_member.email, "not-the-password-at-all")
    expect(axe_page.get_by_role("alert")).to_be_visible()

    axe_check(axe_page)


def test_the_code_prompt_the_workspace_and_access_denied_are_accessible(
    page: Page, team_leader: User, axe_check: AxeCheck
) -> None:
    submit_password(page, team_leader.email)
    expect(page).to_have_url("/accounts/2fa/authenticate/")
    axe_check(page)

    submit_totp(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    axe_check(page)

    response = page.goto("/audit/")  # team leaders do not read the audit trail
    assert response is not None
    assert response.status == 403
    axe_check(page)
