"""Django's ``flush``, refused once the audit trail exists, except in tests.

The append-only triggers refuse the DELETE (SQLite) or TRUNCATE (PostgreSQL) that ``flush`` runs,
so outside tests ``flush`` stops with a message instead: the trail is never emptied by accident.
(To start a development database over, delete it and run ``migrate``.) Tests that use a
transactional database (the browser tests' live server, for one) are flushed after every test:
there the triggers are suspended for the flush, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlushCommand

from btam.audit import triggers


class Command(DjangoFlushCommand):
    def handle(self, **options: Any) -> None:
        database = options["database"]
        if getattr(settings, "TESTING", False):
            with triggers.suspended(using=database):
                super().handle(**options)
            return
        present = triggers.installed(using=database)
        if present:
            raise CommandError(
                "Refused: the audit trail is append-only and flush would empty it "
                f"(triggers {', '.join(sorted(present))}). To start a development database over, "
                "delete it (or drop and create it) and run `manage.py migrate`."
            )
        super().handle(**options)
