"""Periodic jobs: what the scheduler (`manage.py run_scheduler`) enqueues, and how often.

Each entry names a task (a function decorated with ``django_tasks.task``) by import path.
The scheduler claims each slot with a conditional update, so several schedulers never enqueue
the same slot twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # import path of a django_tasks task
    every_seconds: int


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("worker-heartbeat", "btam.worker.tasks.heartbeat", 15),
    PeriodicJob("outbox-sweep", "btam.worker.tasks.sweep_outbox", 30),
    PeriodicJob("audit-seal", "btam.audit.tasks.seal_audit_chain", 5),
]
