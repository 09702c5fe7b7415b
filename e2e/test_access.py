"""Access denials as a browser sees them: the "Access denied" page, and sign-in for visitors."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from btam.accounts.models import User
from btam.orgs.models import District
from e2e.helpers import sign_in


def test_a_team_member_is_denied_the_audit_trail(page: Page, team_member: User) -> None:
    sign_in(page, team_member.email)

    response = page.goto("/audit/")

    assert response is not None
    assert response.status == 403
    expect(page).to_have_title("Access denied · OpenBTAM")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
    # Still signed in, with the way back in the header.
    expect(page.get_by_role("button", name="Sign out (Robin)")).to_be_visible()


def test_an_anonymous_visitor_is_sent_to_sign_in(page: Page, district: District) -> None:
    page.goto("/")

    expect(page).to_have_url("/accounts/login/?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign In")
    expect(page.get_by_text("North Test High")).to_have_count(0)
