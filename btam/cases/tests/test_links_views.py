"""Related cases, splitting, and adding a report to a case, through the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.cases import link_actions
from btam.cases.models import Case, CaseLink, CaseReport
from btam.cases.tests.people_links_helpers import (
    client_for,
    close,
    give_read_access,
    open_case,
    report,
    school_member,
    url,
)
from btam.intake.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(member: Any) -> Client:
    return client_for(member)


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


# Related cases --------------------------------------------------------------------------------------


def test_a_case_is_related_by_number_and_shown_on_both_overviews(
    world: Any, team: Client, member: Any, case: Case
) -> None:
    other = open_case(world, actor=member, school=world.other_school)
    response = team.post(url("link_add", case), {"link-number": other.number, "link-note": "Same <b>bus</b> route"})
    assert response.status_code == 302 and response["Location"].endswith("#related-cases")
    for shown, related in ((case, other), (other, case)):
        body = team.get(url("detail", shown)).content.decode()
        assert f'href="/cases/{related.pk}/"' in body and related.number in body
        assert "Same &lt;b&gt;bus&lt;/b&gt; route" in body


def test_a_missing_and_an_invisible_number_get_the_same_400(world: Any, member: Any, case: Case) -> None:
    south_case = open_case(world, actor=member, school=world.other_school)
    north = client_for(school_member(world, world.school))
    invisible = north.post(url("link_add", case), {"link-number": south_case.number})
    missing = north.post(url("link_add", case), {"link-number": f"{south_case.year}-9999"})
    assert invisible.status_code == missing.status_code == 400
    message = "There is no case %s that you can see in this district."
    assert message % south_case.number in invisible.content.decode()
    assert message % f"{south_case.year}-9999" in missing.content.decode()
    assert f'value="{south_case.number}"' in invisible.content.decode()  # the typed number is kept
    assert not CaseLink.objects.exists()


def test_a_malformed_or_markup_number_is_a_400_shown_escaped(team: Client, case: Case) -> None:
    response = team.post(url("link_add", case), {"link-number": "<script>1</script>"})
    body = response.content.decode()
    assert response.status_code == 400 and "like 2026-0042" in body and "<script>1</script>" not in body


def test_only_visible_related_cases_are_listed(world: Any, member: Any, case: Case) -> None:
    south_case = open_case(world, actor=member, school=world.other_school)
    link_actions.do_link_cases(actor=member, case=case, other=south_case)
    body = client_for(school_member(world, world.school)).get(url("detail", case)).content.decode()
    assert f"/cases/{south_case.pk}/" not in body and "One more related case is not visible to you." in body


def test_unrelating_through_the_page(world: Any, team: Client, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=case, other=other)
    assert team.get(url("link_remove", case, link)).status_code == 405
    assert team.post(url("link_remove", case, link)).status_code == 302
    assert not CaseLink.objects.exists()


def test_a_link_of_other_cases_is_404_here(world: Any, team: Client, member: Any, case: Case) -> None:
    a, b = open_case(world, actor=member), open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=a, other=b)
    assert team.post(url("link_remove", case, link)).status_code == 404
    assert CaseLink.objects.filter(pk=link.pk).exists()


def test_other_schools_get_404_and_readers_403(world: Any, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=case, other=other)
    south = school_member(world, world.other_school)
    for user in (south, world.outsider):
        client = client_for(user)
        assert client.post(url("link_add", case), {"link-number": other.number}).status_code == 404
        assert client.post(url("link_remove", case, link)).status_code == 404
        assert client.post(url("split", case), {"split-report": 1}).status_code == 404
    give_read_access(case, world.other_school, member)
    assert client_for(south).post(url("link_remove", case, link)).status_code == 403
    assert CaseLink.objects.exists()


def test_a_closed_case_refuses_a_new_relation_with_a_message(world: Any, team: Client, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    close(case, world)
    response = team.post(url("link_add", case), {"link-number": other.number})
    assert response.status_code == 400 and "closed" in response.content.decode()


# Splitting -------------------------------------------------------------------------------------------


def test_a_report_is_split_off_through_the_overview(world: Any, team: Client, member: Any) -> None:
    first, second = report(world), report(world)
    case = open_case(world, actor=member, reports=(first, second))
    overview = team.get(url("detail", case)).content.decode()
    assert url("split", case) in overview and f"R-{second.pk}" in overview
    response = team.post(url("split", case), {"split-report": second.pk, "split-title": "Second concern"})
    new = Case.objects.exclude(pk=case.pk).get()
    assert response.status_code == 302 and response["Location"] == url("detail", new)
    assert CaseReport.objects.get(report=second).case == new and new.title == "Second concern"


def test_a_case_with_one_report_offers_no_split_and_refuses_one(world: Any, team: Client, member: Any) -> None:
    only = report(world)
    case = open_case(world, actor=member, reports=(only,))
    assert url("split", case) not in team.get(url("detail", case)).content.decode()
    response = team.post(url("split", case), {"split-report": only.pk})
    assert response.status_code == 400 and "at least two reports" in response.content.decode()


def test_a_report_of_another_case_is_not_a_split_choice(world: Any, team: Client, member: Any) -> None:
    case = open_case(world, actor=member, reports=(report(world), report(world)))
    elsewhere = report(world)
    open_case(world, actor=member, reports=(elsewhere,))
    response = team.post(url("split", case), {"split-report": elsewhere.pk, "split-title": "Mine now"})
    assert response.status_code == 400 and "Choose a report of this case." in response.content.decode()
    assert 'value="Mine now"' in response.content.decode()
    assert CaseReport.objects.get(report=elsewhere).case != case


# Adding a report from its page ----------------------------------------------------------------------


def _report_url(r: Report) -> str:
    return f"/intake/{r.pk}/"


def test_the_report_page_offers_to_add_it_to_an_existing_case(world: Any, team: Client) -> None:
    r = report(world)
    body = team.get(_report_url(r)).content.decode()
    assert "Add to an existing case" in body and url("add_report", r.pk) in body


def test_a_report_is_added_to_a_case_by_number(world: Any, team: Client, member: Any, case: Case) -> None:
    r = report(world, names=("Alex Example",))
    response = team.post(
        url("add_report", r.pk), {"add_to_case-number": case.number, "add_to_case-reason": "Same kid."}
    )
    assert response.status_code == 302 and response["Location"] == url("detail", case)
    assert CaseReport.objects.get(report=r).case == case
    r.refresh_from_db()
    assert r.status == Report.Status.CASE_OPENED
    assert "Alex Example" in team.get(url("detail", case)).content.decode()


def test_adding_to_a_case_the_user_cannot_see_or_that_does_not_exist_is_the_same_400(world: Any, member: Any) -> None:
    r = report(world)
    south_case = open_case(world, actor=member, school=world.other_school)
    north = client_for(school_member(world, world.school))
    for number in (south_case.number, f"{south_case.year}-9999"):
        response = north.post(url("add_report", r.pk), {"add_to_case-number": number})
        body = response.content.decode()
        assert response.status_code == 400 and f"There is no case {number} that you can see in this district." in body
        assert f'value="{number}"' in body
    assert not CaseReport.objects.filter(report=r).exists()


def test_adding_to_a_read_only_case_is_refused(world: Any, member: Any, case: Case) -> None:
    give_read_access(case, world.other_school, member)
    r = report(world, school=world.other_school)
    south = client_for(school_member(world, world.other_school))
    response = south.post(url("add_report", r.pk), {"add_to_case-number": case.number})
    assert response.status_code == 400 and "read case" in response.content.decode()
    assert not CaseReport.objects.filter(report=r).exists()


def test_adding_to_a_closed_case_or_a_report_already_on_one_is_refused(
    world: Any, team: Client, member: Any, case: Case
) -> None:
    on_case = report(world)
    open_case(world, actor=member, reports=(on_case,))
    other = open_case(world, actor=member)
    # A report already on a case cannot be opened again: the page offers nothing, the URL refuses.
    response = team.post(url("add_report", on_case.pk), {"add_to_case-number": other.number})
    assert response.status_code == 400
    r = report(world)
    close(case, world)
    closed = team.post(url("add_report", r.pk), {"add_to_case-number": case.number})
    assert closed.status_code == 400 and "closed" in closed.content.decode()
    assert not CaseReport.objects.filter(report=r).exists()


def test_a_report_of_another_school_is_404_and_get_is_not_allowed(world: Any, member: Any, case: Case) -> None:
    r = report(world, school=world.other_school)
    north = client_for(school_member(world, world.school))
    assert north.post(url("add_report", r.pk), {"add_to_case-number": case.number}).status_code == 404
    assert client_for(member).get(url("add_report", r.pk)).status_code == 405
    assert (
        client_for(world.outsider).post(url("add_report", r.pk), {"add_to_case-number": case.number}).status_code == 404
    )


def test_an_empty_number_is_a_400_on_the_report_page(world: Any, team: Client) -> None:
    r = report(world)
    response = team.post(url("add_report", r.pk), {"add_to_case-number": ""})
    body = response.content.decode()
    assert response.status_code == 400 and "Enter a case number like 2026-0042." in body
    assert 'id="action-add_to_case" open' in body
