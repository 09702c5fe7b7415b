"""Shared set-up of the people, related-case, merge and split tests (fictitious people and text)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case, CaseSchool
from btam.intake.models import Report
from btam.intake.tests.triage_helpers import submit
from btam.lib import clock
from btam.testing import make_member

# A phrase no ciphertext holds by chance (spaces): found in a dump only if stored in clear.
SECRET_NAME = "Quillon Abernathy-Vasquez"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args: Any) -> str:
    return reverse(f"cases:{name}", args=[getattr(a, "pk", a) for a in args])


def open_case(
    world: Any,
    *,
    school: Any = None,
    actor: User | None = None,
    reports: tuple[Report, ...] = (),
    restricted: bool = False,
    title: str = "Concern in the north building",
) -> Case:
    return actions.do_open_case(
        actor=actor or world.users[Role.TEAM_MEMBER],
        school=school or world.school,
        title=title,
        reports=list(reports),
        restricted=restricted,
    )


def report(world: Any, *, school: Any = None, names: tuple[str, ...] = (), **answers: Any) -> Report:
    return submit(school or world.school, names=names, **answers)


def school_member(world: Any, school: Any, role: str = Role.TEAM_MEMBER) -> User:
    return make_member(role, world.district, schools=[school])


def give_read_access(case: Case, school: Any, by: User) -> None:
    CaseSchool.objects.create(
        case=case, school=school, access=CaseSchool.Access.READ, added_at=clock.now(), added_by=by
    )


def close(case: Case, world: Any) -> Case:
    return actions.do_request_closure(
        actor=world.users[Role.TEAM_LEADER], case=case, reason="no_threat", note="Checked: nothing to manage."
    )
