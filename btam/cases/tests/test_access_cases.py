"""Object-level access to cases (access.py): who sees a case, on every case URL and in
``Case.objects.visible_to``. The access walk (btam/core/tests/test_access_walk.py) checks who
reaches each page at all; this checks which cases each one sees there."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, get_resolver, reverse

from btam.accounts.models import Membership, Role, User
from btam.cases import access
from btam.cases.access_actions import (
    do_add_member,
    do_break_glass,
    do_remove_school_access,
    do_set_restricted,
    do_transfer_case,
)
from btam.cases.models import Case
from btam.cases.tests.access_helpers import client_for, fresh, open_case, school_user
from btam.testing import make_member

_ARG = re.compile(r"<(?:\w+:)?(\w+)>")
REASON = "The subject enrolled at the other school this week."

# Changes a read-only school may not make (403): the overview's and this tab's.
WRITE_URLS = [
    "cases:edit",
    "cases:screening",
    "cases:move",
    "cases:request_closure",
    "cases:approve_closure",
    "cases:decline_closure",
    "cases:reopen",
    "cases:transfer",
    "cases:remove_school",
    "cases:restore_school",
    "cases:restrict",
    "cases:add_member",
    "cases:remove_member",
]


def case_urls(case: Case) -> list[tuple[str, str]]:
    """Every URL of one case ("cases:<name>", path): the patterns of the cases namespace that start
    with the case's pk (other numbers in the path are 1: the case is checked first)."""
    prefix, resolver = get_resolver().namespace_dict["cases"]
    urls = []
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLPattern) and route.startswith("<int:pk>/"):
            path = _ARG.sub(lambda m: str(case.pk) if m.group(1) == "pk" else "1", route)
            urls.append((f"cases:{pattern.name}", f"/{prefix}{path}"))
    return urls


def _answers(user: User, case: Case) -> dict[str, set[int]]:
    """Status codes per URL, GET and POST, for ``user``."""
    client = client_for(user)
    out: dict[str, set[int]] = {}
    for name, path in case_urls(case):
        out[name] = {client.get(path).status_code, client.post(path, {"reason": "x"}).status_code}
    return out


def _refused_everywhere(user: User, case: Case, status: int) -> None:
    wrong = {name: codes for name, codes in _answers(user, case).items() if codes != {status}}
    assert not wrong, f"expected {status} everywhere: {wrong}"


def _sees(user: User, case: Case) -> bool:
    return Case.objects.visible_to(fresh(user)).filter(pk=case.pk).exists()


@pytest.fixture
def case(world: Any) -> Case:
    return open_case(world)


def test_the_walk_finds_the_case_urls(case: Case) -> None:
    names = {name for name, _ in case_urls(case)}
    assert {"cases:detail", "cases:access", "cases:transfer", "cases:notes", "cases:documents"} <= names
    assert reverse("cases:access", args=[case.pk]) in {path for _, path in case_urls(case)}


@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.TEAM_LEADER, Role.RAPID_RESPONSE])
def test_a_member_of_another_school_gets_404_on_every_case_url(world: Any, case: Case, role: str) -> None:
    south = school_user(world, role, world.other_school)
    assert not _sees(south, case)
    _refused_everywhere(south, case, 404)
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


def test_other_district_users_see_nothing(world: Any, case: Case) -> None:
    elsewhere_admin = make_member(Role.DATABASE_MANAGER, world.other_district)
    for user in [world.outsider, elsewhere_admin]:
        assert not Case.objects.visible_to(user).exists()
        _refused_everywhere(user, case, 404)


@pytest.mark.parametrize(
    "role", [Role.REFERRING_STAFF, Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN, "no_role", "school_staff"]
)
def test_roles_without_case_access_never_see_a_case(world: Any, case: Case, role: str) -> None:
    user = {
        "no_role": world.no_role,
        "school_staff": make_member(Role.REFERRING_STAFF, world.district, schools=[world.school]),
    }.get(role) or world.users[role]
    assert not Case.objects.visible_to(user).exists()
    assert not Case.objects.writable_by(user).exists()
    _refused_everywhere(user, case, 403)


