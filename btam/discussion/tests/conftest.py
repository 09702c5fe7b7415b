"""Shared set-up of the discussion tests: a case at the north school and named people on its team."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.testing import make_member


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def leader(world: Any) -> User:
    """A district-wide team leader (sees and works every case of the district)."""
    return make_member(
        Role.TEAM_LEADER, world.district, email="dana.whitfield@example.test", full_name="Dana Whitfield"
    )


@pytest.fixture
def counselor(world: Any) -> User:
    """A team member of the north school only."""
    return make_member(
        Role.TEAM_MEMBER,
        world.district,
        schools=[world.school],
        email="marcus.oyelaran@example.test",
        full_name="Marcus Oyelaran",
    )


@pytest.fixture
def south_member(world: Any) -> User:
    """A team member of the south school: cannot see a north case."""
    return make_member(
        Role.TEAM_MEMBER,
        world.district,
        schools=[world.other_school],
        email="sam.south@example.test",
        full_name="Sam South",
    )


@pytest.fixture
def case(world: Any, leader: User) -> Case:
    return open_case(world, actor=leader)
