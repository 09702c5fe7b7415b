"""Outbox kinds of notifications (imported at start-up by the worker app).

- ``notifications.escalation_step``: run one step of an escalation (see escalation.py).
- ``intake.reporter_notice``: the team wrote to a reporter who asked to be told: an email to the
  address they gave, saying only that there is a new message and where to read it. The address is
  decrypted here, at delivery; it is never in the payload, the logs or ``last_error``.
- ``intake.reporter_replied``: the reporter wrote in the thread: an inbox item for the school's team.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from btam.intake.models import Report, ReporterMessage
from btam.notifications import escalation, intake_hooks
from btam.notifications.delivery import in_site_language, public_base_url, site_name
from btam.worker import outbox
from btam.worker.models import OutboxMessage

FOLLOW_UP_PATH = "/report/follow-up/"


def _int(payload: dict[str, object], key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise outbox.PermanentDeliveryError(f"The payload needs an integer {key!r}.")
    return value


def _report(message: OutboxMessage) -> Report:
    report = Report.objects.select_related("school").filter(pk=_int(message.payload, "report")).first()
    if report is None:
        raise outbox.PermanentDeliveryError("The report no longer exists.")
    return report


@outbox.handler(escalation.STEP_KIND)
def escalation_step(message: OutboxMessage) -> None:
    """Payload ``{"escalation": id, "step": n}``."""
    escalation.run_step(_int(message.payload, "escalation"), _int(message.payload, "step"))


@in_site_language
def reporter_notice_text() -> tuple[str, str]:
    """(subject, body) of the reporter's notice: no school, no report, no message: only where to go."""
    site = site_name()
    subject = _("You have a new message")
    body = "\n\n".join(
        [
            _("There is a new message for you about the report you made."),
            _("Read it here with your receipt code: %(url)s") % {"url": public_base_url() + FOLLOW_UP_PATH},
            _("If someone is in danger right now, call 911."),
            _("This email was sent by %(site)s because you asked to be told of new messages.") % {"site": site},
        ]
    )
    return subject, body + "\n"


@outbox.handler("intake.reporter_notice")
def send_reporter_notice(message: OutboxMessage) -> None:
    """Payload ``{"report": id, "message": id}``."""
    report = _report(message)
    if not ReporterMessage.objects.filter(
        pk=_int(message.payload, "message"), report=report, direction=ReporterMessage.Direction.FROM_TEAM
    ).exists():
        return  # the message is gone: nothing to announce
    address = (report.notify_email or "").strip()
    if not address:
        return  # the reporter no longer wants to be told
    try:
        validate_email(address)
    except ValidationError:
        raise outbox.PermanentDeliveryError("The reporter's address is not a valid email address.") from None
    subject, body = reporter_notice_text()
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"Message-ID": outbox.message_id_header(message)},
    )
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        # Its text holds the address: keep it out of last_error and the logs.
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise outbox.PermanentDeliveryError("The mail server refused the reporter's address.") from None
        raise ConnectionError("The mail server refused the reporter's address for now.") from None
    except Exception as exc:
        raise ConnectionError(f"Sending the reporter's notice failed ({type(exc).__name__}).") from None


@outbox.handler("intake.reporter_replied")
def reporter_replied(message: OutboxMessage) -> None:
    """Payload ``{"report": id, "message": id}``."""
    report = _report(message)
    intake_hooks.reporter_replied(report, _int(message.payload, "message"))
