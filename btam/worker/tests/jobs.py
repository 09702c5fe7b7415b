"""Tasks and an outbox kind for the worker tests. Also imported by the db_worker subprocesses the
PostgreSQL tests start, so everything here must work in another process (rows, not memory)."""

from __future__ import annotations

import os
import threading
import time

from django.db import connection
from django_tasks import task

from btam.worker import outbox
from btam.worker.models import OutboxMessage

# A table the subprocess tests create and drop themselves: no model, no migration, no unique key,
# so a job run twice shows up as two rows.
RUN_TABLE = "worker_test_run"

# Deliveries of the "test.record" kind in this process, in order.
delivered: list[int] = []
_lock = threading.Lock()


def create_run_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RUN_TABLE} (job_key varchar(100) NOT NULL, pid integer NOT NULL)")


def drop_run_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RUN_TABLE}")


def runs() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT job_key, pid FROM {RUN_TABLE}")  # noqa: S608 (constant table name)
        return [(key, pid) for key, pid in cursor.fetchall()]


def _record(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RUN_TABLE} (job_key, pid) VALUES (%s, %s)", [key, os.getpid()])  # noqa: S608


@task()
def record_run(key: str, seconds: float = 0.0) -> None:
    """A job whose every run leaves one row."""
    time.sleep(seconds)
    _record(key)


@task(priority=10)
def rendezvous(key: str, timeout: float = 90.0) -> None:
    """Taken first (high priority); waits until another worker process has taken its twin, so a
    test knows all its workers are up before the real jobs start."""
    _record(key)
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {RUN_TABLE} WHERE job_key LIKE 'rendezvous-%%' AND pid <> %s",  # noqa: S608
                [os.getpid()],
            )
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            raise TimeoutError("the other worker never started")
        time.sleep(0.05)


@task()
def tick() -> None:
    """A periodic job for scheduler tests."""


@task(queue_name="outbox")
def deliver_test_message(message_id: int) -> str | None:
    """deliver_outbox_message, from a module that registers the test kind in the worker process."""
    state = outbox.deliver(message_id)
    return str(state) if state else None


@outbox.handler("test.record")
def record_delivery(message: OutboxMessage) -> None:
    """Payload options: "fail": "transient" | "permanent"; "seconds": how long delivery takes;
    "in_db": also leave a row in RUN_TABLE (for deliveries in other processes)."""
    time.sleep(float(message.payload.get("seconds", 0)))
    if message.payload.get("fail") == "transient":
        raise ConnectionError("test receiver is down")
    if message.payload.get("fail") == "permanent":
        raise outbox.PermanentDeliveryError("test receiver refuses this message")
    with _lock:
        delivered.append(message.pk)
    if message.payload.get("in_db"):
        _record(f"message-{message.pk}")
