"""The need-to-know part of the "Schools and access" tab: restriction and named members."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from btam.accounts.models import Role
from btam.cases import actions
from btam.cases.access_actions import do_add_member, do_set_restricted, do_transfer_case
from btam.cases.models import Case, CaseMember
from btam.cases.tests.access_helpers import client_for, open_case, school_user
from btam.testing import SchoolFactory

REASON = "A staff member is involved: need to know only."


@pytest.fixture
def manager(world: Any) -> Any:
    return school_user(world, Role.TEAM_MEMBER, world.school)


@pytest.fixture
def case(world: Any, manager: Any) -> Case:
    return open_case(world, actor=manager)


def _restrict(client: Any, case: Case, restricted: str = "1", reason: str = REASON) -> Any:
    return client.post(
        reverse("cases:restrict", args=[case.pk]), {"restrict-restricted": restricted, "restrict-reason": reason}
    )


def test_the_manager_restricts_the_case_from_the_tab(world: Any, case: Case, manager: Any) -> None:
    client = client_for(manager)
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert "Restrict to named members" in page and "Name a member" in page

    response = _restrict(client, case)

    assert response.status_code == 302 and response["Location"] == reverse("cases:access", args=[case.pk])
    assert Case.objects.get(pk=case.pk).restricted
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert "Restricted." in page and "Lift the restriction" in page
    assert client_for(world.users[Role.TEAM_MEMBER]).get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_a_team_member_who_is_not_the_manager_sees_no_controls_and_a_post_answers_400(world: Any, case: Case) -> None:
    client = client_for(world.users[Role.TEAM_MEMBER])
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert "Name a member" not in page and "/access/restriction/" not in page
    response = _restrict(client, case)
    assert response.status_code == 400
    assert "Only the case manager or a team leader" in response.content.decode()
    assert not Case.objects.get(pk=case.pk).restricted


def test_a_read_only_school_gets_403_and_another_school_404(world: Any, case: Case, manager: Any) -> None:
    leader = school_user(world, Role.TEAM_LEADER, world.school)
    do_transfer_case(actor=leader, case=case, to_school=world.other_school, reason="The subject moved schools.")
    assert _restrict(client_for(school_user(world, Role.TEAM_LEADER, world.school)), case).status_code == 403
    third = open_case(world)
    assert _restrict(client_for(school_user(world, Role.TEAM_LEADER, world.other_school)), third).status_code == 404
    assert not Case.objects.filter(restricted=True).exists()


@pytest.mark.parametrize(
    ("restricted", "reason", "message"),
    [
        ("1", "", "This field is required."),
        ("1", "x" * (actions.MAX_REASON_CHARS + 1), "at most"),
        ("maybe", REASON, "Select a valid choice"),
        ("0", REASON, "This case is not restricted."),
    ],
)
def test_bad_restriction_input_answers_400_and_changes_nothing(
    case: Case, manager: Any, restricted: str, reason: str, message: str
) -> None:
    response = _restrict(client_for(manager), case, restricted, reason)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Case.objects.get(pk=case.pk).restricted


def test_the_manager_names_and_removes_members(world: Any, case: Case, manager: Any) -> None:
    colleague = school_user(world, Role.TEAM_MEMBER, world.other_school)
    client = client_for(manager)
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert f'<option value="{colleague.pk}">' in page

    response = client.post(reverse("cases:add_member", args=[case.pk]), {"member-user": colleague.pk})
    assert response.status_code == 302
    assert CaseMember.objects.filter(case=case, user=colleague).exists()
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert escape(f"Remove {colleague}") in page

    response = client.post(reverse("cases:remove_member", args=[case.pk]), {"remove-user": colleague.pk})
    assert response.status_code == 302
    assert not CaseMember.objects.filter(case=case, user=colleague).exists()


@pytest.mark.parametrize("who", ["outsider", "referring_staff", "not_a_number", "nobody"])
def test_naming_someone_who_may_not_be_named_answers_400(world: Any, case: Case, manager: Any, who: str) -> None:
    value = {
        "outsider": lambda: world.outsider.pk,
        "referring_staff": lambda: world.users[Role.REFERRING_STAFF].pk,
        "not_a_number": lambda: "1 OR 1=1",
        "nobody": lambda: "",
    }[who]()
    response = client_for(manager).post(reverse("cases:add_member", args=[case.pk]), {"member-user": value})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a member of a team of this district." in body or "This field is required." in body
    assert CaseMember.objects.filter(case=case).count() == 1


def test_removing_the_manager_or_a_stranger_answers_400(world: Any, case: Case, manager: Any) -> None:
    client = client_for(world.users[Role.TEAM_LEADER])
    response = client.post(reverse("cases:remove_member", args=[case.pk]), {"remove-user": manager.pk})
    assert response.status_code == 400 and "The case manager stays a member" in response.content.decode()
    response = client.post(reverse("cases:remove_member", args=[case.pk]), {"remove-user": world.outsider.pk})
    assert response.status_code == 400 and "Choose a member" in response.content.decode()
    assert CaseMember.objects.filter(case=case, user=manager).exists()


def test_a_leader_who_removes_themself_from_a_restricted_case_lands_on_the_case_list(
    world: Any, case: Case, manager: Any
) -> None:
    leader = school_user(world, Role.TEAM_LEADER, world.school)
    do_set_restricted(actor=leader, case=case, restricted=True, reason=REASON)
    response = client_for(leader).post(reverse("cases:remove_member", args=[case.pk]), {"remove-user": leader.pk})
    assert response.status_code == 302 and response["Location"] == reverse("cases:list")
    assert client_for(leader).get(reverse("cases:access", args=[case.pk])).status_code == 404


def test_a_named_member_of_another_school_reads_the_tab_without_controls(world: Any, case: Case, manager: Any) -> None:
    south = school_user(world, Role.TEAM_MEMBER, world.other_school)
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    do_add_member(actor=manager, case=case, user=south)
    client = client_for(south)
    page = client.get(reverse("cases:access", args=[case.pk]))
    assert page.status_code == 200 and "Read only" in page.content.decode()
    assert _restrict(client, case, "0").status_code == 403


def test_the_tab_lists_schools_full_read_and_removed_and_the_named_members(
    world: Any, case: Case, manager: Any
) -> None:
    leader = school_user(world, Role.TEAM_LEADER, world.school)
    do_transfer_case(actor=leader, case=case, to_school=world.other_school, reason="The subject moved schools.")
    third = SchoolFactory.create(district=world.district, name="East Test Elementary")
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    do_transfer_case(
        actor=south_leader, case=case, to_school=third, keep_read_access=False, reason="The subject moved again."
    )
    page = client_for(world.users[Role.TEAM_LEADER]).get(reverse("cases:access", args=[case.pk])).content.decode()
    assert "Full access" in page and "Read only" in page and "Access removed" in page
    assert escape(str(manager)) in page and "Case manager" in page
