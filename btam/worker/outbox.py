"""The outbox: side effects recorded in the action's transaction, delivered by the worker.

An action calls :func:`enqueue` inside its ``transaction.atomic``. The row commits (or rolls
back) with the change that caused it, and so does the ``deliver_outbox_message`` task that starts
delivery at once: the tasks backend (django-tasks-db) keeps its tasks as rows of the same database,
so the task is written in the action's transaction, which spares the request a second transaction
of its own. (With a backend that keeps tasks elsewhere, the task is queued after the commit.) The
periodic ``sweep_outbox`` task is the safety net for anything a task missed (a worker that died
holding it, a retry that is due).

Delivery protocol, which makes a crash lose nothing and two deliverers double nothing:

1. **Claim** with one conditional UPDATE: ``state = pending AND next_attempt_at <= now``, or
   ``state = sending AND claimed_at < now - LEASE`` (the claimer died). It sets ``sending``, a
   fresh claim token in ``claimed_by``, ``claimed_at`` and ``attempts + 1``. The database lets
   exactly one of several concurrent claimers update the row; only that one goes on.
2. **Run the handler** for the message's kind, outside any transaction.
3. **Record the outcome** with an UPDATE conditional on ``state = sending AND claimed_by =
   token``: ``sent``; or ``pending`` with exponential backoff; or ``dead`` after
   ``MAX_ATTEMPTS``; or ``failed`` when the handler raises :class:`PermanentDeliveryError`.

The one window left is a crash after the handler's effect and before step 3: the message is
re-delivered once after the lease. Handlers are therefore written to be idempotent where the
receiver allows it; the email handler sets a Message-ID derived from the message, so a
receiving server or client can recognise the resend.

Handlers are registered per kind with :func:`handler`. The built-in kind is ``"email"``; an
app adds its own in ``<app>/outbox_handlers.py`` (imported at start-up by the worker app).
Logs name the message id, kind and exception class only, never payload content.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import F

from btam.lib.clock import now
from btam.worker.heartbeat import worker_id
from btam.worker.models import OutboxMessage

logger = logging.getLogger(__name__)

State = OutboxMessage.State
Handler = Callable[[OutboxMessage], None]

# A claim older than this is abandoned: its worker stopped. Handlers must finish well within it
# (the SMTP connection times out after EMAIL_TIMEOUT, 10 s by default).
# 30 s: with the sweep every 15 s, a message whose deliverer died is taken over within 45 s, so a
# crash delays an urgent notification by less than a minute.
LEASE = dt.timedelta(seconds=30)
MAX_ATTEMPTS = 10
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
# A payload is a few identifiers and a short generic text, never a document.
MAX_PAYLOAD_BYTES = 32_768
SWEEP_BATCH = 100
# A sweep stops claiming after this long, so a slow receiver does not hold a worker for minutes;
# the next sweep (every 15 s) goes on.
SWEEP_BUDGET_SECONDS = 12.0

_handlers: dict[str, Handler] = {}


class PermanentDeliveryError(Exception):
    """Raised by a handler when retrying cannot help (e.g. a malformed payload)."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of ``kind``: ``@outbox.handler("email")``."""

    def register(func: Handler) -> Handler:
        if kind in _handlers and _handlers[kind] is not func:
            raise ValueError(f"An outbox handler for {kind!r} is already registered.")
        _handlers[kind] = func
        return func

    return register


