"""Periodic jobs: what the scheduler (`manage.py run_scheduler`) enqueues, and how often.

Each entry names a task (a function decorated with ``django_tasks.task``) by import path.
The scheduler claims each slot with a conditional update, so several schedulers never enqueue
the same slot twice:

    UPDATE worker_periodicjobstate SET next_run_at = now + every
     WHERE name = %s AND next_run_at <= now

The claim and the enqueue share one transaction (the task queue is in the same database), so
a slot is enqueued exactly once or, if the scheduler dies in between, not at all and the job
runs at its next slot. A slot missed while no scheduler ran is run once, not caught up.
A job whose previous run is still waiting in the queue is not queued again (no pile-up of
heartbeats while the workers are down).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from btam.lib.clock import now
from btam.worker.models import PeriodicJobState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # import path of a django_tasks task
    every_seconds: int


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("worker-heartbeat", "btam.worker.tasks.heartbeat", 15),
    PeriodicJob("outbox-sweep", "btam.worker.tasks.sweep_outbox", 15),
    PeriodicJob("audit-seal", "btam.audit.tasks.seal_audit_chain", 5),
    PeriodicJob("background-prune", "btam.worker.tasks.prune_background_records", 6 * 3600),
    PeriodicJob("import-sweep", "btam.people.tasks.fail_stale_imports", 10 * 60),
    PeriodicJob("reassessment-reminders", "btam.assessments.tasks.send_reassessment_reminders", 3600),
    PeriodicJob("notifications-digest", "btam.notifications.digest.send_daily_digests", 300),
]


def claim_slot(job: PeriodicJob, at: dt.datetime) -> bool:
    """Take the due slot of ``job``; True for exactly one of several concurrent claimers."""
    updated = PeriodicJobState.objects.filter(name=job.name, next_run_at__lte=at).update(
        next_run_at=at + dt.timedelta(seconds=job.every_seconds), last_enqueued_at=at
    )
    return updated == 1


def run_due_jobs(jobs: list[PeriodicJob] | None = None, *, at: dt.datetime | None = None) -> list[str]:
    """One scheduler pass: enqueue every due job whose slot this scheduler wins. Never raises for one job."""
    jobs = PERIODIC_JOBS if jobs is None else jobs
    at = at or now()
    next_runs = dict(
        PeriodicJobState.objects.filter(name__in=[job.name for job in jobs]).values_list("name", "next_run_at")
    )
    missing = [PeriodicJobState(name=job.name, next_run_at=at) for job in jobs if job.name not in next_runs]
    if missing:
        # A new job runs at once; ignore_conflicts: another scheduler may be adding it too.
        PeriodicJobState.objects.bulk_create(missing, ignore_conflicts=True)
        next_runs.update({state.name: at for state in missing})
    enqueued = []
    for job in jobs:
        if next_runs[job.name] > at:
            continue
        try:
            if _run_slot(job, at):
                enqueued.append(job.name)
        except Exception:
            logger.exception("Periodic job %s could not be enqueued; trying again at its next slot", job.name)
    return enqueued


def _run_slot(job: PeriodicJob, at: dt.datetime) -> bool:
    with transaction.atomic():
        if not claim_slot(job, at):
            return False
        try:
            task = import_string(job.task)
            if not isinstance(task, Task):
                raise TypeError(f"{job.task} is not a django_tasks task")
        except Exception as exc:
            # The claim stays committed: the error is logged once per slot, not once a second.
            logger.error("Periodic job %s: cannot load task %s (%s: %s)", job.name, job.task, type(exc).__name__, exc)
            return False
        if DBTaskResult.objects.filter(
            task_path=task.module_path, backend_name=task.backend, status=TaskResultStatus.READY
        ).exists():
            logger.debug("Periodic job %s: previous run still queued, not queued again", job.name)
            return False
        task.enqueue()
        return True
