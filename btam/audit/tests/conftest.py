"""Helpers for the audit tests: write events, tamper with the trail, run verify_audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from btam.audit import triggers
from btam.audit.models import AuditEvent, Verb

# PostgreSQL-only behaviour (TRUNCATE, row locks between connections): skipped on SQLite.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """The shared test users get a password each; Argon2 would make these tests crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class VerifyResult:
    code: int
    out: str
    err: str


def run_verify() -> VerifyResult:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return VerifyResult(exc.returncode, out.getvalue(), str(exc) + err.getvalue())
    return VerifyResult(0, out.getvalue(), err.getvalue())


def tamper(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL against the trail with the append-only triggers off, as an attacker with the
    table owner's rights could."""
    with triggers.suspended(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def make_events(db: None) -> Callable[..., list[AuditEvent]]:
    def make(n: int, **fields: Any) -> list[AuditEvent]:
        fields.setdefault("verb", Verb.UPDATED)
        return [
            AuditEvent.objects.record(
                actor=None,
                actor_label=f"tester {i}",
                target_type=fields.get("target_type", "orgs.school"),
                target_id=str(i),
                reason=f"reason {i}",
                after={"n": i},
                **{k: v for k, v in fields.items() if k not in ("target_type",)},
            )
            for i in range(n)
        ]

    return make
