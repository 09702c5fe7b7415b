from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from btam.people.roster_gen import write_bundle


class Command(BaseCommand):
    help = (
        "Write a OneRoster 1.2 bundle of fictitious people (students, guardians, staff, enrolments, "
        "demographics) for demos and benchmarks. Import it with `manage.py import_oneroster`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=500, help="number of students (default 500)")
        parser.add_argument("--staff", type=int, help="number of staff (default: a tenth of the students)")
        parser.add_argument("--schools", type=int, help="number of schools (default: one per 800 students, 3 at least)")
        parser.add_argument("--seed", type=int, default=2025, help="the same seed writes the same bundle")
        parser.add_argument("--output", type=Path, help="a .zip file, or a folder (default: var/demo-roster.zip)")

    def handle(self, *args: Any, **options: Any) -> None:
        students: int = options["students"]
        if students < 1:
            raise CommandError("--students must be at least 1.")
        if options["staff"] is not None and options["staff"] < 1:
            raise CommandError("--staff must be at least 1.")
        output: Path = options["output"] or Path(settings.VAR_DIR) / "demo-roster.zip"
        stats = write_bundle(
            output, students=students, staff=options["staff"], schools=options["schools"], seed=options["seed"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {output}: {stats.students} students, {stats.guardians} guardians, {stats.staff} staff "
                f"at {stats.schools} schools ({stats.transfers} transfers); all fictitious."
            )
        )
        for name, rows in stats.rows.items():
            self.stdout.write(f"  {name:<22}{rows:>10} rows")
