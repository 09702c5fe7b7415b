"""The number of SQL statements per page does not grow with the data: the case list (first page,
a filtered page, a search) with 3 and with 60 cases, and the case overview with 2 and with 30
reports, people and notes. A change that adds a statement per row fails here; a change that adds a
fixed statement updates the expected number below, on purpose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from btam.cases import actions
from btam.cases.models import Case, CaseParticipant, Status
from btam.cases.tests.list_helpers import add_note, at, make_case
from btam.cases.tests.test_list_views import client_for, listed
from btam.intake.tests.triage_helpers import submit
from btam.people.models import Person

# Statements per page: session, user, memberships, the form's schools, level schemes and case
# managers, saved filters, count, rows, the audit event, the inbox badge. (The session is written
# back once a minute at most, not on these pages: accounts.middleware.SessionRenewalMiddleware.)
LIST_PAGE = {"sqlite": 11, "postgresql": 11}
# The overview: session, user, memberships, the case, write access, reports (with their count),
# schools, people, links, merges, ..., the audit event, the inbox badge. (The case manager's list
# is on the edit page, not here.) One more when the case has more reports than the overview shows:
# the split form's choices are then read on their own (up to 500), whatever the number.
DETAIL_PAGE = 11


def _cases(world: Any, count: int) -> None:
    member = world.users["team_member"]
    for i in range(count):
        case = make_case(
            world,
            title=f"Gymnasium concern {i}",
            school=world.school if i % 3 else world.other_school,
            manager=member if i % 2 else None,
            status=Status.EVALUATION if i % 4 else Status.SCREENING,
            next_due_on=dt.date(2026, 1, 1) if i % 5 else None,
            updated_at=at("2026-03-01") + dt.timedelta(minutes=i),
        )
        if i % 2:
            add_note(case, member, f"Spoke with the bus driver, visit {i}")


def _pages(world: Any) -> dict[str, Callable[[Client], Any]]:
    school = world.school.pk
    return {
        "first": lambda c: c.get("/cases/"),
        "filtered": lambda c: c.get(
            "/cases/", {"stage": ["evaluation", "screening"], "school": school, "overdue": "1"}
        ),
        "search": lambda c: c.post("/cases/", {"q": "gymnasium driver", "stage": "evaluation"}),
        "deep": lambda c: c.get("/cases/", {"page": "2", "sort": "number"}),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
@pytest.mark.parametrize("page", ["first", "filtered", "search", "deep"])
def test_a_list_page_costs_the_same_statements_whatever_the_number_of_cases(
    world: Any, count: int, page: str, django_assert_num_queries: Any
) -> None:
    _cases(world, count)
    client = client_for(world.users["team_leader"])
    client.get("/cases/")  # the session's first save and caches out of the way
    show = _pages(world)[page]
    with django_assert_num_queries(LIST_PAGE[connection.vendor]):
        response = show(client)
    assert response.status_code == 200
    assert listed(response)  # (page 2 of 3 cases is page 1: rows are read either way)


def _busy_case(world: Any, count: int) -> Case:
    """A case with ``count`` reports (each naming someone), ``count`` registry people and ``count``
    notes."""
    leader = world.users["team_leader"]
    reports = [
        submit(world.school, f"Report {i}: a fight was planned after school.", names=(f"Pat Sample{i}",))
        for i in range(count)
    ]
    case = actions.do_open_case(actor=leader, school=world.school, title="Busy case", reports=reports)
    for i in range(count):
        person = Person.objects.create(district=world.district, given_name="Sam", family_name=f"Example{i}")
        CaseParticipant.objects.create(
            case=case, role=CaseParticipant.Role.WITNESS, person=person, added_at=at("2026-03-01"), added_by=leader
        )
        add_note(case, leader, f"Interview {i} with a witness", reindex=False)
    return case


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "statements"), [(2, DETAIL_PAGE), (30, DETAIL_PAGE + 1), (60, DETAIL_PAGE + 1)])
def test_the_case_overview_costs_the_same_statements_whatever_is_on_the_case(
    world: Any, count: int, statements: int, django_assert_num_queries: Any
) -> None:
    case = _busy_case(world, count)
    assert case.report_links.count() == count and case.notes.count() == count
    assert case.participants.count() >= 2 * count
    client = client_for(world.users["team_leader"])
    client.get(f"/cases/{case.pk}/")
    with django_assert_num_queries(statements):
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit_compilation() -> None:
    """PostgreSQL would JIT-compile the list's queries (their visibility rules look costly to its
    planner), which takes longer than running them: the connection turns JIT off (settings)."""
    options = connection.settings_dict.get("OPTIONS", {})
    if connection.vendor != "postgresql":
        assert "options" not in options  # SQLite has no JIT and no such option
        return
    assert "-c jit=off" in options["options"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
