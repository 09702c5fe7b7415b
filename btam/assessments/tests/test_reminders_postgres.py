"""Reminders raced by several workers on PostgreSQL (threads on their own connections): one
reminder per case and day. SQLite serialises writers, so this runs on PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from btam.accounts.models import Role
from btam.assessments import tasks
from btam.assessments.models import ReassessmentSchedule
from btam.assessments.tests.monitoring_helpers import at, set_level
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.notifications.models import Notification

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: needs several connections on one shared test database (run with DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]


def in_threads(targets: list[Callable[[], object]]) -> None:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_four_workers_at_once_remind_each_case_once(world: Any, clock: Any) -> None:
    member = world.users[Role.TEAM_MEMBER]
    clock.freeze(at("2026-03-01", 9))
    cases = [open_case(world, actor=member) for _ in range(5)]
    for case in cases:
        set_level(case, member, "high")
    clock.freeze(at("2026-03-09"))
    counts: list[int] = []
    in_threads([lambda: counts.append(tasks.send_reminders())] * 4)
    assert sum(counts) == 5
    assert Notification.objects.filter(kind=Notification.Kind.REASSESSMENT_DUE).count() == 5
    assert set(ReassessmentSchedule.objects.values_list("reminded_on", flat=True)) == {at("2026-03-09").date()}
