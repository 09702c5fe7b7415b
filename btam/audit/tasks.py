"""Background work for the audit trail. The scheduler enqueues ``seal_audit_chain`` every few
seconds (btam/worker/schedule.py)."""

from __future__ import annotations

from django_tasks import task

from btam.audit import chain


@task(queue_name="maintenance")
def seal_audit_chain() -> int:
    """Seal the events written since the last run into the hash chain. Returns how many."""
    return chain.seal_pending()
