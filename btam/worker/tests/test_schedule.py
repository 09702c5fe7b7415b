"""The scheduler: each due slot of a periodic job is enqueued once, whatever the number of schedulers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from btam.lib import clock as clock_module
from btam.worker import schedule
from btam.worker.models import PeriodicJobState
from btam.worker.schedule import PeriodicJob, claim_slot, run_due_jobs

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
TICK = PeriodicJob("test-tick", "btam.worker.tests.jobs.tick", 10)
TICK_PATH = "btam.worker.tests.jobs.tick"


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    clock_module.freeze(T0)
    yield clock_module
    clock_module.reset()


def queued(path: str = TICK_PATH) -> int:
    return DBTaskResult.objects.filter(task_path=path).count()


def finish_queued() -> None:
    """What a worker does: the queued runs are taken and finished."""
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)


def test_a_new_job_runs_at_once_then_every_period(frozen_clock: Any) -> None:
    assert run_due_jobs([TICK]) == ["test-tick"]
    assert PeriodicJobState.objects.get(name="test-tick").next_run_at == T0 + dt.timedelta(seconds=10)
    finish_queued()
    frozen_clock.advance(seconds=9)
    assert run_due_jobs([TICK]) == []
    frozen_clock.advance(seconds=1)
    assert run_due_jobs([TICK]) == ["test-tick"]
    assert queued() == 2


def test_two_schedulers_claiming_one_slot_enqueue_once() -> None:
    assert run_due_jobs([TICK]) == ["test-tick"]  # the first scheduler creates the row and wins
    assert run_due_jobs([TICK]) == []  # the second, in the same second, finds the slot taken
    assert queued() == 1


def test_only_one_claim_of_a_slot_wins() -> None:
    PeriodicJobState.objects.create(name=TICK.name, next_run_at=T0)
    assert claim_slot(TICK, T0) is True
    assert claim_slot(TICK, T0) is False
    assert claim_slot(TICK, T0 + dt.timedelta(seconds=10)) is True


def test_missed_slots_run_once_not_caught_up(frozen_clock: Any) -> None:
    run_due_jobs([TICK])
    finish_queued()
    frozen_clock.advance(hours=1)  # no scheduler ran for an hour
    assert run_due_jobs([TICK]) == ["test-tick"]
    assert run_due_jobs([TICK]) == []
    assert queued() == 2
    assert PeriodicJobState.objects.get(name="test-tick").next_run_at == clock_module.now() + dt.timedelta(seconds=10)


def test_a_job_still_queued_is_not_queued_again(frozen_clock: Any) -> None:
    run_due_jobs([TICK])
    frozen_clock.advance(seconds=60)  # no worker took it
    assert run_due_jobs([TICK]) == []
    assert queued() == 1


def test_a_job_whose_task_cannot_be_imported_is_logged_and_the_others_run(
    caplog: pytest.LogCaptureFixture, frozen_clock: Any
) -> None:
    broken = [
        PeriodicJob("missing-module", "btam.no_such_app.tasks.job", 5),
        PeriodicJob("missing-name", "btam.worker.tests.jobs.no_such_task", 5),
        PeriodicJob("not-a-task", "btam.worker.tests.jobs.create_run_table", 5),
    ]
    with caplog.at_level(logging.ERROR, logger="btam.worker.schedule"):
        assert run_due_jobs([*broken, TICK]) == ["test-tick"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert all("cannot load task" in e for e in errors)
    # Logged once per slot, not on every pass.
    caplog.clear()
    assert run_due_jobs([*broken, TICK]) == []
    assert not caplog.records


def test_run_scheduler_once_enqueues_each_due_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "PERIODIC_JOBS", [TICK, PeriodicJob("hb", "btam.worker.tasks.heartbeat", 15)])
    call_command("run_scheduler", "--once", verbosity=0)
    assert queued() == 1
    assert queued("btam.worker.tasks.heartbeat") == 1
    call_command("run_scheduler", "--once", verbosity=0)
    assert DBTaskResult.objects.count() == 2


def test_the_real_schedule_enqueues_the_worker_jobs() -> None:
    """Whatever the state of other apps' tasks (an unimportable one is only logged)."""
    run_due_jobs()
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert {
        "btam.worker.tasks.heartbeat",
        "btam.worker.tasks.sweep_outbox",
        "btam.worker.tasks.prune_background_records",
    } <= paths
    queues = dict(DBTaskResult.objects.values_list("task_path", "queue_name"))
    assert queues["btam.worker.tasks.sweep_outbox"] == "outbox"
    assert queues["btam.worker.tasks.heartbeat"] == "maintenance"
