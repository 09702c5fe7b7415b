"""Races on PostgreSQL, with threads on their own connections: two deliverers of one step, an
acknowledgement while a step is due, concurrent starts. SQLite serialises every writer (and its
in-memory test database is not shared between connections), so these run on PostgreSQL only."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from btam.notifications import escalation
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import Team, drain, submit

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: needs several connections on one shared test database (run with DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]


def in_threads(targets: list[Callable[[], object]]) -> None:
    """Run each target in its own thread (and connection), released together."""
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


def test_concurrent_runs_of_one_step_notify_once(team: Team, frozen: Any) -> None:
    submit(team.school, danger_now=True)
    drain()
    esc = Escalation.objects.get()
    frozen.advance(minutes=15)
    in_threads([functools.partial(escalation.run_step, esc.pk, 1)] * 4)
    esc.refresh_from_db()
    assert [h["step"] for h in esc.history] == [0, 1]
    assert Notification.objects.filter(kind=Notification.Kind.ESCALATION).count() == 1


def test_a_step_waits_for_an_acknowledgement_in_progress_and_then_does_nothing(team: Team, frozen: Any) -> None:
    report = submit(team.school, danger_now=True)
    drain()
    esc = Escalation.objects.get()
    frozen.advance(minutes=15)
    locked = threading.Event()
    step_started = threading.Event()

    def acknowledge_slowly() -> None:
        with transaction.atomic():
            assert escalation.acknowledge(target=report, actor=team.rapid_named)
            locked.set()
            # Hold the row lock while the step tries to run.
            step_started.wait(timeout=10)
            threading.Event().wait(0.5)

    def run_the_step() -> None:
        assert locked.wait(timeout=10)
        step_started.set()
        escalation.run_step(esc.pk, 1)

    in_threads([acknowledge_slowly, run_the_step])
    esc.refresh_from_db()
    assert esc.state == Escalation.State.ACKNOWLEDGED
    assert [h["step"] for h in esc.history] == [0]
    assert not Notification.objects.filter(kind=Notification.Kind.ESCALATION).exists()


def test_concurrent_starts_make_one_escalation(team: Team, frozen: Any) -> None:
    report = submit(team.school, danger_now=True)
    in_threads([functools.partial(escalation.start_for_report, report)] * 4)
    assert Escalation.objects.count() == 1
    drain()
    assert Notification.objects.count() == 2


def test_concurrent_digest_runs_send_one_digest_per_person(frozen: Any) -> None:
    import datetime as dt

    from btam.accounts.models import Role
    from btam.notifications import digest
    from btam.notifications.actions import do_set_notification_preferences
    from btam.notifications.delivery import notify
    from btam.notifications.models import NotificationPreference
    from btam.testing import DistrictFactory, make_member
    from btam.worker.models import OutboxMessage

    district = DistrictFactory.create()
    people = [make_member(Role.TEAM_MEMBER, district, totp=False) for _ in range(3)]
    for n, person in enumerate(people):
        do_set_notification_preferences(
            actor=person, delivery=NotificationPreference.Delivery.DAILY_DIGEST, digest_time=dt.time(0, 0)
        )
        for k in range(2):
            notify(
                recipients=[person],
                district_id=district.pk,
                kind=Notification.Kind.TASK_ASSIGNED,
                title="A task needs doing",
                link="/cases/",
                target=None,
                urgent=False,
                dedupe_scope=f"race:digest:{n}:{k}",
                email=True,
            )
    frozen.advance(hours=1)
    in_threads([digest.send_digests] * 4)
    sent = OutboxMessage.objects.filter(dedupe_key__startswith="digest:")
    assert sorted(m.payload["to"][0] for m in sent) == sorted(p.email for p in people)
    assert not Notification.objects.filter(digest_outbox__isnull=True).exists()
    for message in sent:
        assert Notification.objects.filter(digest_outbox=message).count() == 2
