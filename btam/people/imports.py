"""Roster import runs: the upload that starts one, the worker's run of it, and the sweep.

A run moves queued -> running -> succeeded | rejected | failed (``ImportRun.TRANSITIONS``).
Every move is an UPDATE conditional on the current status, so two workers never run the same
import and a finished run never changes again.

**Progress across transactions.** The importer applies a bundle inside one transaction
(all or nothing), and it reports progress from inside it. On PostgreSQL a write made in that
transaction is invisible to the page until the commit, so progress is written on a second
connection, the ``progress`` database alias (same database, autocommit, see settings). That
connection never waits for a lock: a progress report that finds the run row locked is
dropped. On SQLite there is one writer and the import holds it, so a second connection would
wait for the import to end (and time out); there progress is written on the default connection:
the reports of the checking pass (outside the transaction) show at once, those of the apply
pass only at its commit, so the page shows coarser progress ("validating" with a row count,
then the result).

**A run whose worker stopped.** The importer saves the run's final status in the transaction
that applies the bundle, so the status and the data commit together. A worker that dies leaves
the run "running"; the sweep (``fail_stale_runs``, a periodic job) fails runs that reported no
progress for ``STALE_AFTER``. Should such a run still be alive, its next progress report finds
it failed and raises :class:`ImportAbandoned`, which rolls the import back: "failed: nothing was
imported" stays true.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, transaction
from django.template.defaultfilters import filesizeformat

from btam.audit.models import AuditEvent, Verb
from btam.lib.clock import now
from btam.people.access import import_district_ids
from btam.people.models import ImportRun

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from btam.accounts.models import User
    from btam.orgs.models import District

logger = logging.getLogger(__name__)

Status = ImportRun.Status
ZIP_MAGIC = b"PK\x03\x04"
BUNDLE_UPLOAD_PATH = "imports/bundle"  # the storage picks a random name in imports/
# A running import that has not reported progress for this long lost its worker.
STALE_AFTER = dt.timedelta(hours=2)
WORKER_STOPPED = "The worker stopped during this import; nothing was imported. Upload the bundle again."
NEVER_STARTED = "No worker started this import within two hours; nothing was imported. Upload the bundle again."
INTERNAL_ERROR = "The import stopped on an unexpected error; nothing was imported. The server log names the error."
PHASE_LENGTH = ImportRun._meta.get_field("phase").max_length or 40


class ImportAbandoned(BaseException):  # noqa: N818
    """The run is no longer running (the sweep declared it dead): stop and roll back.

    A BaseException, like asyncio's CancelledError: it must pass through the importer's
    ``except Exception`` (which would record it as an internal error) and roll back its transaction.
    """


# Starting a run ---------------------------------------------------------------------------------


def max_import_bytes() -> int:
    return int(settings.BTAM_MAX_IMPORT_BYTES)


def too_large_message(size: int | None = None) -> str:
    limit = filesizeformat(max_import_bytes())
    if size is None:
        return f"The file is too large: the largest bundle accepted is {limit}. Nothing was imported."
    return f"The file is {filesizeformat(size)}: the largest bundle accepted is {limit}. Nothing was imported."


def check_upload(upload: UploadedFile) -> None:
    """Refuse what cannot be a roster bundle before it is stored: too large, empty, not a zip."""
    size = upload.size or 0
    if size > max_import_bytes():
        raise ValidationError(too_large_message(size), code="too_large")
    if size == 0:
        raise ValidationError("The file is empty. Nothing was imported.", code="empty")
    upload.seek(0)
    head = upload.read(len(ZIP_MAGIC))
    upload.seek(0)
    if head != ZIP_MAGIC:
        raise ValidationError(
            "This is not a zip file. Upload the roster export (OneRoster CSV files) as one .zip file. "
            "Nothing was imported.",
            code="not_zip",
        )


def do_start_import(
    *, actor: User, district: District, upload: UploadedFile, dry_run: bool, base_url: str = ""
) -> ImportRun:
    """Store the uploaded bundle (encrypted) and queue its import for the worker.

    ``base_url`` (the site's address as the uploader sees it) goes into staff invitation links.
    """
    if district.pk not in import_district_ids(actor):
        raise PermissionDenied("Only a database manager or backup administrator of the district may import.")
    check_upload(upload)
    # The file is written before the transaction (no file I/O while holding it) and removed if it fails.
    name = default_storage.save(BUNDLE_UPLOAD_PATH, upload)
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                district=district, created_by=actor, bundle=name, bundle_size=upload.size or 0, dry_run=dry_run
            )
            AuditEvent.objects.record(
                actor=actor,
                verb=Verb.CREATED,
                target=run,
                after={"status": run.status, "dry_run": dry_run},
                detail={"bytes": run.bundle_size, "format": run.source_format},
            )
            # Should the enqueue fail after the commit, the sweep fails the run (NEVER_STARTED).
            transaction.on_commit(partial(_enqueue, run.pk, base_url), robust=True)
    except BaseException:
        default_storage.delete(name)
        raise
    return run


def _enqueue(run_id: int, base_url: str) -> None:
    from btam.people.tasks import run_import_task

    run_import_task.enqueue(run_id, base_url)


# Progress -----------------------------------------------------------------------------------------


def progress_alias() -> str:
    """The connection progress is written on (see the module docstring)."""
    return "progress" if "progress" in settings.DATABASES else DEFAULT_DB_ALIAS


def record_progress(run_id: int, done: int, total: int, phase: str) -> None:
    """The importer's progress callback: commit where the page can see it, never wait for a lock.

    Raises :class:`ImportAbandoned` when the run is no longer running, which stops the import.
    """
    alias = progress_alias()
    runs = ImportRun.objects.using(alias)
    with transaction.atomic(using=alias):
        status = runs.select_for_update(skip_locked=True).filter(pk=run_id).values_list("status", flat=True).first()
        if status is None:
            return  # the row is locked by the import's own transaction (or not visible yet): skip this report
        if status != Status.RUNNING:
            raise ImportAbandoned(f"Import {run_id} is {status}, no longer running.")
        runs.filter(pk=run_id).update(
            phase=phase[:PHASE_LENGTH], rows_done=max(done, 0), rows_total=max(total, 0), progress_at=now()
        )


# Running a run (the worker's task) ---------------------------------------------------------------


def _transition(run_id: int, to: str, **fields: Any) -> bool:
    """Move the run to ``to`` if its current status allows it (ImportRun.TRANSITIONS)."""
    allowed_from = [status for status, targets in ImportRun.TRANSITIONS.items() if to in targets]
    return ImportRun.objects.filter(pk=run_id, status__in=allowed_from).update(status=to, **fields) == 1


def execute(run_id: int, *, base_url: str = "") -> str | None:
    """Run one queued import. Returns its final status, or None when it was not ours to run
    (another worker took it, or it has finished). The stored bundle is deleted whatever happens."""
    at = now()
    if not _transition(run_id, Status.RUNNING, started_at=at, progress_at=at, phase="starting"):
        return None
    run = ImportRun.objects.select_related("district", "created_by").get(pk=run_id)
    try:
        with tempfile.TemporaryDirectory(prefix="btam-import-") as folder:
            path = Path(folder) / "bundle.zip"
            _decrypt_bundle(run, path)
            status = _import(run, path)
    except ImportAbandoned:
        status = Status.FAILED  # the sweep recorded why
    except Exception as exc:
        # The class only: an exception's text can quote roster data.
        logger.error("Import %s stopped on %s", run_id, type(exc).__name__, exc_info=settings.DEBUG)
        _fail(run_id, INTERNAL_ERROR, detail={"exception": type(exc).__name__})
        status = Status.FAILED
    finally:
        _delete_bundle(run)
    if status == Status.SUCCEEDED and not run.dry_run:
        _sync_staff_accounts(run, base_url=base_url)
    return str(status)


def _decrypt_bundle(run: ImportRun, path: Path) -> None:
    if not run.bundle.name:
        raise FileNotFoundError("The run has no stored bundle.")
    with default_storage.open(run.bundle.name, "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)


def _import(run: ImportRun, path: Path) -> str:
    from btam.people.importers import run_import

    result = run_import(run, path, actor=run.created_by, progress=partial(record_progress, run.pk))
    if result.status not in ImportRun.FINISHED:  # the importer always finishes the run; never leave it running
        _fail(run.pk, INTERNAL_ERROR)
        return Status.FAILED
    return result.status


def _fail(run_id: int, reason: str, *, detail: dict[str, Any] | None = None) -> bool:
    with transaction.atomic():
        before = ImportRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        moved = _transition(
            run_id,
            Status.FAILED,
            phase="failed",
            errors=[{"file": "", "line": 0, "column": "", "reason": reason}],
            finished_at=now(),
        )
        if moved:
            AuditEvent.objects.record(
                actor=None,
                actor_label="roster import",
                verb=Verb.UPDATED,
                target_type=ImportRun._meta.label_lower,
                target_id=str(run_id),
                district_id=ImportRun.objects.filter(pk=run_id).values_list("district_id", flat=True).first(),
                before={"status": before},
                after={"status": Status.FAILED},
                reason=reason,
                detail=detail,
            )
    return moved


def _delete_bundle(run: ImportRun) -> None:
    name = run.bundle.name
    if not name:
        return
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("Import %s: the stored bundle could not be deleted", run.pk)
        return
    ImportRun.objects.filter(pk=run.pk).update(bundle="")
    run.bundle.name = ""


def _sync_staff_accounts(run: ImportRun, *, base_url: str) -> None:
    from btam.people import staff_accounts

    try:
        result = staff_accounts.sync_staff_accounts(district=run.district, actor=run.created_by, base_url=base_url)
    except Exception as exc:
        logger.error("Import %s: linking staff accounts stopped on %s", run.pk, type(exc).__name__)
        return
    if result.linked or result.invited:
        with transaction.atomic():
            fresh = ImportRun.objects.select_for_update().get(pk=run.pk)
            fresh.summary = {**fresh.summary, staff_accounts.SUMMARY_KEY: result.as_dict()}
            fresh.save(update_fields=["summary"])


# The sweep ----------------------------------------------------------------------------------------


def fail_stale_runs(*, at: dt.datetime | None = None) -> int:
    """Fail runs whose worker stopped (running, silent for STALE_AFTER) or never started (queued
    that long). The import is one transaction, so nothing of theirs was imported."""
    at = at or now()
    cutoff = at - STALE_AFTER
    failed = 0
    for run_id in ImportRun.objects.filter(status=Status.RUNNING, progress_at__lt=cutoff).values_list("pk", flat=True):
        failed += _sweep_one(run_id, Status.RUNNING, cutoff, WORKER_STOPPED)
    for run_id in ImportRun.objects.filter(status=Status.QUEUED, created_at__lt=cutoff).values_list("pk", flat=True):
        failed += _sweep_one(run_id, Status.QUEUED, cutoff, NEVER_STARTED)
    return failed


def _sweep_one(run_id: int, status: str, cutoff: dt.datetime, reason: str) -> int:
    with transaction.atomic():
        # A run whose import transaction holds its row is alive: skip it rather than wait.
        run = ImportRun.objects.select_for_update(skip_locked=True).filter(pk=run_id, status=status).first()
        if run is None:
            return 0
        last_sign = run.progress_at if status == Status.RUNNING else run.created_at
        if last_sign is None or last_sign >= cutoff:
            return 0
        if not _fail(run_id, reason):
            return 0
    _delete_bundle(run)
    return 1
