"""Worker heartbeats: proof that the scheduler enqueues and a worker runs what is queued.

The scheduler enqueues the ``heartbeat`` task every few seconds and whichever worker takes it
touches its own row. The freshest row therefore measures the whole chain (scheduler, queue,
worker, database); /healthz reports its age.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import TypedDict

from django.conf import settings
from django.db.models import Max

from btam.lib.clock import now
from btam.worker.models import WorkerHeartbeat

# Rows of processes gone this long are removed (each restart makes a new process id).
FORGET_AFTER = dt.timedelta(days=1)


class WorkerStatus(TypedDict):
    status: str  # "ok", "stale" or "none" (no heartbeat ever recorded)
    age_seconds: float | None
    stale_after_seconds: int


def worker_id() -> str:
    """This process, as ``hostname:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat() -> WorkerHeartbeat:
    """Record that this worker process is alive now."""
    at = now()
    row, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id()[:200],
        defaults={"hostname": socket.gethostname()[:200], "pid": os.getpid(), "last_seen": at},
    )
    WorkerHeartbeat.objects.filter(last_seen__lt=at - FORGET_AFTER).delete()
    return row


def worker_status() -> WorkerStatus:
    """Age of the freshest worker heartbeat, for /healthz and the admin dashboard."""
    stale_after = settings.BTAM_WORKER_HEARTBEAT_STALE_SECONDS
    latest = WorkerHeartbeat.objects.aggregate(latest=Max("last_seen"))["latest"]
    if latest is None:
        return {"status": "none", "age_seconds": None, "stale_after_seconds": stale_after}
    age = max(0.0, (now() - latest).total_seconds())
    return {
        "status": "stale" if age > stale_after else "ok",
        "age_seconds": round(age, 1),
        "stale_after_seconds": stale_after,
    }