def enqueue(
    *,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    district_id: int | None = None,
    not_before: dt.datetime | None = None,
    deliver_now: bool = True,
) -> OutboxMessage:
    """Record a side effect; call it inside the transaction of the action that causes it.

    With a ``dedupe_key`` already used, nothing new is recorded and the existing message is
    returned. ``payload`` must be JSON and must never hold case content (see OutboxMessage).
    ``not_before`` delays delivery (an escalation step due in 15 minutes): the sweep delivers it
    once due, so it survives restarts of every process in between. ``deliver_now=False`` leaves
    delivery to the sweep (within 15 s) instead of queueing a delivery task: for work that can
    wait seconds, it saves the request the task's row.
    """
    message = new_message(kind=kind, payload=payload, district_id=district_id, not_before=not_before)
    if dedupe_key:
        fields = {f: getattr(message, f) for f in ("kind", "payload", "district_id", "next_attempt_at")}
        message, created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
        if not created:
            return message
    else:
        message.save(force_insert=True)
    if deliver_now and (not_before is None or message.next_attempt_at <= now()):
        if _tasks_in_this_database():
            _start_delivery(message.pk)  # committed, or rolled back, with the message
        else:
            transaction.on_commit(lambda: _start_delivery(message.pk), robust=True)
    return message


def new_message(
    *, kind: str, payload: dict[str, Any], district_id: int | None = None, not_before: dt.datetime | None = None
) -> OutboxMessage:
    """The message :func:`enqueue` records, checked but not saved: for an action that writes its
    rows together (``btam.lib.rows``). Then :func:`delivery_task` gives the row that starts its
    delivery at once."""
    if not kind:
        raise ValueError("An outbox message needs a kind.")
    encoded = json.dumps(payload)  # fails loudly on values that are not JSON
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"Outbox payload is larger than {MAX_PAYLOAD_BYTES} bytes; store identifiers, not content.")
    at = now()
    due = not_before if not_before is not None and not_before > at else at
    return OutboxMessage(kind=kind, payload=payload, district_id=district_id, next_attempt_at=due)


