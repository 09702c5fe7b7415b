"""The database itself refuses to change or remove audit events (both PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from btam.audit import chain, triggers
from btam.audit.models import AuditEvent, ChainHead, Verb
from btam.audit.tests.conftest import postgres_only

pytestmark = pytest.mark.django_db

Make = Callable[..., list[AuditEvent]]


def _refused(sql: str, params: list[Any] | None = None) -> None:
    with pytest.raises(IntegrityError, match="append-only|only moves forward"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])


def test_every_append_only_trigger_is_installed() -> None:
    assert triggers.missing() == frozenset()
    assert triggers.installed() >= triggers.EXPECTED[connection.vendor]


def test_it_refuses_to_update_an_event_through_the_orm(make_events: Make) -> None:
    (event,) = make_events(1)
    event.reason = "rewritten"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    event.refresh_from_db()
    assert event.reason == "reason 0"
    assert event.actor_name == "tester 0"


def test_it_refuses_to_update_an_event_with_raw_sql(make_events: Make) -> None:
    (event,) = make_events(1)
    _refused("UPDATE audit_auditevent SET verb = %s WHERE id = %s", ["deleted", event.pk])
    _refused("UPDATE audit_auditevent SET created_at = created_at WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == Verb.UPDATED


def test_it_refuses_to_delete_an_event_through_the_orm(make_events: Make) -> None:
    (event,) = make_events(1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_delete_an_event_with_raw_sql(make_events: Make) -> None:
    make_events(2)
    _refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_it_allows_the_one_time_seal_and_nothing_else(make_events: Make) -> None:
    (event,) = make_events(1)
    seal = "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s"
    # A seal must set all three columns.
    _refused(seal, [1, "", "b" * 64, event.pk])
    _refused(seal, [1, "a" * 64, "", event.pk])
    # Content cannot change together with the seal.
    _refused(
        "UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s, reason = %s WHERE id = %s",
        ["a" * 64, "b" * 64, "other", event.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute(seal, [1, "a" * 64, "b" * 64, event.pk])
    # Sealed once: never again.
    _refused(seal, [2, "c" * 64, "d" * 64, event.pk])
    _refused("UPDATE audit_auditevent SET seq = NULL WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert (event.seq, event.prev_hash, event.hash) == (1, "a" * 64, "b" * 64)


def test_the_sealer_passes_the_triggers(make_events: Make) -> None:
    make_events(3)
    assert chain.seal_pending() == 3
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


def test_the_chain_head_cannot_be_deleted_or_moved_back(make_events: Make) -> None:
    make_events(2)
    chain.seal_pending()
    _refused("DELETE FROM audit_chainhead")
    _refused("UPDATE audit_chainhead SET last_seq = 1")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ChainHead.objects.all().delete()
    assert ChainHead.objects.get().last_seq == 2


@postgres_only
def test_it_refuses_to_truncate_the_trail_on_postgresql(make_events: Make) -> None:
    make_events(1)
    _refused("TRUNCATE audit_auditevent")
    _refused("TRUNCATE audit_chainhead")
    assert AuditEvent.objects.count() == 1


@postgres_only
def test_it_refuses_to_truncate_an_empty_trail_on_postgresql() -> None:
    _refused("TRUNCATE audit_auditevent")


def test_suspending_the_triggers_restores_them_afterwards(make_events: Make) -> None:
    (event,) = make_events(1)
    with triggers.suspended():
        assert triggers.missing() == triggers.EXPECTED[connection.vendor]
        AuditEvent.objects.filter(pk=event.pk).update(reason="changed while suspended")
    assert triggers.missing() == frozenset()
    _refused("UPDATE audit_auditevent SET reason = 'again' WHERE id = %s", [event.pk])


def test_flush_refuses_to_empty_the_trail_outside_tests(make_events: Make, settings: Any) -> None:
    make_events(1)
    settings.TESTING = False
    with pytest.raises(CommandError, match="append-only"), transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_database_is_still_emptied_after_the_test() -> None:
    # The teardown flushes every table: with the triggers on, that would fail here.
    AuditEvent.objects.record(actor=None, verb=Verb.LOGIN_FAILED, reason="wrong email or password")
    chain.seal_pending()
    assert triggers.missing() == frozenset()


@pytest.mark.django_db(transaction=True)
def test_the_triggers_are_back_after_a_flush() -> None:
    call_command("flush", interactive=False, verbosity=0)
    assert triggers.missing() == frozenset()
