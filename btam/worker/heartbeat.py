from __future__ import annotations

from django.conf import settings
from django.db.models import Max

from btam.lib.clock import now
from btam.worker.models import WorkerHeartbeat


def worker_status() -> dict[str, object]:
    """Age of the freshest worker heartbeat, for /healthz and the admin dashboard."""
    latest = WorkerHeartbeat.objects.aggregate(latest=Max("last_seen"))["latest"]
    if latest is None:
        return {"status": "no heartbeat yet", "age_seconds": None}
    age = max(0.0, (now() - latest).total_seconds())
    stale = age > settings.BTAM_WORKER_HEARTBEAT_STALE_SECONDS
    return {"status": "stale" if stale else "ok", "age_seconds": round(age, 1)}
