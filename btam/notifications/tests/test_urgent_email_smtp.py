"""The urgent email end to end, with a real SMTP server: a danger-now report submitted through intake
reaches the school's one rapid-response member through the outbox and the SMTP backend, exactly one
message, in generic words only, even though that member prefers the daily digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from btam.accounts.models import Role
from btam.intake.models import Report, Urgency
from btam.notifications.actions import do_set_notification_preferences
from btam.notifications.models import DeliveryStatus, Notification, NotificationPreference
from btam.notifications.tests.helpers import (
    LOCATION,
    NARRATIVE,
    PERSON_NAME,
    REPORTER_EMAIL,
    REPORTER_NAME,
    Received,
    drain,
    member,
    submit,
)
from btam.testing import DistrictFactory, SchoolFactory
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db


def report_link(report: Report) -> str:
    try:
        return reverse("intake:report", args=[report.pk])
    except NoReverseMatch:
        return "/intake/"


def test_a_danger_now_report_sends_one_generic_email_to_the_rapid_response_member(
    frozen: Any, smtp_server: Received, settings: Any
) -> None:
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    school = SchoolFactory.create(district=district, name="Lincoln Test High")
    rapid = member(Role.RAPID_RESPONSE, district, [school], email="rapid.responder@example.test")
    # The digest preference does not delay an urgent email.
    do_set_notification_preferences(
        actor=rapid, delivery=NotificationPreference.Delivery.DAILY_DIGEST, digest_time=dt.time(7)
    )
    member(Role.TEAM_MEMBER, district, [school])  # told only later by the escalation, if at all

    report = submit(school, danger_now=True)
    assert report.urgency == Urgency.EMERGENCY
    drain()  # the worker: the report's outbox message, escalation step 0, then the email

    assert len(smtp_server.envelopes) == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["rapid.responder@example.test"]
    [message] = smtp_server.messages()
    [body] = smtp_server.bodies()
    assert message["Subject"] == "[OpenBTAM] A new urgent report for Lincoln Test High needs attention"
    assert body.splitlines()[0] == (
        "A new urgent report for Lincoln Test High needs attention: "
        f"open OpenBTAM https://btam.example.test{report_link(report)}"
    )
    whole = message.as_string()
    for secret in (NARRATIVE, PERSON_NAME, "Quillon", "Testperson", LOCATION, REPORTER_NAME, REPORTER_EMAIL):
        assert secret not in whole
    assert "gym" not in whole.lower() and "danger" not in whole.lower()

    [item] = Notification.objects.filter(recipient=rapid)
    assert item.urgent and not item.in_digest
    assert item.email_outbox is not None
    assert item.email_outbox.state == OutboxMessage.State.SENT
    assert item.delivery_status == DeliveryStatus.SENT
    assert (
        message["Message-ID"]
        == f"<outbox.{item.email_outbox.pk}.{item.email_outbox.created_at:%Y%m%d%H%M%S%f}@localhost>"
    )

    drain()  # running the worker again sends nothing more
    assert len(smtp_server.envelopes) == 1
