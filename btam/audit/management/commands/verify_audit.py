"""Check the audit trail's hash chain: ``manage.py verify_audit``.

Exits 0 with "N events verified, M not yet sealed", or 1 naming the first bad event (its seq and
id) and what is wrong with it: content altered, missing event or gap in sequence, out of order, or
hash mismatch. Events not sealed yet (the worker seals them within seconds) are counted, not
checked.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from btam.audit import chain, triggers


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 naming the first bad event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        absent = triggers.missing(using)
        if absent:
            self.stderr.write(
                "Warning: the append-only triggers are missing or disabled: "
                + ", ".join(sorted(absent))
                + ". Restore them with the SQL in btam/audit/migrations/0002_chain_head_and_append_only_triggers.py."
            )
        result = chain.verify(using=using)
        if result.problem is not None:
            raise CommandError(
                f"Audit chain is broken. {result.problem} ({result.verified} events verified before it)",
                returncode=1,
            )
        self.stdout.write(result.summary())
