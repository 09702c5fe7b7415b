"""Teams as a browser sees them: a district-wide team leader opens the team of a school, adds a
member (refused the second time, with the message and the form kept), tries to make the leader
their own deputy (refused), names a deputy, then marks themselves away (bad dates refused, then
done, with a district-wide colleague as backup). The data-role warning shows while the district has
no database manager. axe-core checks every page visited, refused forms included. Teams and members
are set up with the actions; the rest goes through the page.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from btam.accounts.models import Role, User
from btam.lib import clock
from btam.orgs.models import District, School
from btam.teams import actions
from btam.teams.models import Absence, TeamMember
from btam.testing import make_member
from e2e.conftest import AxeCheck
from e2e.helpers import sign_in


def tick(scope: Locator, text: str) -> None:
    """Tick a checkbox or radio button by pressing its label, as a person does (USWDS draws the box
    with the label; the input itself is off screen)."""
    label = scope.locator("label.usa-checkbox__label:visible, label.usa-radio__label:visible").filter(
        has_text=re.compile(f"^{re.escape(text)}$")
    )
    expect(label).to_have_count(1)
    label.click()
    expect(scope.locator(f"[id='{label.get_attribute('for')}']")).to_be_checked()


@pytest.fixture
def school(district: District) -> School:
    return School.objects.get(district=district, name="North Test High")


@pytest.fixture
def counselor(district: District, school: School) -> User:
    return make_member(Role.TEAM_MEMBER, district, [school], full_name="Casey Counselor")


@pytest.fixture
def teacher(district: District, school: School) -> User:
    return make_member(Role.TEAM_MEMBER, district, [school], full_name="Terry Teacher")


def test_a_leader_builds_the_team_and_marks_themselves_away(
    axe_page: Page,
    axe_check: AxeCheck,
    district: District,
    school: School,
    team_leader: User,
    team_member: User,
    counselor: User,
    teacher: User,
) -> None:
    team = actions.do_create_team(actor=team_leader, district=district, school=school)
    actions.do_add_member(actor=team_leader, team=team, user=team_leader, disciplines=["administration"])
    actions.do_add_member(actor=team_leader, team=team, user=counselor, disciplines=["counseling"])
    actions.do_set_leaders(actor=team_leader, team=team, leader=team_leader, deputy=None)
    # axe-core checks each page as it is, refused forms included (they answer a POST).
    page = axe_page
    sign_in(page, team_leader.email)

    page.goto("/teams/")
    expect(page.get_by_test_id("data-role-warnings")).to_contain_text("has no active database manager")
    expect(page.get_by_test_id("team-row").filter(has_text="North Test High")).to_contain_text("Jordan Leader")
    axe_check(page)

    page.get_by_role("link", name="North Test High").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("North Test High team")
    expect(page.get_by_test_id("size-warning")).to_contain_text("2 core members")
    expect(page.get_by_test_id("coverage-missing")).to_contain_text("Legal counsel")
    axe_check(page)

    # Casey is already on the team: refused, with the ticked discipline kept.
    form = page.get_by_test_id("add-member-form")
    # As from a page opened before Casey was added (the list offers only people not on the team yet).
    page.evaluate(
        "([id]) => { const s = document.getElementById('id_add-user');"
        " const o = document.createElement('option'); o.value = id; o.text = 'again'; s.add(o); s.value = id; }",
        [counselor.pk],
    )
    tick(form, "Mental health")
    form.get_by_role("button", name="Add to the team").click()
    expect(
        page.get_by_role("alert").filter(has_text="Casey Counselor is already a member of this team.")
    ).to_be_visible()
    expect(page.get_by_test_id("add-member-form").get_by_label("Mental health")).to_be_checked()
    axe_check(page)

    form = page.get_by_test_id("add-member-form")
    form.get_by_label("Staff member").select_option(label=f"Terry Teacher ({teacher.email})")
    tick(form, "Instruction")
    tick(form, "Extended")
    form.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_text("Terry Teacher was added to the team.")).to_be_visible()
    assert TeamMember.objects.get(team=team, user=teacher).membership == "extended"

    leaders = page.get_by_test_id("leaders-form")
    leaders.get_by_label("Deputy").select_option(label=f"Jordan Leader ({team_leader.email})")
    leaders.get_by_role("button", name="Save the leader and deputy").click()
    expect(
        page.get_by_role("alert").filter(has_text="The deputy must be someone other than the leader.")
    ).to_be_visible()
    page.get_by_test_id("leaders-form").get_by_label("Deputy").select_option(
        label=f"Casey Counselor ({counselor.email})"
    )
    page.get_by_test_id("leaders-form").get_by_role("button", name="Save the leader and deputy").click()
    expect(page.get_by_text("The leader and deputy were saved.")).to_be_visible()
    assert TeamMember.objects.get(team=team, is_deputy=True).user == counselor

    page.goto("/teams/away/")
    today = timezone.localdate(clock.now())
    away = page.get_by_test_id("away-form")
    away.get_by_label("First day away").fill(today.isoformat())
    away.get_by_label("Last day away").fill("2000-01-01")
    tick(away, f"Robin Member ({team_member.email})")
    away.get_by_role("button", name="Mark me away").click()
    expect(page.get_by_role("alert").filter(has_text="The last day away cannot be before the first.")).to_be_visible()
    assert not Absence.objects.exists()
    axe_check(page)

    away = page.get_by_test_id("away-form")
    away.get_by_label("First day away").fill(today.isoformat())
    away.get_by_label("Last day away").fill(today.isoformat())
    away.get_by_role("button", name="Mark me away").click()
    expect(page.get_by_text("You are marked away. Your backups were told.")).to_be_visible()
    expect(page.get_by_test_id("my-absences")).to_contain_text("Robin Member")
    axe_check(page)

    page.goto(f"/teams/{team.pk}/")
    expect(page.get_by_test_id("away-tag")).to_be_visible()


def test_the_district_settings_page_refuses_an_empty_own_rule(
    axe_page: Page, axe_check: AxeCheck, district: District, team_leader: User
) -> None:
    page = axe_page
    sign_in(page, team_leader.email)
    page.goto("/teams/")
    page.get_by_role("link", name="District team settings: coverage rule, disciplines, data roles").click()
    expect(page.get_by_text("Source: Texas Education Code § 37.115")).to_be_visible()
    axe_check(page)

    form = page.get_by_test_id("settings-form")
    tick(form, "The district's own list")
    form.get_by_role("button", name="Save the coverage rule").click()
    expect(
        page.get_by_role("alert").filter(has_text="Choose at least one discipline for your district's own rule.")
    ).to_be_visible()
    axe_check(page)

    form = page.get_by_test_id("settings-form")
    tick(form, "Counseling")
    form.get_by_role("button", name="Save the coverage rule").click()
    expect(page.get_by_text("The coverage rule was saved.")).to_be_visible()
