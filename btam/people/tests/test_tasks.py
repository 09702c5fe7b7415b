"""The import task: runs a queued run once, reports progress, cleans up; the sweep of dead runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.utils.module_loading import import_string
from django_tasks.base import Task

from btam.accounts.models import Role
from btam.audit.models import AuditEvent
from btam.lib import clock
from btam.people import imports
from btam.people.models import ImportRun, Person
from btam.people.tasks import fail_stale_imports, run_import_task
from btam.people.tests.import_helpers import close_progress_connection, stored_files, upload, use_test_settings
from btam.worker.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db(databases="__all__")
Status = ImportRun.Status


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Iterator[Path]:
    yield use_test_settings(settings, tmp_path)
    close_progress_connection()


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.reset()


# Progress is written on its own connection on PostgreSQL: these tests commit (transaction=True)
# so that connection sees the run.
committed = pytest.mark.django_db(transaction=True, databases="__all__")


def queued(world: Any, **kwargs: Any) -> ImportRun:
    return imports.do_start_import(
        actor=world.users[Role.DATABASE_MANAGER], district=world.district, upload=upload(), dry_run=False, **kwargs
    )


def test_the_task_runs_on_the_default_queue() -> None:
    assert run_import_task.queue_name == "default"
    assert fail_stale_imports.queue_name == "maintenance"


def test_the_task_runs_a_queued_import_once(world: Any) -> None:
    run = queued(world)
    assert run_import_task.call(run.pk) == Status.SUCCEEDED
    assert run_import_task.call(run.pk) is None  # finished: a second delivery of the task does nothing
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    assert run.started_at is not None and run.finished_at is not None
    assert Person.objects.filter(district=world.district).count() == 3


def test_a_run_taken_by_another_worker_is_left_alone(world: Any) -> None:
    run = queued(world)
    ImportRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    assert run_import_task.call(run.pk) is None
    assert not Person.objects.exists()


def test_the_decrypted_copy_and_the_stored_bundle_are_removed(
    world: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btam.people import importers

    seen: list[Path] = []
    real = importers.run_import

    def spy(run: ImportRun, path: Path, **kwargs: Any) -> ImportRun:
        seen.append(path)
        assert path.read_bytes().startswith(b"PK\x03\x04")  # the plaintext zip, for the importer only
        return real(run, path, **kwargs)

    monkeypatch.setattr(importers, "run_import", spy)
    run = queued(world)
    name = run.bundle.name
    run_import_task.call(run.pk)
    assert seen and not seen[0].exists() and not seen[0].parent.exists()
    assert not default_storage.exists(name)
    assert stored_files(media) == []
    run.refresh_from_db()
    assert run.bundle.name == ""


def test_a_missing_bundle_fails_the_run(world: Any) -> None:
    run = queued(world)
    default_storage.delete(run.bundle.name)
    assert run_import_task.call(run.pk) == Status.FAILED
    run.refresh_from_db()
    assert run.errors[0]["reason"] == imports.INTERNAL_ERROR


# Progress ------------------------------------------------------------------------------------------


@committed
def test_progress_is_recorded_while_running(world: Any) -> None:
    run = ImportRun.objects.create(district=world.district, status=Status.RUNNING)
    imports.record_progress(run.pk, 5000, 12000, "importing")
    run.refresh_from_db()
    assert (run.phase, run.rows_done, run.rows_total) == ("importing", 5000, 12000)
    assert run.progress_at is not None


@committed
def test_progress_of_a_run_that_is_no_longer_running_stops_the_import(world: Any) -> None:
    run = ImportRun.objects.create(district=world.district, status=Status.FAILED)
    with pytest.raises(imports.ImportAbandoned):
        imports.record_progress(run.pk, 1, 2, "importing")
    assert ImportRun.objects.get(pk=run.pk).phase == ""


def test_the_importer_reports_its_steps(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reports: list[tuple[int, int, str]] = []
    real = imports.record_progress

    def spy(run_id: int, done: int, total: int, phase: str) -> None:
        reports.append((done, total, phase))
        real(run_id, done, total, phase)

    monkeypatch.setattr(imports, "record_progress", spy)
    run_import_task.call(queued(world).pk)
    phases = [phase for _done, _total, phase in reports]
    assert "validating" in phases and "importing" in phases
    assert any(total > 0 for _done, total, phase in reports if phase == "importing")


@committed
def test_a_run_declared_dead_stops_at_its_next_progress_report(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep failed the run while its worker was still reading: the import stops there."""
    real = imports.record_progress

    def sweep_then_report(run_id: int, done: int, total: int, phase: str) -> None:
        imports._fail(run_id, imports.WORKER_STOPPED)
        real(run_id, done, total, phase)

    monkeypatch.setattr(imports, "record_progress", sweep_then_report)
    run = queued(world)
    assert run_import_task.call(run.pk) == Status.FAILED
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.errors[0]["reason"] == imports.WORKER_STOPPED
    assert not Person.objects.exists()


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (two connections)")


