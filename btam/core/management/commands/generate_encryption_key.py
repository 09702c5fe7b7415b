from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from btam.lib import crypto


class Command(BaseCommand):
    help = (
        "Print one new encryption key. Put it first in BTAM_ENCRYPTION_KEYS (comma-separated, newest "
        "first), restart, then run `manage.py rotate_keys`. See docs/encryption.md."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.generate_key())
