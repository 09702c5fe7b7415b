from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from btam.cases.demo import load_demo_cases
from btam.core.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_STUDENTS, load_demo_district, load_demo_roster
from btam.discussion.demo import load_demo_discussion
from btam.intake.demo import DEMO_RECEIPT_CODE, load_demo_reports
from btam.meetings.demo import load_demo_meetings
from btam.people.importers.base import format_issue
from btam.teams.demo import load_demo_teams


class Command(BaseCommand):
    help = "Load the fictitious demo district and its roster (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--students", type=int, default=DEMO_STUDENTS, help=f"students in the demo roster (default {DEMO_STUDENTS})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        district, created = load_demo_district()
        verb = "Loaded" if created else "Already loaded:"
        self.stdout.write(self.style.SUCCESS(f"{verb} {district.name} with {district.schools.count()} schools."))
        run = load_demo_roster(district, students=max(1, options["students"]))
        if run is None:
            self.stdout.write("Demo roster already imported.")
        elif run.status == run.Status.SUCCEEDED:
            people = run.summary.get("users.csv", {}).get("created", 0)
            self.stdout.write(
                self.style.SUCCESS(f"Imported the demo roster: {people} people (students, guardians, staff).")
            )
        else:
            self.stdout.write(self.style.ERROR(f"The demo roster was not imported ({run.get_status_display()}):"))
            for error in run.errors[:20]:
                self.stdout.write(f"  {format_issue(error)}")
        teams = load_demo_teams(district)
        self.stdout.write(f"Added {teams} demo teams." if teams else "Demo teams already loaded.")
        reports = load_demo_reports(district)
        self.stdout.write(f"Added {reports} demo reports." if reports else "Demo reports already loaded.")
        cases = load_demo_cases(district)
        self.stdout.write(f"Added {cases} demo cases." if cases else "Demo cases already loaded.")
        comments = load_demo_discussion(district)
        self.stdout.write(f"Added {comments} demo case comments." if comments else "Demo case comments already loaded.")
        meetings = load_demo_meetings(district)
        self.stdout.write(
            f"Added {meetings} demo case conferences." if meetings else "Demo case conferences already loaded."
        )
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.role:<18} {account.email}")
        self.stdout.write(
            f"Try the reporter's follow-up at /report/follow-up/ with the demo receipt code {DEMO_RECEIPT_CODE}."
        )
        if not settings.DEMO_MODE:
            self.stdout.write(self.style.WARNING("DEMO_MODE is off: demo accounts cannot sign in."))
