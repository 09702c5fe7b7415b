"""Worker heartbeats and the housekeeping task."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import Any

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from btam.worker import outbox
from btam.worker.heartbeat import worker_status
from btam.worker.models import OutboxMessage, WorkerHeartbeat
from btam.worker.tasks import heartbeat, prune_background_records

pytestmark = pytest.mark.django_db


def test_the_heartbeat_task_upserts_this_worker_process(clock: Any) -> None:
    assert heartbeat.call() == f"{socket.gethostname()}:{os.getpid()}"
    first = WorkerHeartbeat.objects.get()
    assert (first.hostname, first.pid) == (socket.gethostname(), os.getpid())
    clock.advance(seconds=15)
    heartbeat.call()
    row = WorkerHeartbeat.objects.get()
    assert row.pk == first.pk
    assert row.last_seen - first.last_seen >= dt.timedelta(seconds=15)


def test_rows_of_long_gone_processes_are_forgotten(clock: Any) -> None:
    WorkerHeartbeat.objects.create(worker_id="old-host:1", last_seen=clock.now() - dt.timedelta(days=2))
    WorkerHeartbeat.objects.create(worker_id="other-host:2", last_seen=clock.now() - dt.timedelta(minutes=5))
    heartbeat.call()
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {
        "other-host:2",
        f"{socket.gethostname()}:{os.getpid()}",
    }


def test_worker_status_is_none_ok_or_stale(clock: Any, settings: Any) -> None:
    settings.BTAM_WORKER_HEARTBEAT_STALE_SECONDS = 120
    assert worker_status() == {"status": "none", "age_seconds": None, "stale_after_seconds": 120}
    heartbeat.call()
    clock.advance(seconds=30)
    assert worker_status() == {"status": "ok", "age_seconds": 30.0, "stale_after_seconds": 120}
    clock.advance(seconds=91)
    assert worker_status()["status"] == "stale"


def test_prune_removes_old_task_results_and_sent_messages(clock: Any) -> None:
    old = heartbeat.enqueue()
    recent = heartbeat.enqueue()
    DBTaskResult.objects.filter(pk=old.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=clock.now() - dt.timedelta(days=8)
    )
    DBTaskResult.objects.filter(pk=recent.id).update(status=TaskResultStatus.SUCCESSFUL, finished_at=clock.now())
    sent = outbox.enqueue(kind="email", payload={}, deliver_now=False)
    dead = outbox.enqueue(kind="email", payload={}, deliver_now=False)
    OutboxMessage.objects.filter(pk=sent.pk).update(
        state=OutboxMessage.State.SENT, sent_at=clock.now() - dt.timedelta(days=31)
    )
    OutboxMessage.objects.filter(pk=dead.pk).update(state=OutboxMessage.State.DEAD)
    assert prune_background_records.call() == {"task_results": 1, "outbox_messages": 1}
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [uuid.UUID(recent.id)]
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [dead.pk]
