"""The demo district: its accounts sign in without a second factor, but only in demo mode."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from btam.core.demo import DEMO_DOMAIN, DEMO_PASSWORD, SCHOOLS, load_demo_district
from e2e.conftest import AxeCheck
from e2e.helpers import submit_password

LEADER = f"leader@{DEMO_DOMAIN}"


@pytest.fixture
def demo_district(transactional_db: None) -> None:
    load_demo_district()


def test_the_demo_team_leader_signs_in_and_sees_the_district(
    page: Page, settings: Settings, demo_district: None, axe_check: AxeCheck
) -> None:
    settings.DEMO_MODE = True

    submit_password(page, LEADER, DEMO_PASSWORD)

    expect(page).to_have_url("/")
    expect(page.get_by_role("region", name="Demo mode")).to_contain_text("DEMO")
    expect(page.get_by_text("Welcome, Dana.")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Cedar Ridge Unified School District")).to_be_visible()
    for _slug, name, _level in SCHOOLS:
        expect(page.get_by_role("heading", level=4, name=name)).to_be_visible()
    expect(page.get_by_role("region", name="Cases")).to_contain_text("open cases you manage")
    axe_check(page)


def test_demo_accounts_are_refused_outside_demo_mode(page: Page, settings: Settings, demo_district: None) -> None:
    settings.DEMO_MODE = False

    submit_password(page, LEADER, DEMO_PASSWORD)

    expect(page).to_have_url("/accounts/login/")
    expect(page.get_by_text("Demo accounts can only sign in while demo mode is on.")).to_be_visible()
    expect(page.get_by_role("region", name="Demo mode")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