def test_an_anonymous_visitor_is_sent_to_sign_in(case: Case) -> None:
    from django.test import Client

    response = Client().get(reverse("cases:access", args=[case.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_restricted_case_hides_from_the_team_on_every_url_but_not_from_its_members(world: Any) -> None:
    manager = school_user(world, Role.TEAM_MEMBER, world.school)
    case = open_case(world, actor=manager)
    member = school_user(world, Role.TEAM_MEMBER, world.school)
    do_set_restricted(actor=manager, case=case, restricted=True, reason="A staff member is involved.")
    do_add_member(actor=manager, case=case, user=member)

    for user in [world.users[Role.TEAM_MEMBER], school_user(world, Role.TEAM_LEADER, world.school)]:
        assert not _sees(user, case)
        _refused_everywhere(user, case, 404)
    for user in [manager, member]:
        assert _sees(user, case)
        client = client_for(user)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
        assert client.get(reverse("cases:access", args=[case.pk])).status_code == 200


def test_a_transfer_leaves_the_old_school_read_only_403_on_every_change(world: Any, case: Case) -> None:
    leader = fresh(case.manager)  # type: ignore[arg-type]
    north_member = school_user(world, Role.TEAM_MEMBER, world.school)
    do_transfer_case(actor=leader, case=case, to_school=world.other_school, reason=REASON)

    client = client_for(north_member)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert client.get(reverse("cases:access", args=[case.pk])).status_code == 200
    for name in WRITE_URLS:
        assert client.post(reverse(name, args=[case.pk]), {"reason": "x"}).status_code == 403, name
    south_member = school_user(world, Role.TEAM_MEMBER, world.other_school)
    assert access.can_write(south_member, case)


def test_removed_access_gives_404_on_every_url(world: Any, case: Case) -> None:
    north_member = school_user(world, Role.TEAM_MEMBER, world.school)
    do_transfer_case(actor=fresh(case.manager), case=case, to_school=world.other_school, reason=REASON)  # type: ignore[arg-type]
    do_remove_school_access(actor=world.users[Role.TEAM_LEADER], case=case, school=world.school)
    assert not _sees(north_member, case)
    _refused_everywhere(north_member, case, 404)


def test_each_school_sees_only_its_own_cases_in_lists(world: Any, case: Case) -> None:
    south_case = open_case(world, school=world.other_school)
    north = school_user(world, Role.TEAM_MEMBER, world.school)
    south = school_user(world, Role.TEAM_MEMBER, world.other_school)
    assert list(Case.objects.visible_to(north)) == [case]
    assert list(Case.objects.visible_to(south)) == [south_case]
    assert set(Case.objects.visible_to(world.users[Role.TEAM_MEMBER])) == {case, south_case}
    assert not Case.objects.visible_to(world.users[Role.DATABASE_MANAGER]).exists()


def test_a_grant_opens_its_case_only(world: Any, case: Case) -> None:
    other = open_case(world, school=world.other_school)
    user = world.users[Role.DATABASE_MANAGER]
    do_break_glass(actor=user, case=case, reason="Police called about an imminent threat at North.")
    assert list(Case.objects.visible_to(fresh(user))) == [case]
    assert client_for(user).get(reverse("cases:detail", args=[other.pk])).status_code == 404


# Flaws fixed in access.py -------------------------------------------------------------------------


def test_leaders_of_are_the_leaders_of_the_lead_school_and_the_district_only(world: Any, case: Case) -> None:
    north_leader = fresh(case.manager)  # type: ignore[arg-type]
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    # Another access level held for the whole district (or another one) must not make the leader
    # of another school a leader of this case: the conditions apply to one membership.
    Membership.objects.create(user=south_leader, district=world.district, role=Role.AUDITOR)
    Membership.objects.create(user=south_leader, district=world.other_district, role=Role.TEAM_MEMBER)
    leaders = {u.pk for u in access.leaders_of(case)}
    assert leaders == {north_leader.pk, world.users[Role.TEAM_LEADER].pk}


def test_assignable_users_are_on_a_team_working_the_case(world: Any, case: Case) -> None:
    south_member = school_user(world, Role.TEAM_MEMBER, world.other_school)
    Membership.objects.create(user=south_member, district=world.district, role=Role.DISTRICT_VIEWER)
    assignable = {u.pk for u in access.assignable_users(case)}
    assert south_member.pk not in assignable
    assert world.users[Role.TEAM_MEMBER].pk in assignable and case.manager_id in assignable
