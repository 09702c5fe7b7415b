"""The outbox: enqueue in the action's transaction, claim, deliver, retry with backoff, give up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from btam.lib import clock as clock_module
from btam.worker import outbox
from btam.worker.models import OutboxMessage
from btam.worker.tests import jobs

State = OutboxMessage.State
pytestmark = pytest.mark.django_db
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    clock_module.freeze(T0)
    jobs.delivered.clear()
    yield clock_module
    clock_module.reset()
    jobs.delivered.clear()


def make(payload: dict[str, Any] | None = None, **kwargs: Any) -> OutboxMessage:
    return outbox.enqueue(kind="test.record", payload=payload or {}, **kwargs)


def refreshed(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


# Enqueue -------------------------------------------------------------------------------------------


def test_it_records_a_pending_message_due_now() -> None:
    message = make({"ref": 1}, district_id=None)
    assert message.state == State.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at == T0


def test_it_queues_the_delivery_task_in_the_same_transaction(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = make()
        queued = DBTaskResult.objects.get()  # written with the message: no second transaction
    assert callbacks == []
    assert queued.task_path == "btam.worker.tasks.deliver_outbox_message"
    assert queued.queue_name == "outbox"
    assert queued.args_kwargs == {"args": [message.pk], "kwargs": {}}


def test_a_rolled_back_action_sends_nothing(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            make()
            assert DBTaskResult.objects.exists()
            raise RuntimeError("the action failed")
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert not DBTaskResult.objects.exists()


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "outbox"]}}
)
def test_with_tasks_kept_elsewhere_the_task_is_queued_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks import task_backends

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make()
        assert not task_backends["default"].results  # type: ignore[attr-defined]
    assert len(callbacks) == 1
    assert len(task_backends["default"].results) == 1  # type: ignore[attr-defined]


def test_enqueuing_twice_with_one_dedupe_key_is_a_no_op(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = make({"n": 1}, dedupe_key="case-1-assigned-7")
        second = make({"n": 2}, dedupe_key="case-1-assigned-7")
    assert second.pk == first.pk
    assert OutboxMessage.objects.get().payload == {"n": 1}
    assert callbacks == []
    assert DBTaskResult.objects.count() == 1  # one delivery task


def test_messages_without_a_dedupe_key_are_all_kept() -> None:
    make()
    make()
    assert OutboxMessage.objects.count() == 2


def test_it_rejects_a_payload_that_is_not_json_or_too_large() -> None:
    with pytest.raises(TypeError):
        make({"when": T0})
    with pytest.raises(ValueError, match="larger than"):
        make({"text": "x" * (outbox.MAX_PAYLOAD_BYTES + 1)})
    assert not OutboxMessage.objects.exists()


# States ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (State.PENDING, State.SENDING, True),
        (State.PENDING, State.SENT, False),
        (State.SENDING, State.SENT, True),
        (State.SENDING, State.PENDING, True),
        (State.SENDING, State.DEAD, True),
        (State.SENT, State.PENDING, False),
        (State.SENT, State.SENDING, False),
        (State.DEAD, State.PENDING, True),
        (State.FAILED, State.SENDING, False),
    ],
)
def test_transition_table(source: str, target: str, allowed: bool) -> None:
    assert OutboxMessage(state=source).can_transition_to(target) is allowed


# Claim and deliver -------------------------------------------------------------------------------


def test_it_delivers_and_marks_sent() -> None:
    message = make()
    assert outbox.deliver(message.pk) == State.SENT
    message = refreshed(message)
    assert message.state == State.SENT
    assert message.sent_at == T0
    assert message.attempts == 1
    assert message.claimed_by.count(":") == 2  # host:pid:token
    assert jobs.delivered == [message.pk]


def test_a_sent_message_is_never_delivered_again() -> None:
    message = make()
    outbox.deliver(message.pk)
    assert outbox.deliver(message.pk) is None
    assert outbox.sweep() == {}
    assert jobs.delivered == [message.pk]


def test_only_one_of_two_claims_wins() -> None:
    message = make()
    assert outbox.claim(message.pk) is not None
    assert outbox.claim(message.pk) is None
    assert outbox.deliver(message.pk) is None
    assert jobs.delivered == []


def test_the_delivery_task_delivers(django_capture_on_commit_callbacks: Any) -> None:
    from btam.worker.tasks import deliver_outbox_message

    message = make()
    assert deliver_outbox_message.call(message.pk) == "sent"
    assert deliver_outbox_message.call(message.pk) is None
    assert jobs.delivered == [message.pk]


# Retry, backoff, give up -------------------------------------------------------------------------


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.backoff(20) == dt.timedelta(hours=1)


def test_a_failure_is_retried_with_backoff_then_dead(frozen_clock: Any) -> None:
    message = make({"fail": "transient"})
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        assert outbox.deliver(message.pk) == State.PENDING
        message = refreshed(message)
        assert message.attempts == attempt
        assert message.last_error == "ConnectionError: test receiver is down"
        wait = outbox.backoff(attempt)
        assert message.next_attempt_at == clock_module.now() + wait
        # Not due before the backoff has passed.
        frozen_clock.advance(seconds=wait.total_seconds() - 1)
        assert outbox.deliver(message.pk) is None
        frozen_clock.advance(seconds=1)
    assert outbox.deliver(message.pk) == State.DEAD
    message = refreshed(message)
    assert message.state == State.DEAD
    assert message.attempts == outbox.MAX_ATTEMPTS
    frozen_clock.advance(days=1)
    assert outbox.deliver(message.pk) is None
    assert outbox.sweep() == {}


def test_a_failure_then_success_is_sent_once(frozen_clock: Any) -> None:
    message = make({"fail": "transient"})
    assert outbox.deliver(message.pk) == State.PENDING
    OutboxMessage.objects.filter(pk=message.pk).update(payload={})  # the receiver is back
    frozen_clock.advance(seconds=30)
    assert outbox.sweep() == {"sent": 1}
    message = refreshed(message)
    assert (message.state, message.attempts, message.last_error) == (State.SENT, 2, "")
    assert jobs.delivered == [message.pk]


def test_a_permanent_failure_is_not_retried(frozen_clock: Any) -> None:
    message = make({"fail": "permanent"})
    assert outbox.deliver(message.pk) == State.FAILED
    frozen_clock.advance(days=1)
    assert outbox.deliver(message.pk) is None
    assert refreshed(message).last_error == "PermanentDeliveryError: test receiver refuses this message"


def test_an_unknown_kind_is_retried_not_dropped() -> None:
    message = outbox.enqueue(kind="not.registered", payload={})
    assert outbox.deliver(message.pk) == State.PENDING
    assert "No outbox handler" in refreshed(message).last_error


def test_an_operator_can_requeue_a_dead_message() -> None:
    message = make({"fail": "permanent"})
    outbox.deliver(message.pk)
    assert outbox.requeue(message.pk)
    message = refreshed(message)
    assert (message.state, message.attempts, message.last_error) == (State.PENDING, 0, "")
    sent = make()
    outbox.deliver(sent.pk)
    assert not outbox.requeue(sent.pk)


def test_failures_do_not_log_payload_content(caplog: pytest.LogCaptureFixture) -> None:
    message = make({"fail": "transient", "secret": "Student X said something"})
    outbox.deliver(message.pk)
    assert "Student X" not in caplog.text
    assert str(message.pk) in caplog.text


# A worker that dies mid-delivery -----------------------------------------------------------------


def test_a_crash_mid_delivery_is_redelivered_exactly_once_after_the_lease(frozen_clock: Any) -> None:
    message = make()
    claimed = outbox.claim(message.pk)  # worker A claims, starts sending, and dies
    assert claimed is not None
    message_a, token_a = claimed
    assert refreshed(message).state == State.SENDING

    # Within the lease nobody takes it over: worker A might still be sending.
    frozen_clock.advance(seconds=outbox.LEASE.total_seconds() - 1)
    assert outbox.deliver(message.pk) is None
    assert outbox.sweep() == {}

    # After the lease the task and the sweep race for it; exactly one delivers.
    frozen_clock.advance(seconds=2)
    assert outbox.deliver(message.pk) == State.SENT
    assert outbox.sweep() == {}
    assert outbox.deliver(message.pk) is None
    assert jobs.delivered == [message.pk]
    message = refreshed(message)
    assert (message.state, message.attempts) == (State.SENT, 2)

    # Had worker A been only slow, its late outcome is refused: its claim was taken over.
    assert outbox._finish(message_a, token_a, State.PENDING) is False
    assert refreshed(message).state == State.SENT


def test_a_claim_that_expires_on_the_last_attempt_is_given_up(frozen_clock: Any) -> None:
    message = make()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.claim(message.pk) is not None  # the last attempt; the worker dies
    frozen_clock.advance(minutes=2)
    assert outbox.deliver(message.pk) is None
    assert outbox.sweep() == {"dead": 1}
    assert refreshed(message).state == State.DEAD
    assert jobs.delivered == []


# The sweep ---------------------------------------------------------------------------------------


def test_the_sweep_delivers_only_due_messages(frozen_clock: Any) -> None:
    due = [make() for _ in range(3)]
    later = make({"fail": "transient"})
    outbox.deliver(later.pk)  # retried in 30 s
    assert outbox.sweep() == {"sent": 3}
    assert sorted(jobs.delivered) == sorted(m.pk for m in due)
    assert outbox.sweep() == {}


def test_a_sweep_stops_at_its_batch_size_and_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        make()
    assert outbox.sweep(limit=1) == {"sent": 1}
    monkeypatch.setattr(outbox, "SWEEP_BUDGET_SECONDS", -1.0)
    assert outbox.sweep() == {}
    monkeypatch.setattr(outbox, "SWEEP_BUDGET_SECONDS", 20.0)
    assert outbox.sweep() == {"sent": 2}


def test_the_sweep_task_returns_counts() -> None:
    from btam.worker.tasks import sweep_outbox

    make()
    assert sweep_outbox.call() == {"sent": 1}


# Email ---------------------------------------------------------------------------------------------


def test_email_is_sent_with_a_message_id_fixed_by_the_outbox_row(mailoutbox: list[Any], frozen_clock: Any) -> None:
    message = outbox.enqueue(
        kind="email",
        payload={"to": ["counselor@example.test"], "subject": "A case needs you", "body": "Sign in to OpenBTAM."},
    )
    outbox.claim(message.pk)  # a first worker sends, then dies before recording it
    frozen_clock.advance(minutes=2)
    assert outbox.deliver(message.pk) == State.SENT
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == ["counselor@example.test"]
    assert sent.subject == "A case needs you"
    header = sent.message()["Message-ID"]
    assert header == outbox.message_id_header(message)
    assert header.startswith(f"<outbox.{message.pk}.")
    # The resend of a crashed delivery carries the same id, so the receiver can drop the copy.
    assert outbox.message_id_header(refreshed(message)) == header


def test_email_accepts_one_address_as_a_string(mailoutbox: list[Any]) -> None:
    message = outbox.enqueue(kind="email", payload={"to": "a@example.test", "subject": "s", "body": "b"})
    assert outbox.deliver(message.pk) == State.SENT
    assert mailoutbox[0].to == ["a@example.test"]


def test_email_without_recipients_fails_permanently(mailoutbox: list[Any]) -> None:
    message = outbox.enqueue(kind="email", payload={"subject": "s", "body": "b"})
    assert outbox.deliver(message.pk) == State.FAILED
    assert mailoutbox == []


def test_a_kind_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):
        outbox.handler("email")(lambda message: None)


def test_a_tasks_configuration_that_refuses_the_delivery_task_stops_the_start() -> None:
    from btam.worker.checks import check_outbox_delivery_task

    assert check_outbox_delivery_task() == []
    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "maintenance"]}}
    with override_settings(TASKS=tasks):
        errors = check_outbox_delivery_task()
    assert [e.id for e in errors] == ["btam.E020"]
    assert "outbox" in str(errors[0].hint)
