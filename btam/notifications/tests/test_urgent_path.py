"""The urgent path: a danger-now report reaches the rapid-response members' inboxes and email at
once; other reports are an inbox item for the school's team. A real SMTP server receives the email,
which says where to sign in and nothing of the report."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from btam.intake.models import Report, Urgency, YesNoUnknown
from btam.notifications import escalation
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import (
    LOCATION,
    NARRATIVE,
    PERSON_NAME,
    REPORTER_EMAIL,
    REPORTER_NAME,
    Received,
    Team,
    drain,
    free_port,
    submit,
)
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def report_link(report: Report) -> str:
    try:
        return reverse("intake:report", args=[report.pk])
    except NoReverseMatch:
        return "/intake/"


def recipients_of(kind: str) -> set[Any]:
    return {n.recipient for n in Notification.objects.filter(kind=kind).select_related("recipient")}


# (a) a danger-now report ---------------------------------------------------------------------


def test_a_danger_now_report_reaches_the_rapid_response_members_at_once(
    team: Team, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(team.school, danger_now=True)
    assert report.urgency == Urgency.EMERGENCY
    drain()  # the worker: intake.report_received, then escalation step 0, then the emails

    items = Notification.objects.filter(kind=Kind.URGENT_REPORT)
    assert {n.recipient for n in items} == team.rapid
    for item in items:
        assert item.urgent
        assert item.title == "A new urgent report for Lincoln Test High needs attention"
        assert item.link == report_link(report)
        assert (item.target_type, item.target_id) == ("intake.report", str(report.pk))
        assert item.email_outbox is not None and item.email_outbox.state == OutboxMessage.State.SENT
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in team.rapid)
    # Nobody else yet: the leader is told only if nobody acknowledges in time.
    assert Notification.objects.count() == 2
    esc = Escalation.objects.get()
    assert (esc.state, esc.step, esc.target_id) == (Escalation.State.ACTIVE, 1, str(report.pk))


def test_the_delivery_task_queued_at_commit_starts_it_without_waiting_for_the_sweep(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        report = submit(team.school, danger_now=True)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "btam.worker.tasks.deliver_outbox_message"
    message = OutboxMessage.objects.get(kind="intake.report_received")
    assert queued.args_kwargs["args"] == [message.pk]
    # Running the queued task (as db_worker would) starts the escalation and queues step 0 now.
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.deliver(message.pk) == OutboxMessage.State.SENT
    step0 = OutboxMessage.objects.get(kind=escalation.STEP_KIND)
    assert step0.payload == {"escalation": Escalation.objects.get().pk, "step": 0}
    assert DBTaskResult.objects.filter(args_kwargs__args=[step0.pk]).exists()
    assert report.pk


def test_delivering_the_report_twice_starts_one_escalation_and_tells_each_person_once(
    team: Team, frozen: Any, mailoutbox: list[Any]
) -> None:
    submit(team.school, weapon=YesNoUnknown.YES)
    received = OutboxMessage.objects.get(kind="intake.report_received")
    # A worker claims it, runs the handler and dies before recording "sent".
    claimed = outbox.claim(received.pk)
    assert claimed is not None
    from btam.intake.outbox_handlers import report_received

    report_received(claimed[0])
    frozen.advance(seconds=outbox.LEASE.total_seconds() + 1)
    drain()
    assert Escalation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=escalation.STEP_KIND).count() == 2  # step 0 ran, step 1 waits
    assert recipients_of(Kind.URGENT_REPORT) == team.rapid
    assert Notification.objects.count() == 2
    assert len(mailoutbox) == 2


def test_an_urgent_report_at_a_school_without_rapid_response_goes_to_its_leader_at_once(
    team: Team, mailoutbox: list[Any]
) -> None:
    submit(team.other_school, danger_now=True)
    drain()
    # Maple has its own rapid-response member; the district-wide one covers it too.
    assert recipients_of(Kind.URGENT_REPORT) == {team.rapid_other_school, team.rapid_wide}

    Notification.objects.all().delete()
    team.rapid_other_school.memberships.update(is_active=False)
    team.rapid_wide.memberships.update(is_active=False)
    submit(team.other_school, danger_now=True, narrative="Another synthetic narrative.")
    drain()
    # Nobody to wait for at step 0: the school's leader is told now, as an urgent report.
    assert recipients_of(Kind.URGENT_REPORT) == {team.leader_other_school}
    assert not Notification.objects.filter(kind=Kind.ESCALATION).exists()


# (d) other reports ---------------------------------------------------------------------------


def test_a_routine_report_is_an_inbox_item_for_the_school_team_without_email(team: Team, mailoutbox: list[Any]) -> None:
    report = submit(team.school)
    assert report.urgency == Urgency.ROUTINE
    drain()
    assert recipients_of(Kind.NEW_REPORT) == team.school_team
    item = Notification.objects.filter(kind=Kind.NEW_REPORT).first()
    assert item is not None
    assert (item.urgent, item.email_outbox, item.title) == (
        False,
        None,
        "A new report for Lincoln Test High is in the queue",
    )
    assert not OutboxMessage.objects.filter(kind="email").exists()
    assert mailoutbox == []
    assert not Escalation.objects.exists()
    # Nobody outside the school's team: not Maple's, not the other district, not referring staff.
    assert Notification.objects.count() == len(team.school_team)


def test_an_elevated_report_is_not_urgent(team: Team) -> None:
    report = submit(team.school, weapon=YesNoUnknown.UNKNOWN)
    assert report.urgency == Urgency.ELEVATED
    drain()
    assert not Escalation.objects.exists()
    assert not Notification.objects.filter(urgent=True).exists()


def test_a_report_marked_abuse_tells_nobody(team: Team) -> None:
    report = submit(team.school, danger_now=True)
    Report.objects.filter(pk=report.pk).update(is_abuse=True)
    drain()
    assert not Notification.objects.exists()
    assert not Escalation.objects.exists()


# (b) a real SMTP server ----------------------------------------------------------------------


def test_the_urgent_email_reaches_a_real_smtp_server_without_case_content(team: Team, smtp_server: Received) -> None:
    report = submit(team.school, danger_now=True)
    drain()
    assert sorted(rcpt for e in smtp_server.envelopes for rcpt in e.rcpt_tos) == sorted(u.email for u in team.rapid)
    assert len(smtp_server.messages()) == 2
    for message, body in zip(smtp_server.messages(), smtp_server.bodies(), strict=True):
        assert "Lincoln Test High" in body
        assert f"open OpenBTAM https://btam.example.test{report_link(report)}" in body
        assert message["Subject"] == "[OpenBTAM] A new urgent report for Lincoln Test High needs attention"
        assert message["Message-ID"].startswith("<outbox.")
        whole = message.as_string()
        for secret in (NARRATIVE, "Quillon", "Testperson", PERSON_NAME, LOCATION, REPORTER_NAME, REPORTER_EMAIL):
            assert secret not in whole
        assert "gym" not in whole.lower() and "danger" not in whole.lower() and "emergency" not in whole.lower()
    for payload in OutboxMessage.objects.values_list("payload", flat=True):
        assert "Quillon" not in str(payload) and REPORTER_EMAIL not in str(payload)


def test_a_mail_server_that_is_down_is_retried_and_the_email_then_arrives(
    team: Team, smtp_server: Received, settings: Any, frozen: Any
) -> None:
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there
    submit(team.school, danger_now=True)
    drain()
    emails = OutboxMessage.objects.filter(kind="email")
    assert [m.state for m in emails] == [OutboxMessage.State.PENDING] * 2
    assert all(m.attempts == 1 and m.last_error for m in emails)
    assert smtp_server.envelopes == []
    settings.EMAIL_PORT = good_port
    frozen.advance(seconds=30)
    drain()
    assert {m.state for m in emails.all()} == {OutboxMessage.State.SENT}
    assert len(smtp_server.envelopes) == 2
