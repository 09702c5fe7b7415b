"""The hash chain over the audit trail: sealing new events, and checking the sealed ones.

Writing an event takes no lock: :meth:`AuditEventManager.record` is a plain INSERT with ``seq``
empty. The worker seals new events every few seconds (:func:`seal_pending`, run by the
``seal_audit_chain`` task): in id order, each gets the next ``seq``, the previous event's hash as
``prev_hash``, and ``hash = sha256(prev_hash + canonical JSON of its content)``. The
:class:`ChainHead` row is locked while sealing, so two sealers never fork the chain, and it keeps
the last seq and hash, so that deleting the newest events is noticed too.

:func:`verify` walks the sealed events by seq and reports the first one that is wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

from btam.audit.models import AuditEvent, ChainHead
from btam.lib import clock

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
HASH_VERSION = 1
SEAL_BATCH = 500


def canonical_content(event: AuditEvent) -> str:
    """The event's content (everything but the seal) as canonical JSON: sorted keys, no spaces."""
    created_at = event.created_at.astimezone(dt.UTC).isoformat() if event.created_at else None
    payload: dict[str, Any] = {
        "v": HASH_VERSION,
        "id": event.pk,
        "created_at": created_at,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "actor_email": event.actor_email,
        "district_id": event.district_id,
        "verb": event.verb,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "reason": event.reason,
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
        "ip_address": str(event.ip_address) if event.ip_address else None,
        "request_id": event.request_id,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_content(event)).encode()).hexdigest()


def _head(using: str) -> ChainHead:
    head, _ = ChainHead.objects.using(using).get_or_create(pk=ChainHead.SINGLETON_ID)
    return head


def seal_batch(*, limit: int = SEAL_BATCH, using: str = DEFAULT_DB_ALIAS) -> int:
    """Seal up to ``limit`` unsealed events, oldest id first, in one short transaction."""
    _head(using)  # exists before it is locked (a flushed test database has none)
    with transaction.atomic(using=using):
        # PostgreSQL: a second sealer waits here until the first commits, then continues from the
        # head the first one left. SQLite: writers are serialized already (BEGIN IMMEDIATE).
        head = ChainHead.objects.using(using).select_for_update().get(pk=ChainHead.SINGLETON_ID)
        events = list(AuditEvent.objects.using(using).filter(seq__isnull=True).order_by("id")[:limit])
        if not events:
            return 0
        seq, prev = head.last_seq, head.last_hash or GENESIS
        for event in events:
            seq += 1
            event.seq, event.prev_hash, event.hash = seq, prev, compute_hash(prev, event)
            prev = event.hash
        # Only the seal columns are written: the triggers allow exactly this update, once.
        AuditEvent.objects.using(using).bulk_update(events, ["seq", "prev_hash", "hash"])
        head.last_seq, head.last_hash, head.sealed_at = seq, prev, clock.now()
        head.save(using=using, update_fields=["last_seq", "last_hash", "sealed_at"])
    # The head in the log too: a copy outside the database to compare with later.
    logger.info("Audit chain sealed %d events; head is seq %d hash %s", len(events), seq, prev)
    return len(events)


def seal_pending(*, limit: int = 20_000, batch: int = SEAL_BATCH, using: str = DEFAULT_DB_ALIAS) -> int:
    """Seal the unsealed events (up to ``limit``), committing every ``batch``. Returns how many."""
    sealed = 0
    while sealed < limit:
        done = seal_batch(limit=min(batch, limit - sealed), using=using)
        sealed += done
        if done == 0:
            break
    return sealed


# Checking ------------------------------------------------------------------------------------
CONTENT_ALTERED = "content altered"
GAP = "missing event or gap in sequence"
OUT_OF_ORDER = "out of order"
HASH_MISMATCH = "hash mismatch"


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with the chain. ``seq``/``event_id`` name the first bad event."""

    kind: str
    seq: int | None
    event_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "the chain head"
        if self.event_id is not None:
            where += f" (event id {self.event_id})"
        return f"First bad event: {where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    verified: int
    unsealed: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        return f"{self.verified} events verified, {self.unsealed} not yet sealed"


def _check_event(event: AuditEvent, expected_seq: int, prev_hash: str, using: str) -> Problem | None:
    """Check one sealed event against its content and the event before it in the chain."""
    if event.seq != expected_seq:
        detail = f"no event has seq {expected_seq}; the next sealed event is seq {event.seq} (event id {event.pk})"
        return Problem(GAP, expected_seq, None, detail)
    if compute_hash(event.prev_hash, event) != event.hash:
        return Problem(CONTENT_ALTERED, event.seq, event.pk, "its stored hash does not match its content")
    if event.prev_hash != prev_hash:
        return _broken_link(event, using)
    return None


def _broken_link(event: AuditEvent, using: str) -> Problem:
    """The event does not follow the one before it: moved, or something before it changed."""
    owner = AuditEvent.objects.using(using).filter(hash=event.prev_hash, seq__isnull=False).exclude(pk=event.pk).first()
    if owner is not None:
        return Problem(
            OUT_OF_ORDER,
            event.seq,
            event.pk,
            f"it was sealed after event id {owner.pk}, which is now at seq {owner.seq}",
        )
    return Problem(
        HASH_MISMATCH,
        event.seq,
        event.pk,
        "its prev_hash does not match the event before it (an earlier event was removed or its hash rewritten)",
    )


def verify(*, using: str = DEFAULT_DB_ALIAS) -> Verification:
    sealed = AuditEvent.objects.using(using).filter(seq__isnull=False).order_by("seq")
    unsealed = AuditEvent.objects.using(using).filter(seq__isnull=True).count()
    count, last_hash = 0, GENESIS
    for event in sealed.iterator(chunk_size=2000):
        problem = _check_event(event, count + 1, last_hash, using)
        if problem is not None:
            return Verification(verified=count, unsealed=unsealed, problem=problem)
        count, last_hash = count + 1, event.hash
    return Verification(verified=count, unsealed=unsealed, problem=_check_head(count, last_hash, using))


def _check_head(last_seq: int, last_hash: str, using: str) -> Problem | None:
    """The chain must end where the head says it does: otherwise the newest events were removed."""
    head = ChainHead.objects.using(using).filter(pk=ChainHead.SINGLETON_ID).first()
    head_seq, head_hash = (head.last_seq, head.last_hash or GENESIS) if head else (0, GENESIS)
    if head is None and last_seq > 0:
        return Problem(HASH_MISMATCH, None, None, f"the chain head is missing but {last_seq} events are sealed")
    if head_seq > last_seq:
        return Problem(
            GAP,
            last_seq + 1,
            None,
            f"the chain head records {head_seq} sealed events, the last one present is seq {last_seq}: "
            "the newest events were removed",
        )
    if head_seq < last_seq:
        return Problem(HASH_MISMATCH, head_seq + 1, None, f"events are sealed beyond the chain head (seq {head_seq})")
    if head_hash != last_hash:
        last_id = AuditEvent.objects.using(using).filter(seq=last_seq).values_list("pk", flat=True).first()
        return Problem(HASH_MISMATCH, last_seq, last_id, "its hash does not match the one recorded in the chain head")
    return None
