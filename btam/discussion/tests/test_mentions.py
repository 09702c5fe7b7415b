"""Reading @handles from a comment's text, and who may be mentioned on a case."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.cases.access_actions import do_add_member
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import give_read_access, open_case
from btam.discussion.mentions import Mentionable, mentionable_users, parse_handles, resolve
from btam.testing import make_member


def test_handles_are_read_in_order_once_each_in_lower_case() -> None:
    text = "@Marcus.Oyelaran please call. cc @dana.whitfield and @marcus.oyelaran again."
    assert parse_handles(text) == ["marcus.oyelaran", "dana.whitfield"]


def test_a_full_stop_or_comma_after_a_handle_is_not_part_of_it() -> None:
    assert parse_handles("Thanks @sam.south. Also @jo-ann, and (@lee_k)!") == ["sam.south", "jo-ann", "lee_k"]


def test_an_email_address_in_the_text_is_not_a_mention() -> None:
    assert parse_handles("Her email is parent@example.test and mine is x.y@school.test") == []


def test_a_whole_address_after_an_at_sign_is_one_handle() -> None:
    assert parse_handles("@jo@north.example.test can you check?") == ["jo@north.example.test"]


def test_a_lone_at_sign_mentions_nobody() -> None:
    assert parse_handles("Meet @ 3 pm, @@ and @.") == []


@pytest.mark.django_db
def test_the_case_team_is_mentionable_and_another_school_is_not(
    world: Any, case: Case, leader: User, counselor: User, south_member: User
) -> None:
    people = mentionable_users(case)
    assert leader in people and counselor in people and south_member not in people
    assert world.users[Role.TEAM_MEMBER] in people  # district-wide
    assert world.users[Role.AUDITOR] not in people and world.users[Role.DATABASE_MANAGER] not in people
    assert world.outsider not in people


@pytest.mark.django_db
def test_a_read_only_school_can_be_mentioned(world: Any, case: Case, leader: User, south_member: User) -> None:
    give_read_access(case, world.other_school, leader)
    assert south_member in mentionable_users(case)


@pytest.mark.django_db
def test_a_restricted_case_lets_only_its_named_members_and_manager_be_mentioned(
    world: Any, leader: User, counselor: User, south_member: User
) -> None:
    case = open_case(world, actor=leader, restricted=True)
    do_add_member(actor=leader, case=case, user=south_member)
    people = mentionable_users(case)
    assert set(people) == {leader, south_member}  # leader: the case manager
    assert counselor not in people


@pytest.mark.django_db
def test_an_inactive_account_is_not_mentionable(case: Case, counselor: User) -> None:
    counselor.is_active = False
    counselor.save()
    assert counselor not in mentionable_users(case)


@pytest.mark.django_db
def test_people_sharing_a_handle_are_mentioned_by_their_whole_address(world: Any, case: Case) -> None:
    a = make_member(Role.TEAM_MEMBER, world.district, email="jo@north.example.test")
    b = make_member(Role.TEAM_MEMBER, world.district, email="jo@south.example.test")
    mentionable = Mentionable.of(case)
    handles = {user.pk: handle for handle, user in mentionable.people}
    assert handles[a.pk] == "jo@north.example.test" and handles[b.pk] == "jo@south.example.test"
    ambiguous = resolve(case, "@jo look", mentionable)
    assert ambiguous.users == [] and "more than one person" in ambiguous.errors[0]
    exact = resolve(case, "@jo@south.example.test look", mentionable)
    assert exact.users == [b] and exact.errors == []
