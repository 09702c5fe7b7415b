"""Shared helpers of the transfer, restriction, break-glass and object-access tests: cases opened
through the real action, and team accounts scoped to one school."""

from __future__ import annotations

from typing import Any

from django.test import Client

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case
from btam.orgs.models import School
from btam.testing import make_member

TITLE = "Threat overheard near the gym (fictitious)"


def school_user(world: Any, role: str = Role.TEAM_MEMBER, school: School | None = None) -> User:
    """A team account for one named school (``world.school`` unless told)."""
    return make_member(role, world.district, schools=[school or world.school])


def open_case(world: Any, *, actor: User | None = None, school: School | None = None, restricted: bool = False) -> Case:
    """A case opened at ``world.school`` (by default) by a team leader of that school."""
    school = school or world.school
    actor = actor or school_user(world, Role.TEAM_LEADER, school)
    return actions.do_open_case(
        actor=actor, school=school, title=TITLE, summary="Fictitious summary for the tests.", restricted=restricted
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(user: User) -> User:
    """The account read again (its memberships are cached on the object)."""
    return User.objects.get(pk=user.pk)
