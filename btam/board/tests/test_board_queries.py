"""The board's number of SQL statements does not grow with the data: the page and the poll with a
few items in each panel and with more than a panel shows (several schools, levels, stages). A
change that adds a statement per row fails here; one that adds a fixed statement changes the
bound below, on purpose."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.board import panels
from btam.board.tests.board_helpers import (
    client_for,
    due_for_reassessment,
    open_case,
    overdue_task,
    pending_decision,
    report,
)
from btam.cases.models import Status
from btam.intake.models import YesNoUnknown

pytestmark = pytest.mark.django_db

# Session, user, memberships, the board's schools; per panel a count and its rows (reports, tasks,
# reassessments, pending decisions), the grouped count of open cases; the district's level scheme
# (its settings and definition files, read for the level names); the audit event; the inbox badge.
MAX_QUERIES = 20


def _fill(world: Any, size: int) -> None:
    leader = world.users[Role.TEAM_LEADER]
    levels = ["low", "moderate", "high", "imminent"]
    stages = [Status.SCREENING, Status.EVALUATION, Status.MANAGEMENT, Status.MONITORING]
    for i in range(size):
        school = world.school if i % 2 else world.other_school
        report(school, weapon=YesNoUnknown.YES if i % 3 == 0 else YesNoUnknown.NO)
        case = open_case(world, school, manager=leader if i % 2 else None, status=stages[i % 4])
        overdue_task(case, days=1 + i, assignee=leader if i % 2 else None)
        due_for_reassessment(case, in_days=-i, level=levels[i % 4])
        if i % 3 == 0:
            pending_decision(case, leader)


def _statements(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers={"HX-Request": "true"} if "panels" in url else {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [reverse("board:index"), reverse("board:panels")])
def test_the_board_costs_the_same_statements_with_few_and_many_items(
    world: Any, url: str, django_assert_max_num_queries: Any
) -> None:
    client = client_for(world.users[Role.TEAM_LEADER])
    _fill(world, 2)
    client.get(url)  # the session and caches settled
    small = _statements(client, url)
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url)

    _fill(world, panels.PANEL_SIZE + 6)
    large = _statements(client, url)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)

    assert large == small
    assert response.content.decode().count('data-testid="board-task"') == panels.PANEL_SIZE
