"""Merging through the pages: pick the target by number, confirm on a page showing both, undo
from the surviving case."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import link_actions
from btam.cases.models import Case, CaseMerge, CaseReport
from btam.cases.tests.people_links_helpers import (
    client_for,
    close,
    give_read_access,
    open_case,
    report,
    school_member,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(member: Any) -> Client:
    return client_for(member)


@pytest.fixture
def source(world: Any, member: Any) -> Case:
    return open_case(world, actor=member, reports=(report(world),), title="The source <i>case</i>")


@pytest.fixture
def target(world: Any, member: Any) -> Case:
    return open_case(world, actor=member, title="The target case")


def test_the_number_leads_to_a_confirm_page_showing_both_cases(
    team: Client, member: Any, source: Case, target: Case
) -> None:
    response = team.post(url("merge_pick", source), {"merge-number": target.number})
    assert response.status_code == 302 and response["Location"] == url("merge_confirm", source, target)
    page = team.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "The source &lt;i&gt;case&lt;/i&gt;" in body and "The target case" in body
    assert f"Merge into case {target.number}" in body
    # Both cases' content was read: both views are in the audit trail.
    for case in (source, target):
        assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="merge").exists()
    assert not CaseMerge.objects.exists()


def test_confirming_merges_and_lands_on_the_surviving_case(team: Client, source: Case, target: Case) -> None:
    moved = CaseReport.objects.get(case=source)
    response = team.post(url("merge_confirm", source, target), {"reason": "Same incident."})
    assert response.status_code == 302 and response["Location"] == url("detail", target)
    assert CaseReport.objects.get(pk=moved.pk).case_id == target.pk
    body = team.get(url("detail", target)).content.decode()
    assert "Cases merged into this one" in body and source.number in body and "Undo the merge" in body
    merged = team.get(url("detail", source)).content.decode()
    assert f"This case was merged into case {target.number}" in merged
    assert url("merge_pick", source) not in merged  # a record: no more forms


def test_a_reason_is_required_and_the_page_comes_back_with_a_400(team: Client, source: Case, target: Case) -> None:
    response = team.post(url("merge_confirm", source, target), {"reason": ""})
    assert response.status_code == 400 and "Give a reason." in response.content.decode()
    assert not CaseMerge.objects.exists()


def test_merging_a_case_into_itself_is_refused(team: Client, source: Case) -> None:
    picked = team.post(url("merge_pick", source), {"merge-number": source.number})
    assert picked.status_code == 400 and "cannot be merged into itself" in picked.content.decode()
    confirmed = team.post(url("merge_confirm", source, source), {"reason": "Why not."})
    assert confirmed.status_code == 400 and "cannot be merged into itself" in confirmed.content.decode()
    assert not CaseMerge.objects.exists()


def test_merging_into_a_closed_case_is_refused(world: Any, team: Client, source: Case, target: Case) -> None:
    close(target, world)
    picked = team.post(url("merge_pick", source), {"merge-number": target.number})
    assert picked.status_code == 400 and "is closed" in picked.content.decode()
    confirmed = team.post(url("merge_confirm", source, target), {"reason": "Same incident."})
    assert confirmed.status_code == 400 and "Merge into case" not in confirmed.content.decode()
    assert not CaseMerge.objects.exists()


def test_merging_into_a_case_the_user_cannot_see_is_404_and_moves_nothing(
    world: Any, member: Any, source: Case
) -> None:
    from btam.orgs.models import School

    south_case = open_case(world, actor=member, school=world.other_school)
    elsewhere = open_case(world, actor=world.outsider, school=School.objects.get(district=world.other_district))
    north = client_for(school_member(world, world.school))
    for hidden in (south_case, elsewhere):
        assert north.get(url("merge_confirm", source, hidden)).status_code == 404
        assert north.post(url("merge_confirm", source, hidden), {"reason": "Same."}).status_code == 404
    # A number is looked up in the case's own district only (another district's 2026-0001 is not it).
    picked = north.post(url("merge_pick", source), {"merge-number": south_case.number})
    assert picked.status_code == 400 and "There is no case" in picked.content.decode()
    assert not CaseMerge.objects.exists()
    assert CaseReport.objects.get().case_id == source.pk


def test_other_schools_get_404_and_readers_403(world: Any, member: Any, source: Case, target: Case) -> None:
    south = school_member(world, world.other_school)
    for user in (south, world.outsider):
        client = client_for(user)
        assert client.post(url("merge_pick", source), {"merge-number": target.number}).status_code == 404
        assert client.get(url("merge_confirm", source, target)).status_code == 404
    give_read_access(source, world.other_school, member)
    give_read_access(target, world.other_school, member)
    reader = client_for(south)
    assert reader.get(url("merge_confirm", source, target)).status_code == 403
    assert reader.post(url("merge_pick", source), {"merge-number": target.number}).status_code == 403
    assert not CaseMerge.objects.exists()


def test_undo_from_the_surviving_case_and_undoing_twice(team: Client, member: Any, source: Case, target: Case) -> None:
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    assert team.get(url("merge_undo", target, merge)).status_code == 405
    response = team.post(url("merge_undo", target, merge), {"reason": "Two incidents."})
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.merged_into_id is None
    again = team.post(url("merge_undo", target, merge), {"reason": ""})
    assert again.status_code == 400 and "already undone" in again.content.decode()


def test_a_merge_is_undone_only_from_its_surviving_case(
    world: Any, team: Client, member: Any, source: Case, target: Case
) -> None:
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    unrelated = open_case(world, actor=member)
    assert team.post(url("merge_undo", unrelated, merge)).status_code == 404
    assert team.post(url("merge_undo", source, merge)).status_code == 404
    source.refresh_from_db()
    assert source.merged_into_id == target.pk


def test_an_oversize_undo_reason_is_a_400(team: Client, member: Any, source: Case, target: Case) -> None:
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    response = team.post(url("merge_undo", target, merge), {"reason": "x" * 5001})
    assert response.status_code == 400 and "too long" in response.content.decode()
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
