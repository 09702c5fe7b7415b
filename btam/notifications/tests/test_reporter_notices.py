"""The reporter's thread: a team message emails the reporter (to the address they gave, decrypted at
delivery) only that there is a new message; a reporter's reply is an inbox item for the team."""

from __future__ import annotations

from typing import Any

import pytest

from btam.intake.actions import do_post_reporter_message, do_post_team_message
from btam.intake.models import Report
from btam.notifications.models import Notification
from btam.notifications.outbox_handlers import FOLLOW_UP_PATH
from btam.notifications.tests.helpers import (
    LOCATION,
    NARRATIVE,
    PERSON_NAME,
    REPORTER_EMAIL,
    REPORTER_NAME,
    Received,
    Team,
    drain,
    submit,
)
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
TEAM_MESSAGE = "Synthetic team message: can you tell us more about Quillon and the gym?"


def team_writes(team: Team, report: Report) -> OutboxMessage:
    do_post_team_message(actor=team.leader_named, report=report, body=TEAM_MESSAGE)
    return OutboxMessage.objects.get(kind="intake.reporter_notice")


def test_the_reporter_is_told_only_that_there_is_a_new_message(
    team: Team, mailoutbox: list[Any], settings: Any
) -> None:
    settings.BTAM_PUBLIC_BASE_URL = "https://btam.example.test"
    report = submit(team.school)
    drain()
    notice = team_writes(team, report)
    assert REPORTER_EMAIL not in str(notice.payload)  # the address is decrypted at delivery only
    drain()
    notice.refresh_from_db()
    assert notice.state == OutboxMessage.State.SENT
    [email] = mailoutbox
    assert email.to == [REPORTER_EMAIL]
    assert email.subject == "You have a new message"
    assert "Read it here with your receipt code: https://btam.example.test/report/follow-up/" in email.body
    assert email.message()["Message-ID"] == outbox.message_id_header(notice)
    whole = email.message().as_string()
    for secret in (TEAM_MESSAGE, "Quillon", PERSON_NAME, NARRATIVE, LOCATION, REPORTER_NAME, "Lincoln", "Cedar"):
        assert secret not in whole
    assert team.leader_named.email not in whole and team.leader_named.full_name not in whole


def test_the_notice_goes_to_a_real_smtp_server(team: Team, smtp_server: Received) -> None:
    report = submit(team.school)
    drain()
    team_writes(team, report)
    drain()
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [REPORTER_EMAIL]
    [body] = smtp_server.bodies()
    assert "https://btam.example.test" + FOLLOW_UP_PATH in body
    assert "Quillon" not in body and "Lincoln" not in body


def test_a_refused_address_fails_without_writing_the_address_anywhere(
    team: Team, smtp_server: Received, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.refuse = "550 5.1.1 No such mailbox"
    report = submit(team.school)
    drain()
    notice = team_writes(team, report)
    drain()
    notice.refresh_from_db()
    assert notice.state == OutboxMessage.State.FAILED
    assert notice.last_error == "PermanentDeliveryError: The mail server refused the reporter's address."
    # Our logs (the test server's own "mail.log" is the receiving side) never name the address.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("btam")]
    assert ours and not any(REPORTER_EMAIL in line for line in ours)


def test_a_temporary_refusal_is_retried_without_the_address_in_last_error(team: Team, smtp_server: Received) -> None:
    smtp_server.refuse = "450 4.2.1 Mailbox busy"
    report = submit(team.school)
    drain()
    notice = team_writes(team, report)
    drain()
    notice.refresh_from_db()
    assert notice.state == OutboxMessage.State.PENDING
    assert "refused the reporter's address for now" in notice.last_error
    assert REPORTER_EMAIL not in notice.last_error


def test_a_withdrawn_address_sends_nothing(team: Team, mailoutbox: list[Any]) -> None:
    report = submit(team.school)
    drain()
    notice = team_writes(team, report)
    report.notify_email = ""
    report.save(update_fields=["notify_email"])
    drain()
    notice.refresh_from_db()
    assert notice.state == OutboxMessage.State.SENT
    assert mailoutbox == []


def test_an_invalid_address_fails_permanently(team: Team, mailoutbox: list[Any]) -> None:
    report = submit(team.school, notify_email="not an address")
    drain()
    notice = team_writes(team, report)
    drain()
    notice.refresh_from_db()
    assert notice.state == OutboxMessage.State.FAILED
    assert "not an address" not in notice.last_error
    assert mailoutbox == []


def test_a_payload_without_ids_fails_permanently() -> None:
    message = outbox.enqueue(kind="intake.reporter_notice", payload={"report": "1"})
    assert outbox.deliver(message.pk) == OutboxMessage.State.FAILED


def test_a_reporter_reply_is_an_inbox_item_for_the_school_team(team: Team, mailoutbox: list[Any]) -> None:
    report = submit(team.school)
    drain()
    Notification.objects.all().delete()
    message = do_post_reporter_message(report=report, body="Synthetic reply: it was Quillon again.")
    drain()
    items = Notification.objects.filter(kind=Notification.Kind.REPORTER_MESSAGE)
    assert {n.recipient for n in items.all()} == team.school_team
    item = items.first()
    assert item is not None
    assert item.title == "The reporter sent a new message about a report for Lincoln Test High"
    assert (item.urgent, item.email_outbox, item.target_id) == (False, None, str(report.pk))
    assert mailoutbox == []
    # Delivered again (a crash after the commit): nobody is told twice; another reply is new.
    from btam.notifications.intake_hooks import reporter_replied

    reporter_replied(report, message.pk)
    assert items.count() == len(team.school_team)
    do_post_reporter_message(report=report, body="Synthetic second reply.")
    drain()
    assert items.count() == 2 * len(team.school_team)