@postgres_only
@committed
def test_progress_is_visible_while_the_import_transaction_is_open(world: Any) -> None:
    run = ImportRun.objects.create(district=world.district, status=Status.RUNNING)
    reader = connections.create_connection("default")
    try:
        with transaction.atomic():
            ImportRun.objects.create(district=world.district)  # the import's writes, not committed
            imports.record_progress(run.pk, 2000, 9000, "importing")
            with reader.cursor() as cursor:
                cursor.execute("SELECT phase, rows_done FROM people_importrun WHERE id = %s", [run.pk])
                assert cursor.fetchone() == ("importing", 2000)
                cursor.execute("SELECT count(*) FROM people_importrun")
                assert cursor.fetchone() == (1,)
    finally:
        reader.close()


@postgres_only
@committed
def test_a_run_declared_dead_mid_import_rolls_back(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep (another process) failed the run while its import transaction was open."""
    real = imports.record_progress

    def sweep_then_report(run_id: int, done: int, total: int, phase: str) -> None:
        if phase == "importing":
            ImportRun.objects.using("progress").filter(pk=run_id).update(status=Status.FAILED, phase="swept")
        real(run_id, done, total, phase)

    monkeypatch.setattr(imports, "record_progress", sweep_then_report)
    run = queued(world)
    assert run_import_task.call(run.pk) == Status.FAILED
    run.refresh_from_db()
    assert (run.status, run.phase) == (Status.FAILED, "swept")
    assert not Person.objects.exists()


@postgres_only
@committed
def test_progress_never_waits_for_the_import_transaction(world: Any) -> None:
    run = ImportRun.objects.create(district=world.district, status=Status.RUNNING)
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(phase="locked by the import")
        imports.record_progress(run.pk, 1, 2, "importing")  # returns at once, the report dropped
    run.refresh_from_db()
    assert run.phase == "locked by the import"


# The sweep -----------------------------------------------------------------------------------------


def test_the_sweep_is_a_periodic_job() -> None:
    [job] = [job for job in PERIODIC_JOBS if job.task == "btam.people.tasks.fail_stale_imports"]
    assert isinstance(import_string(job.task), Task)
    assert job.every_seconds <= 3600


def test_the_sweep_fails_a_run_silent_for_hours(world: Any, media: Path) -> None:
    run = queued(world)
    at = clock.now()
    ImportRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, started_at=at, progress_at=at)
    clock.advance(hours=1)
    assert fail_stale_imports.call() == 0
    clock.advance(hours=1, minutes=1)
    assert fail_stale_imports.call() == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.errors == [{"file": "", "line": 0, "column": "", "reason": imports.WORKER_STOPPED}]
    assert run.finished_at is not None
    assert stored_files(media) == [] and run.bundle.name == ""
    event = AuditEvent.objects.filter(target_type="people.importrun", target_id=str(run.pk)).latest("id")
    assert event.before == {"status": "running"} and event.after == {"status": "failed"}
    assert fail_stale_imports.call() == 0


def test_the_sweep_fails_a_run_no_worker_started(world: Any) -> None:
    run = queued(world)
    clock.advance(hours=3)
    assert fail_stale_imports.call() == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.errors[0]["reason"] == imports.NEVER_STARTED


def test_the_sweep_leaves_finished_and_lively_runs_alone(world: Any) -> None:
    at = clock.now()
    done = ImportRun.objects.create(district=world.district, status=Status.SUCCEEDED, progress_at=at)
    lively = ImportRun.objects.create(district=world.district, status=Status.RUNNING, progress_at=at)
    clock.advance(hours=3)
    ImportRun.objects.filter(pk=lively.pk).update(progress_at=clock.now() - dt.timedelta(minutes=5))
    assert fail_stale_imports.call() == 0
    assert ImportRun.objects.get(pk=done.pk).status == Status.SUCCEEDED
    assert ImportRun.objects.get(pk=lively.pk).status == Status.RUNNING


def test_a_finished_run_never_changes_status(world: Any) -> None:
    run = ImportRun.objects.create(district=world.district, status=Status.SUCCEEDED)
    assert not run.can_transition_to(Status.FAILED)
    assert not imports._fail(run.pk, "late")
    assert ImportRun.objects.get(pk=run.pk).status == Status.SUCCEEDED
