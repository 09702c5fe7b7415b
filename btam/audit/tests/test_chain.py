"""Sealing events into the hash chain, and `manage.py verify_audit` finding any tampering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils.module_loading import import_string

from btam.audit import chain, triggers
from btam.audit.models import AuditEvent, ChainHead, Verb
from btam.audit.tests.conftest import postgres_only, run_verify, tamper
from btam.worker.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db

Make = Callable[..., list[AuditEvent]]


def _sealed() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__isnull=False).order_by("seq"))


# Sealing -------------------------------------------------------------------------------------
def test_it_seals_new_events_in_id_order_into_a_linked_chain(make_events: Make) -> None:
    events = make_events(4)
    assert chain.seal_pending() == 4
    sealed = _sealed()
    assert [e.pk for e in sealed] == [e.pk for e in events]
    assert [e.seq for e in sealed] == [1, 2, 3, 4]
    assert sealed[0].prev_hash == chain.GENESIS
    for before, after in zip(sealed, sealed[1:], strict=False):
        assert after.prev_hash == before.hash
    for event in sealed:
        assert event.hash == chain.compute_hash(event.prev_hash, event)
    head = ChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (4, sealed[-1].hash)


def test_events_are_written_unsealed(make_events: Make) -> None:
    (event,) = make_events(1)
    assert (event.seq, event.prev_hash, event.hash) == (None, "", "")


def test_sealing_again_seals_nothing_and_later_events_continue_the_chain(make_events: Make) -> None:
    make_events(2)
    chain.seal_pending()
    assert chain.seal_pending() == 0
    make_events(3)
    assert chain.seal_pending() == 3
    sealed = _sealed()
    assert [e.seq for e in sealed] == [1, 2, 3, 4, 5]
    assert sealed[2].prev_hash == sealed[1].hash
    assert run_verify().code == 0


def test_it_seals_in_batches_and_stops_at_the_limit(make_events: Make) -> None:
    make_events(7)
    assert chain.seal_pending(limit=5, batch=2) == 5
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 2
    assert chain.seal_pending(batch=2) == 2
    assert [e.seq for e in _sealed()] == list(range(1, 8))


def test_it_recreates_a_missing_chain_head_on_an_empty_database(make_events: Make) -> None:
    with triggers.suspended():
        ChainHead.objects.all().delete()
    make_events(1)
    assert chain.seal_pending() == 1
    assert ChainHead.objects.get().last_seq == 1


def test_the_periodic_task_seals_the_chain(make_events: Make) -> None:
    job = next(j for j in PERIODIC_JOBS if j.name == "audit-seal")
    task = import_string(job.task)
    assert task.queue_name == "maintenance"
    make_events(2)
    assert task.call() == 2
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor_name", "Someone Else"),
        ("actor_email", "else@example.test"),
        ("actor_id", 999),
        ("district_id", 999),
        ("verb", Verb.DELETED),
        ("target_type", "people.person"),
        ("target_id", "42"),
        ("reason", "a different reason"),
        ("before", {"x": 1}),
        ("after", {"n": 2}),
        ("detail", {"via": "shell"}),
        ("ip_address", "203.0.113.9"),
        ("request_id", "forged-request-id"),
        ("id", 123456),
    ],
)
def test_the_hash_covers_every_content_field(make_events: Make, field: str, value: Any) -> None:
    (event,) = make_events(1)
    original = chain.compute_hash(chain.GENESIS, event)
    setattr(event, field, value)
    assert chain.compute_hash(chain.GENESIS, event) != original


def test_the_hash_covers_the_time_and_the_previous_hash(make_events: Make) -> None:
    (event,) = make_events(1)
    original = chain.compute_hash(chain.GENESIS, event)
    assert chain.compute_hash("f" * 64, event) != original
    event.created_at = event.created_at.replace(microsecond=(event.created_at.microsecond + 1) % 1_000_000)
    assert chain.compute_hash(chain.GENESIS, event) != original


# verify_audit --------------------------------------------------------------------------------
def test_it_verifies_an_untouched_chain_and_counts_unsealed_events(make_events: Make) -> None:
    make_events(5)
    chain.seal_pending()
    make_events(2)
    result = run_verify()
    assert result.code == 0, result.err
    assert result.out.strip() == "5 events verified, 2 not yet sealed"


def test_it_verifies_an_empty_trail() -> None:
    result = run_verify()
    assert result.code == 0
    assert result.out.strip() == "0 events verified, 0 not yet sealed"


def test_it_names_the_first_altered_event(make_events: Make) -> None:
    events = make_events(5)
    chain.seal_pending()
    tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["nothing to see here", events[2].pk])
    tamper("UPDATE audit_auditevent SET actor_name = %s WHERE id = %s", ["Nobody", events[3].pk])
    result = run_verify()
    assert result.code == 1
    assert f"seq 3 (event id {events[2].pk})" in result.err
    assert chain.CONTENT_ALTERED in result.err


def test_it_notices_an_altered_json_field(make_events: Make) -> None:
    events = make_events(3)
    chain.seal_pending()
    tamper("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"n": 99}', events[0].pk])
    result = run_verify()
    assert result.code == 1
    assert f"seq 1 (event id {events[0].pk})" in result.err
    assert chain.CONTENT_ALTERED in result.err


def test_it_names_a_deleted_event_by_its_seq(make_events: Make) -> None:
    events = make_events(5)
    chain.seal_pending()
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    result = run_verify()
    assert result.code == 1
    assert "First bad event: seq 2:" in result.err
    assert chain.GAP in result.err
    assert f"the next sealed event is seq 3 (event id {events[2].pk})" in result.err


def test_it_notices_a_deleted_event_even_when_the_rest_were_renumbered(make_events: Make) -> None:
    events = make_events(4)
    chain.seal_pending()
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    tamper("UPDATE audit_auditevent SET seq = seq - 1 WHERE seq > 2")
    result = run_verify()
    assert result.code == 1
    assert f"seq 2 (event id {events[2].pk})" in result.err
    assert chain.HASH_MISMATCH in result.err


def test_it_notices_that_the_newest_event_was_deleted(make_events: Make) -> None:
    events = make_events(3)
    chain.seal_pending()
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    result = run_verify()
    assert result.code == 1
    assert "First bad event: seq 3:" in result.err
    assert chain.GAP in result.err
    assert "the newest events were removed" in result.err


def test_it_names_events_whose_order_was_swapped(make_events: Make) -> None:
    events = make_events(5)
    chain.seal_pending()
    # Swap the seq of the 2nd and 3rd events (through a free value: seq is unique).
    tamper("UPDATE audit_auditevent SET seq = -1 WHERE id = %s", [events[1].pk])
    tamper("UPDATE audit_auditevent SET seq = 2 WHERE id = %s", [events[2].pk])
    tamper("UPDATE audit_auditevent SET seq = 3 WHERE id = %s", [events[1].pk])
    result = run_verify()
    assert result.code == 1
    assert f"seq 2 (event id {events[2].pk})" in result.err
    assert chain.OUT_OF_ORDER in result.err
    assert f"sealed after event id {events[1].pk}" in result.err


def test_it_notices_an_event_rewritten_with_a_fresh_hash(make_events: Make) -> None:
    # Changing an event and recomputing its own hash still breaks the link to the next event.
    events = make_events(4)
    chain.seal_pending()
    victim = AuditEvent.objects.get(pk=events[1].pk)
    victim.reason = "rewritten"
    new_hash = chain.compute_hash(victim.prev_hash, victim)
    tamper("UPDATE audit_auditevent SET reason = %s, hash = %s WHERE id = %s", ["rewritten", new_hash, events[1].pk])
    result = run_verify()
    assert result.code == 1
    assert f"seq 3 (event id {events[2].pk})" in result.err
    assert chain.HASH_MISMATCH in result.err


def test_it_notices_a_rewritten_hash_of_the_newest_event(make_events: Make) -> None:
    events = make_events(2)
    chain.seal_pending()
    victim = AuditEvent.objects.get(pk=events[1].pk)
    victim.reason = "rewritten"
    new_hash = chain.compute_hash(victim.prev_hash, victim)
    tamper("UPDATE audit_auditevent SET reason = %s, hash = %s WHERE id = %s", ["rewritten", new_hash, events[1].pk])
    result = run_verify()
    assert result.code == 1
    assert f"seq 2 (event id {events[1].pk})" in result.err
    assert "chain head" in result.err


def test_it_notices_an_unsealed_event_that_was_sealed_by_hand(make_events: Make) -> None:
    events = make_events(2)
    chain.seal_pending()
    (extra,) = make_events(1)
    with connection.cursor() as cursor:  # allowed by the triggers, but not by the chain head
        cursor.execute(
            "UPDATE audit_auditevent SET seq = 3, prev_hash = %s, hash = %s WHERE id = %s",
            [AuditEvent.objects.get(pk=events[1].pk).hash, "f" * 64, extra.pk],
        )
    result = run_verify()
    assert result.code == 1
    assert f"seq 3 (event id {extra.pk})" in result.err
    assert chain.CONTENT_ALTERED in result.err


def test_it_warns_when_the_triggers_are_missing(make_events: Make) -> None:
    make_events(1)
    chain.seal_pending()
    with triggers.suspended():
        result = run_verify()
    assert result.code == 0
    assert "append-only triggers are missing or disabled" in result.err


# Concurrency (PostgreSQL: SQLite serializes writers by itself) ---------------------------------
def _in_thread(target: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_never_fork_the_chain() -> None:
    for i in range(400):
        AuditEvent.objects.record(actor=None, actor_label=f"load {i}", verb=Verb.VIEWED)
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def sealer() -> None:
        barrier.wait()
        counts.append(chain.seal_pending(batch=25))

    threads = [_in_thread(sealer) for _ in range(3)]
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == 400
    assert [e.seq for e in _sealed()] == list(range(1, 401))
    assert run_verify().code == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_writing_an_event_never_waits_for_the_sealer() -> None:
    AuditEvent.objects.record(actor=None, actor_label="first", verb=Verb.VIEWED)
    locked, release = threading.Event(), threading.Event()

    def slow_sealer() -> None:
        with transaction.atomic():
            ChainHead.objects.select_for_update().get_or_create(pk=ChainHead.SINGLETON_ID)
            locked.set()
            release.wait(timeout=30)

    thread = _in_thread(slow_sealer)
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '2s'")  # waiting on the lock would fail the test
        # The sealer holds the chain lock; a request still writes its event at once.
        with transaction.atomic():
            AuditEvent.objects.record(actor=None, actor_label="second", verb=Verb.VIEWED)
    finally:
        release.set()
        thread.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert AuditEvent.objects.count() == 2
    assert chain.seal_pending() == 2
