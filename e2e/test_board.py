"""The leader's monitoring board as a browser sees it (issue 7's "Must show"): the team leader opens
the board from the navigation and sees a case whose reassessment is overdue (a level decided eight
days ago at "High", reassessed every 7 days: due yesterday), axe-core finds nothing, and the panels
refresh themselves: a report that arrives while the board is open appears without a reload, and
once the session has ended the panels disappear rather than stay stale.

The case is opened and its level put into effect with the domain's own code (the decision's
``apply_level``, as btam/assessments/tests/monitoring_helpers.py does); the board is read through
the browser only. The poll's interval is shortened to one second for the test.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import OperationalError
from playwright.sync_api import Page, expect

from btam.accounts.models import User
from btam.assessments.tests.monitoring_helpers import set_level
from btam.board import views as board_views
from btam.cases import actions
from btam.intake.actions import NewReport, do_submit_report
from btam.intake.models import YesNoUnknown
from btam.lib import clock
from btam.orgs.models import District
from e2e.conftest import AxeCheck
from e2e.helpers import sign_in

T = TypeVar("T")


def while_the_board_polls(write: Callable[[], T]) -> T:
    """Run a write of the test while the live server answers the board's polls: the test database
    (SQLite in memory, shared with the server's threads) refuses a write that meets a poll's read
    with "database table is locked"; the write is tried again (one transaction: nothing half done)."""
    for _attempt in range(50):
        try:
            return write()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.1)
    return write()


@pytest.fixture
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The board polls every second instead of every minute (the live server runs in this process)."""
    monkeypatch.setattr(board_views, "POLL_SECONDS", 1)


def test_the_leader_sees_an_overdue_reassessment_and_the_board_refreshes_itself(
    page: Page, axe_check: AxeCheck, district: District, team_leader: User, fast_poll: None
) -> None:
    school = district.schools.get(name="North Test High")
    case = actions.do_open_case(
        actor=team_leader, school=school, title="Threat written on a desk (test)", manager=team_leader
    )
    set_level(case, team_leader, "high", when=clock.now() - dt.timedelta(days=8))
    case.refresh_from_db()

    sign_in(page, team_leader.email)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Board").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring board")

    due = page.get_by_test_id("panel-due")
    expect(due.get_by_test_id("count")).to_have_text("1")
    row = due.get_by_test_id("board-due")
    expect(row).to_have_attribute("data-overdue", "true")
    expect(row).to_contain_text(case.number)
    expect(row).to_contain_text("1 day overdue")
    expect(row).to_contain_text("High")
    expect(page.get_by_test_id("board-panels")).not_to_contain_text("Threat written on a desk")
    axe_check(page)

    # A report arrives while the board is open: the poll brings it in, the page is not reloaded.
    page.evaluate("window.boardNotReloaded = true")
    expect(page.get_by_test_id("panel-reports").get_by_test_id("count")).to_have_text("0")
    new = NewReport(school=school, narrative="A threat heard on the bus (test).", weapon=YesNoUnknown.YES)
    arrived = while_the_board_polls(lambda: do_submit_report(new=new, actor=None).report)

    reports = page.get_by_test_id("panel-reports")
    expect(reports.get_by_test_id("count")).to_have_text("1")
    expect(reports.get_by_test_id("board-report")).to_contain_text(arrived.reference)
    expect(reports.get_by_test_id("board-report")).to_contain_text("Urgent")
    assert page.evaluate("window.boardNotReloaded") is True
    # Still polling after the swap, and the case is still there.
    expect(page.locator("#board-panels[hx-trigger='every 1s']")).to_have_count(1)
    expect(page.get_by_test_id("panel-due").get_by_test_id("board-due")).to_contain_text(case.number)

    # The link to the case's monitoring tab works.
    page.get_by_test_id("panel-due").get_by_role("link", name=case.number).click()
    expect(page).to_have_url(f"/cases/{case.pk}/monitoring/")

    # Signed out while the board is open (the session ended): the next poll meets the sign-in page,
    # which has no panels, so the numbers disappear instead of staying stale or showing that page.
    page.go_back()
    expect(page.get_by_test_id("board-panels")).to_have_count(1)
    page.context.clear_cookies()
    expect(page.get_by_test_id("board-panels")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring board")
    expect(page.get_by_label("Password")).to_have_count(0)
