"""Several workers, deliverers and schedulers at once on PostgreSQL: nothing runs twice.

These start real processes (``manage.py db_worker``, ``manage.py run_scheduler``) or threads,
each with its own database connection, against the test database; they run in the PostgreSQL
pass of ``make test``. SQLite serialises every writer, and its in-memory test database cannot be
shared with another process, so there they are skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from btam.worker import outbox
from btam.worker.models import OutboxMessage, PeriodicJobState
from btam.worker.schedule import PeriodicJob, run_due_jobs
from btam.worker.tests import jobs

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: needs several processes on one shared test database (run with DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def run_table() -> Iterator[None]:
    jobs.drop_run_table()
    jobs.create_run_table()
    jobs.delivered.clear()
    yield
    jobs.drop_run_table()
    jobs.delivered.clear()


def subprocess_env() -> dict[str, str]:
    """The environment for a child process that must use this test database."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}",
        DEBUG="1",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_worker(number: int) -> subprocess.Popen[str]:
    return manage(
        "db_worker", "--batch", "--no-reload", "--queue-name", "*", "--interval", "0.1",
        "--no-startup-delay", "--worker-id", f"test-worker-{number}", "-v", "0",
    )  # fmt: skip


def finish(processes: list[subprocess.Popen[str]], timeout: float = 180) -> None:
    for process in processes:
        output, _ = process.communicate(timeout=timeout)
        assert process.returncode == 0, output


def in_threads(count: int, target: Callable[[], object]) -> None:
    """Run ``target`` in ``count`` threads released together, each with its own connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_two_db_workers_never_run_one_job_twice(run_table: None) -> None:
    keys = [f"job-{n}" for n in range(200)]
    for key in keys:
        jobs.record_run.enqueue(key, seconds=0.01)
    # Each worker first takes one of these and waits for the other: both race for all 200 jobs.
    jobs.rendezvous.enqueue("rendezvous-1")
    jobs.rendezvous.enqueue("rendezvous-2")

    finish([start_worker(1), start_worker(2)])

    runs = [(key, pid) for key, pid in jobs.runs() if key.startswith("job-")]
    assert Counter(key for key, _ in runs) == Counter(keys)  # every job ran, and exactly once
    assert len({pid for _, pid in runs}) == 2, "both workers took jobs"
    results = DBTaskResult.objects.filter(task_path="btam.worker.tests.jobs.record_run")
    assert set(results.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert all(len(ids) == 1 for ids in results.values_list("worker_ids", flat=True))
    assert Counter(ids[0] for ids in results.values_list("worker_ids", flat=True)).keys() == {
        "test-worker-1",
        "test-worker-2",
    }


def test_two_db_workers_deliver_each_outbox_message_once(run_table: None) -> None:
    messages = [outbox.enqueue(kind="test.record", payload={"in_db": True, "seconds": 0.01}) for _ in range(60)]
    # The commit hooks queued deliver_outbox_message; a worker process only knows the test kind
    # once it has imported the jobs module, so queue its twin from there instead. Twice per
    # message, as when the commit hook and a sweep both reach it.
    DBTaskResult.objects.filter(task_path="btam.worker.tasks.deliver_outbox_message").delete()
    for message in messages:
        jobs.deliver_test_message.enqueue(message.pk)
        jobs.deliver_test_message.enqueue(message.pk)

    finish([start_worker(1), start_worker(2)])

    assert Counter(key for key, _ in jobs.runs()) == Counter(f"message-{m.pk}" for m in messages)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxMessage.State.SENT}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_two_racing_sweeps_deliver_each_message_once(run_table: None) -> None:
    messages = [outbox.enqueue(kind="test.record", payload={"seconds": 0.005}) for _ in range(50)]

    in_threads(2, outbox.sweep)

    assert sorted(jobs.delivered) == sorted(m.pk for m in messages)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxMessage.State.SENT}


def test_racing_deliverers_of_one_message_deliver_it_once(run_table: None) -> None:
    for _ in range(20):
        message = outbox.enqueue(kind="test.record", payload={})
        in_threads(4, functools.partial(outbox.deliver, message.pk))
    assert Counter(jobs.delivered).most_common(1)[0][1] == 1
    assert len(jobs.delivered) == 20


def test_two_schedulers_at_once_enqueue_each_slot_once() -> None:
    tick = PeriodicJob("test-tick", "btam.worker.tests.jobs.tick", 60)
    won: list[list[str]] = []
    for slot in range(10):
        if slot:  # the next slot is due and the last run is done (the first slot also races to add the row)
            PeriodicJobState.objects.filter(name=tick.name).update(next_run_at=LONG_AGO)
            DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
        in_threads(2, lambda: won.append(run_due_jobs([tick])))
    assert sorted(map(len, won)) == [0] * 10 + [1] * 10
    assert DBTaskResult.objects.filter(task_path="btam.worker.tests.jobs.tick").count() == 10


def test_run_scheduler_stops_cleanly_on_sigterm() -> None:
    process = manage("run_scheduler")
    deadline = time.monotonic() + 60
    while not DBTaskResult.objects.filter(task_path="btam.worker.tasks.heartbeat").exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the scheduler enqueued nothing"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Traceback" not in output
