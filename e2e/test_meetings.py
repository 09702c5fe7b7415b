"""Case conferences and the calendar feed as a browser sees them: the leader opens the Meetings tab,
is refused an end before the start (the agenda typed stays), schedules a conference inviting a
member, and makes a calendar link whose feed lists the conference by case number only. axe-core
checks the tab (with its errors), the conference's page and the calendar page.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import Page, expect

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case
from btam.meetings.models import Meeting
from btam.orgs.models import District
from btam.testing import make_member
from e2e.conftest import AxeCheck
from e2e.helpers import sign_in

AGENDA = "Review the supervision plan; hear from the counselor"


def fill_times(page: Page, day: dt.date, starts: str, ends: str) -> None:
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_label("Starts at").fill(starts)
    page.get_by_label("Ends at").fill(ends)


def test_the_leader_schedules_a_conference_and_subscribes_to_the_calendar(
    axe_page: Page, axe_check: AxeCheck, district: District, team_leader: User
) -> None:
    school = district.schools.get(name="North Test High")
    make_member(
        Role.TEAM_MEMBER, district, schools=[school], email="robin.member@example.test", full_name="Robin Member"
    )
    case: Case = actions.do_open_case(actor=team_leader, school=school, title="Concern in the north building (test)")
    day = timezone.localdate() + dt.timedelta(days=3)

    # The CSP-bypassing page: axe-core checks states a reload would lose (a form's errors, a new link).
    page = axe_page
    sign_in(page, team_leader.email)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name="Meetings").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/meetings/$"))
    expect(page.get_by_role("heading", level=2, name="Meetings")).to_be_visible()
    axe_check(page)

    # An end before the start is refused; what was typed stays.
    page.get_by_text("Schedule a case conference").click()
    fill_times(page, day, "14:00", "13:00")
    page.get_by_label("Agenda").fill(AGENDA)
    robin = page.get_by_role("checkbox", name="Robin Member")
    page.locator(f"label[for='{robin.get_attribute('id')}']").click()  # USWDS draws the box with the label
    expect(robin).to_be_checked()
    page.get_by_role("button", name="Schedule the conference").click()
    expect(page.get_by_test_id("meeting-error")).to_have_text("The conference was not scheduled: check the form.")
    expect(page.get_by_text("The meeting ends before it starts: the end must be after the start.")).to_be_visible()
    expect(page.get_by_label("Agenda")).to_have_value(AGENDA)
    expect(page.get_by_role("checkbox", name="Robin Member")).to_be_checked()
    assert not Meeting.objects.exists()
    axe_check(page)

    fill_times(page, day, "14:00", "15:00")
    page.get_by_role("button", name="Schedule the conference").click()
    expect(page.get_by_role("status").filter(has_text="Conference scheduled")).to_be_visible()
    meeting = Meeting.objects.get()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/meetings/{meeting.pk}/$"))
    expect(page.get_by_test_id("agenda")).to_contain_text(AGENDA)
    expect(page.get_by_test_id("invitees")).to_contain_text("Robin Member")
    expect(page.get_by_test_id("invitees")).to_contain_text(team_leader.full_name)  # ticked for the scheduler
    axe_check(page)

    # The calendar link, from the account page: shown once; its feed names the case number only.
    page.goto("/accounts/security/")
    page.get_by_role("link", name="Calendar feed").click()
    expect(page.get_by_test_id("calendar-status")).to_have_text("You have no calendar link.")
    page.get_by_role("button", name="Create a calendar link").click()
    url = page.get_by_test_id("calendar-url").input_value()
    assert re.search(r"/calendar/feed/[A-Za-z0-9_-]{43}\.ics$", url)
    axe_check(page)

    feed = page.request.get(urlsplit(url).path)  # the live server, not the configured public address
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    text = feed.text()
    assert f"SUMMARY:Case conference: case {case.number}" in text
    assert AGENDA not in text and "Robin" not in text and "north building" not in text
