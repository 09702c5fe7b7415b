from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from btam.orgs.models import District
from btam.people.importers import format_issue, run_import
from btam.people.importers.base import SUMMARY_KEYS
from btam.people.models import ImportRun


class Command(BaseCommand):
    help = (
        "Import a OneRoster 1.1 or 1.2 CSV bundle (a zip or a folder) into a district's people registry. "
        "All or nothing: a bundle with any error imports nothing and every error is listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the bundle: a .zip file or a folder of CSV files")
        parser.add_argument("--district", help="district short name (needed when there is more than one)")
        parser.add_argument("--dry-run", action="store_true", help="check and summarise without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        district = self._district(options["district"])
        size = path.stat().st_size if path.is_file() else 0
        run = ImportRun.objects.create(
            district=district, source_format="oneroster", dry_run=options["dry_run"], bundle_size=size
        )
        verbosity = int(options["verbosity"])

        def progress(done: int, total: int, phase: str) -> None:
            if verbosity >= 2:
                self.stderr.write(f"  {phase}: {done}" + (f" of {total}" if total else "") + " rows")

        run_import(run, path, actor=None, progress=progress, actor_label="manage.py import_oneroster")
        self._print_summary(run)
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {format_issue(warning)}"))
        for error in run.errors:
            self.stderr.write(format_issue(error))
        if run.status == ImportRun.Status.SUCCEEDED:
            what = "Checked (dry run, nothing written)" if run.dry_run else "Imported"
            changed = any(s.get(k) for s in run.summary.values() for k in ("created", "updated", "deactivated")) or any(
                s.get("schools_created") for s in run.summary.values()
            )
            tail = "" if changed else " Nothing changed: every row was already up to date."
            self.stdout.write(
                self.style.SUCCESS(f"{what}: OneRoster {run.source_version} into {district.name} (run {run.pk}).{tail}")
            )
            return
        label = "Rejected" if run.status == ImportRun.Status.REJECTED else "Failed"
        raise CommandError(f"{label}: {len(run.errors)} error(s) listed above; nothing imported (run {run.pk}).")

    def _district(self, slug: str | None) -> District:
        if slug:
            try:
                return District.objects.get(slug=slug)
            except District.DoesNotExist:
                raise CommandError(f"No district with the short name {slug!r}.") from None
        districts = list(District.objects.all()[:2])
        if len(districts) != 1:
            raise CommandError("Name the district with --district SLUG (there is not exactly one).")
        return districts[0]

    def _print_summary(self, run: ImportRun) -> None:
        if not run.summary:
            return
        width = max(len(name) for name in run.summary) + 2
        headings = ["rows", *SUMMARY_KEYS, "not in file"]
        self.stdout.write(f"{'file':<{width}}" + "".join(f"{h:>12}" for h in headings))
        for name, counts in run.summary.items():
            if not isinstance(counts, dict) or "rows" not in counts:
                continue  # added by others (e.g. staff accounts)
            note = str(counts.get("note", ""))
            line = f"{name:<{width}}{counts['rows']:>12}"
            if note and not any(counts.get(k) for k in SUMMARY_KEYS) and counts.get("not_in_file") is None:
                self.stdout.write(f"{line}  {note}")
                continue
            not_in_file = counts.get("not_in_file")
            line += "".join(f"{counts.get(k, 0):>12}" for k in SUMMARY_KEYS)
            line += f"{'' if not_in_file is None else not_in_file:>12}"
            extras = [note] if note else []
            if counts.get("schools_created"):
                extras.append(f"{counts['schools_created']} school(s) created")
            self.stdout.write(line + (f"  ({'; '.join(extras)})" if extras else ""))
