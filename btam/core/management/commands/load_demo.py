from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from btam.core.demo import ACCOUNTS, DEMO_PASSWORD, load_demo_district


class Command(BaseCommand):
    help = "Load the fictitious demo district (idempotent) and print the demo sign-ins."

    def handle(self, *args: Any, **options: Any) -> None:
        district, created = load_demo_district()
        verb = "Loaded" if created else "Already loaded:"
        self.stdout.write(self.style.SUCCESS(f"{verb} {district.name} with {district.schools.count()} schools."))
        self.stdout.write("Demo sign-ins (password for all: %s):" % DEMO_PASSWORD)
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.role:<18} {account.email}")
        if not settings.DEMO_MODE:
            self.stdout.write(self.style.WARNING("DEMO_MODE is off: demo accounts cannot sign in."))
