"""Tasks of the worker app, run by ``manage.py db_worker`` (django-tasks with the database backend).

Queues are those declared in ``settings.TASKS``: ``outbox`` for side effects, ``maintenance``
for housekeeping, ``default`` for the rest. A task is a plain function of JSON arguments; it
must be safe to run twice (a worker can stop after the work and before recording success).
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task
from django_tasks_db.models import DBTaskResult

from btam.lib.clock import now
from btam.worker import heartbeat as heartbeats
from btam.worker import outbox
from btam.worker.models import OutboxMessage

OUTBOX_QUEUE = "outbox"
MAINTENANCE_QUEUE = "maintenance"

KEEP_TASK_RESULTS = dt.timedelta(days=7)
KEEP_FAILED_TASK_RESULTS = dt.timedelta(days=30)
KEEP_SENT_MESSAGES = dt.timedelta(days=30)


@task(queue_name=MAINTENANCE_QUEUE)
def heartbeat() -> str:
    """Touch this worker process's heartbeat row (hostname:pid)."""
    return heartbeats.beat().worker_id


@task(queue_name=OUTBOX_QUEUE)
def deliver_outbox_message(message_id: int) -> str | None:
    """Deliver one outbox message, queued when its transaction commits. A no-op if already taken."""
    state = outbox.deliver(message_id)
    return str(state) if state else None


@task(queue_name=OUTBOX_QUEUE)
def sweep_outbox() -> dict[str, int]:
    """Deliver every due outbox message: retries, and any whose delivery task was lost."""
    return outbox.sweep()


@task(queue_name=MAINTENANCE_QUEUE)
def prune_background_records() -> dict[str, int]:
    """Delete finished task results and sent outbox messages past their keeping time."""
    at = now()
    results, _ = DBTaskResult.objects.successful().filter(finished_at__lt=at - KEEP_TASK_RESULTS).delete()
    failed, _ = DBTaskResult.objects.failed().filter(finished_at__lt=at - KEEP_FAILED_TASK_RESULTS).delete()
    sent, _ = OutboxMessage.objects.filter(state=OutboxMessage.State.SENT, sent_at__lt=at - KEEP_SENT_MESSAGES).delete()
    return {"task_results": results + failed, "outbox_messages": sent}
