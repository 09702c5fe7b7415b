"""Roster imports: a district's own data (OneRoster CSV today) into the people registry.

``run_import(run, path, actor=...)`` reads the bundle twice: pass 1 checks every file and row and
writes nothing; when it found no error, pass 2 applies everything in one transaction, with the
audit event, so a bundle with any error imports nothing. ``run.dry_run`` applies and rolls back,
which gives the exact summary without writing.

A new format is one more module: a :class:`~btam.people.importers.base.FormatImporter` subclass
added to ``FORMATS`` below (see ``oneroster.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction

from btam.audit.models import AuditEvent, Verb
from btam.lib import clock
from btam.people.importers.base import (
    Bundle,
    BundleError,
    FormatImporter,
    ImportContext,
    Issue,
    ProgressCallback,
    format_issue,
)
from btam.people.importers.oneroster import OneRosterImporter
from btam.people.models import ImportRun

if TYPE_CHECKING:
    from btam.accounts.models import User

__all__ = ["FORMATS", "BundleError", "detect_format", "format_issue", "run_import"]

logger = logging.getLogger(__name__)

FORMATS: dict[str, type[FormatImporter]] = {OneRosterImporter.name: OneRosterImporter}


def detect_format(path: Path) -> str | None:
    """The name of the format a zip or folder looks like (``"oneroster"``), or None."""
    try:
        with Bundle(path) as bundle:
            return _detect(bundle)
    except BundleError:
        return None


def _detect(bundle: Bundle) -> str | None:
    for name, importer in FORMATS.items():
        if importer.sniff(bundle):
            return name
    return None


def run_import(
    run: ImportRun,
    path: Path,
    *,
    actor: User | None,
    progress: ProgressCallback | None = None,
    actor_label: str = "",
) -> ImportRun:
    """Check, then (when there is no error) apply the bundle at ``path`` for ``run.district``.

    Fills ``run.status``, ``summary``, ``errors``, ``warnings``, ``source_version``, ``phase``,
    ``rows_done``/``rows_total`` and saves the run. ``progress(rows_done, rows_total, phase)`` is
    called every few thousand rows (``rows_total`` is 0 while validating: it is not known yet);
    it runs inside the import transaction during the apply phase, so a caller that shows progress
    must write it through another connection. Never raises for bad input: a bad bundle is
    ``REJECTED`` with its errors; an unexpected failure is ``FAILED`` (and logged).
    """
    run.status = ImportRun.Status.RUNNING
    run.started_at = clock.now()
    run.finished_at = None
    run.summary, run.errors, run.warnings = {}, [], []
    run.save()
    try:
        bundle = Bundle(Path(path))
    except BundleError as exc:
        return _reject(run, [exc.issue], actor=actor, actor_label=actor_label)
    except OSError as exc:
        issue = Issue("", 0, "", f"the bundle cannot be read ({exc.strerror})")
        return _reject(run, [issue], actor=actor, actor_label=actor_label)
    with bundle:
        importer_class = FORMATS.get(run.source_format) if run.source_format else None
        if importer_class is None or not importer_class.sniff(bundle):
            detected = _detect(bundle)
            expected = run.source_format or "a known format"
            if detected is None or (run.source_format and detected != run.source_format):
                reason = f"not a {expected} bundle (no manifest.csv, users.csv or orgs.csv found)"
                return _reject(run, [*bundle.errors, Issue("", 0, "", reason)], actor=actor, actor_label=actor_label)
            importer_class = FORMATS[detected]
            run.source_format = detected
        ctx = ImportContext(run, bundle, actor=actor, progress=progress)
        for issue in bundle.errors:
            ctx.error(issue.file, issue.line, issue.column, issue.reason)
        importer = importer_class(ctx)
        try:
            importer.validate()
        except BundleError as exc:
            ctx.error(exc.issue.file, exc.issue.line, exc.issue.column, exc.issue.reason)
        run.source_version = ctx.version[:10]
        if ctx.errors:
            return _reject(run, [], ctx=ctx, actor=actor, actor_label=actor_label)
        try:
            with transaction.atomic():
                importer.apply()
                _fill(run, ctx)
                run.status = ImportRun.Status.SUCCEEDED
                run.finished_at = clock.now()
                if run.dry_run:
                    transaction.set_rollback(True)
                elif not _still_running(run):  # failed meanwhile (a stalled worker, see imports.py)
                    transaction.set_rollback(True)
                    run.refresh_from_db()
                    return run
                else:
                    _audit(run, ctx, actor=actor, actor_label=actor_label)
                    run.save()
        except BundleError as exc:  # the file changed or broke between the two passes
            return _reject(run, [exc.issue], ctx=ctx, actor=actor, actor_label=actor_label)
        except Exception:
            logger.exception("import run %s failed", run.pk)
            run.status = ImportRun.Status.FAILED
            run.summary = {}
            run.errors = [{"file": "", "line": 0, "column": "", "reason": "internal error: nothing imported"}]
            run.finished_at = clock.now()
            run.save()
            return run
        if run.dry_run:
            run.save()  # outside the rolled-back transaction
        return run


def _still_running(run: ImportRun) -> bool:
    """Lock the run row and check that nobody finished it while the import ran."""
    status = ImportRun.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True).first()
    return status == ImportRun.Status.RUNNING


def _fill(run: ImportRun, ctx: ImportContext) -> None:
    run.summary = {name: s.as_dict() for name, s in ctx.summary.items()}
    run.warnings = ctx.warnings.as_list()
    run.errors = ctx.errors.as_list()
    run.source_version = ctx.version[:10]
    run.phase = ctx.phase
    run.rows_done = ctx.rows_done
    run.rows_total = ctx.rows_total


def _audit_detail(run: ImportRun, ctx: ImportContext | None, error_count: int) -> dict[str, Any]:
    """Counts only: no names or ids of people."""
    return {
        "format": run.source_format,
        "version": run.source_version,
        "status": run.status,
        "files": run.summary,
        "errors": error_count,
        "warnings": ctx.warnings.count if ctx is not None else 0,
    }


def _audit(run: ImportRun, ctx: ImportContext | None, *, actor: User | None, actor_label: str) -> None:
    AuditEvent.objects.record(
        actor=actor,
        actor_label=actor_label,
        verb=Verb.UPDATED,
        target=run,
        reason="roster import",
        detail=_audit_detail(run, ctx, 0),
    )


def _reject(
    run: ImportRun,
    errors: list[Issue],
    *,
    ctx: ImportContext | None = None,
    actor: User | None,
    actor_label: str,
) -> ImportRun:
    """Nothing imported: keep every error (and the warnings so far) and record the rejection."""
    if ctx is not None:
        for issue in errors:
            ctx.error(issue.file, issue.line, issue.column, issue.reason)
        _fill(run, ctx)
        for name, count in ctx.errors.rows_by_file.items():
            if name in run.summary:
                run.summary[name]["rejected"] = count
        error_count = ctx.errors.count
    else:
        run.errors = [i.as_dict() for i in errors]
        error_count = len(errors)
    run.status = ImportRun.Status.REJECTED
    run.finished_at = clock.now()
    with transaction.atomic():
        if not run.dry_run:
            AuditEvent.objects.record(
                actor=actor,
                actor_label=actor_label,
                verb=Verb.UPDATED,
                target=run,
                reason="roster import rejected",
                detail=_audit_detail(run, ctx, error_count),
            )
        run.save()
    return run
