"""Tasks of the people app, run by the worker (see ``btam.people.imports`` for what they do)."""

from __future__ import annotations

from django_tasks import task

from btam.people import imports


@task(queue_name="default")
def run_import_task(run_id: int, base_url: str = "") -> str | None:
    """Import one uploaded roster bundle. Safe to run twice: only a queued run is taken.

    ``base_url`` is the site's address as the uploader saw it, for staff invitation links.
    """
    return imports.execute(run_id, base_url=base_url)


@task(queue_name="maintenance")
def fail_stale_imports() -> int:
    """Fail import runs whose worker stopped (see ``imports.fail_stale_runs``)."""
    return imports.fail_stale_runs()