def delivery_task(message_id: int) -> models.Model | None:
    """The unsaved task row (django-tasks-db) that delivers the message at once, as
    ``deliver_outbox_message.enqueue(message_id)`` writes it; None when tasks are not rows of this
    database (then queue it with ``transaction.on_commit(lambda: start_delivery(message_id))``)."""
    if not _tasks_in_this_database():
        return None
    from django_tasks import task_backends
    from django_tasks.utils import normalize_json
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from btam.worker.tasks import deliver_outbox_message

    backend = task_backends[deliver_outbox_message.backend]
    if not isinstance(backend, DatabaseBackend):  # checked by _tasks_in_this_database
        return None
    backend.validate_task(deliver_outbox_message)
    task = deliver_outbox_message
    return DBTaskResult(
        id=backend._get_id(),  # noqa: SLF001 (the backend's own key, as its enqueue sets it)
        args_kwargs=normalize_json({"args": [message_id], "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,  # type: ignore[misc]  # None: the model's pre_save signal fills it in
        backend_name=backend.alias,
    )


def start_delivery(message_id: int) -> None:
    """Queue the task that delivers the message now (see :func:`delivery_task`)."""
    _start_delivery(message_id)


def _tasks_in_this_database() -> bool:
    """Whether queued tasks are rows of the database the outbox is in (django-tasks-db on the
    default database), so that a task queued in a transaction commits or rolls back with it."""
    from django.db import router
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from btam.worker.tasks import deliver_outbox_message

    return isinstance(task_backends[deliver_outbox_message.backend], DatabaseBackend) and router.db_for_write(
        DBTaskResult
    ) == router.db_for_write(OutboxMessage)


def _start_delivery(message_id: int) -> None:
    from btam.worker.tasks import deliver_outbox_message

    deliver_outbox_message.enqueue(message_id)


def claim(message_id: int) -> tuple[OutboxMessage, str] | None:
    """Claim one message for delivery; None when it is not due or another deliverer holds it."""
    at = now()
    token = f"{worker_id()}:{secrets.token_hex(4)}"[:200]
    claimed = (
        OutboxMessage.objects.filter(pk=message_id)
        .due(at, lease=LEASE, max_attempts=MAX_ATTEMPTS)
        .update(state=State.SENDING, claimed_by=token, claimed_at=at, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return None
    return OutboxMessage.objects.get(pk=message_id), token


def deliver(message_id: int) -> str | None:
    """Claim and deliver one message. Returns its new state, or None when it was not claimed."""
    claimed = claim(message_id)
    if claimed is None:
        return None
    message, token = claimed
    try:
        func = _handlers.get(message.kind)
        if func is None:
            # Retried: during a rolling deploy an older worker may not know a new kind yet.
            raise LookupError(f"No outbox handler for kind {message.kind!r}")
        func(message)
    except PermanentDeliveryError as exc:
        return _record_failure(message, token, exc, permanent=True)
    except Exception as exc:
        return _record_failure(message, token, exc, permanent=False)
    _finish(message, token, State.SENT, sent_at=now(), last_error="")
    logger.info("Outbox message %s (%s) sent on attempt %s", message.pk, message.kind, message.attempts)
    return State.SENT


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min ... at most 1 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _record_failure(message: OutboxMessage, token: str, exc: Exception, *, permanent: bool) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if permanent:
        state = State.FAILED
        _finish(message, token, state, last_error=error)
    elif message.attempts >= MAX_ATTEMPTS:
        state = State.DEAD
        _finish(message, token, state, last_error=error)
    else:
        state = State.PENDING
        _finish(message, token, state, last_error=error, next_attempt_at=now() + backoff(message.attempts))
    logger.warning(
        "Outbox message %s (%s) attempt %s failed with %s; now %s",
        message.pk,
        message.kind,
        message.attempts,
        type(exc).__name__,
        state,
    )
    return state


def _finish(message: OutboxMessage, token: str, state: str, **fields: Any) -> bool:
    """Record an outcome, only if our claim still holds (nobody re-claimed after the lease)."""
    if not message.can_transition_to(state):
        raise ValueError(f"Outbox message {message.pk}: {message.state} -> {state} is not allowed.")
    updated = OutboxMessage.objects.filter(pk=message.pk, state=State.SENDING, claimed_by=token).update(
        state=state, **fields
    )
    if updated != 1:
        logger.warning("Outbox message %s: claim lost before recording %s (lease expired)", message.pk, state)
        return False
    return True


def sweep(*, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Deliver due messages (the safety net behind the per-message task). Returns counts by outcome."""
    at = now()
    # A claim that expired on the last allowed attempt will not be retried: give up on it.
    abandoned = OutboxMessage.objects.filter(
        state=State.SENDING, claimed_at__lt=at - LEASE, attempts__gte=MAX_ATTEMPTS
    ).update(state=State.DEAD, last_error="The worker stopped during the last allowed attempt.")
    counts: dict[str, int] = {"dead": abandoned} if abandoned else {}
    due = OutboxMessage.objects.due(at, lease=LEASE, max_attempts=MAX_ATTEMPTS).order_by("next_attempt_at", "pk")
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    for message_id in list(due.values_list("pk", flat=True)[:limit]):
        if time.monotonic() > deadline:
            break
        outcome = deliver(message_id)
        key = str(outcome) if outcome else "skipped"
        counts[key] = counts.get(key, 0) + 1
    return counts


def requeue(message_id: int) -> bool:
    """An operator's retry of a failed or dead message: pending again, due now, attempts reset."""
    return (
        OutboxMessage.objects.filter(pk=message_id, state__in=[State.FAILED, State.DEAD]).update(
            state=State.PENDING, attempts=0, next_attempt_at=now(), last_error=""
        )
        == 1
    )


# Built-in kinds ---------------------------------------------------------------------------------


def message_id_header(message: OutboxMessage) -> str:
    """A Message-ID fixed by the outbox row, so a resend after a crash carries the same one."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<outbox.{message.pk}.{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


@handler("email")
def send_email(message: OutboxMessage) -> None:
    """Payload: ``{"to": [addresses] or address, "subject": str, "body": str}`` (no case content)."""
    payload = message.payload
    to = payload.get("to")
    recipients = [to] if isinstance(to, str) else list(to or [])
    subject, body = payload.get("subject"), payload.get("body")
    if not recipients or not isinstance(subject, str) or not isinstance(body, str):
        raise PermanentDeliveryError("An email payload needs to, subject and body.")
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id_header(message)},
    )
    email.send(fail_silently=False)
