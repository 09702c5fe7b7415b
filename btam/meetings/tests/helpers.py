"""Shared set-up of the meetings tests: a case, times in the future, a scheduled conference."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.lib import clock
from btam.meetings import actions
from btam.meetings.models import Meeting

# A phrase no ciphertext holds by chance: found in a table dump or a feed only if leaked.
SECRET = "Quinby Marchetti-Oldfield, agenda; discuss Friday"


def at(days: float = 2, hour: int = 10) -> dt.datetime:
    """A moment ``days`` from now at ``hour`` o'clock UTC (whole hours, so tests read well)."""
    base = clock.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=days)
    return base.replace(hour=hour)


def schedule(case: Case, actor: User, invitees: list[User], *, days: float = 2, **kwargs: Any) -> Meeting:
    starts = kwargs.pop("starts_at", at(days))
    return actions.do_schedule_meeting(
        actor=actor,
        case=case,
        starts_at=starts,
        ends_at=kwargs.pop("ends_at", starts + dt.timedelta(hours=1)),
        location=kwargs.pop("location", "Room 204"),
        agenda=kwargs.pop("agenda", SECRET),
        invitees=invitees,
    )


@pytest.fixture
def member(world: Any) -> User:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> User:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: User) -> Case:
    return open_case(world, actor=member)
