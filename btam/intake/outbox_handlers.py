"""Outbox kinds of intake, delivered by the worker after the report or message is committed."""

from __future__ import annotations

from btam.intake.models import Report
from btam.worker import outbox
from btam.worker.models import OutboxMessage


def _report(message: OutboxMessage) -> Report:
    report = Report.objects.select_related("school", "district").filter(pk=message.payload.get("report")).first()
    if report is None:
        raise outbox.PermanentDeliveryError("The report no longer exists.")
    return report


@outbox.handler("intake.report_received")
def report_received(message: OutboxMessage) -> None:
    """Group the report with others about the same thing, then tell the team (urgent ones escalate).

    Both steps are idempotent, so a re-delivery after a crash changes nothing twice.
    """
    from btam.intake import surge
    from btam.notifications import intake_hooks

    report = _report(message)
    surge.assign_group(report)
    intake_hooks.report_received(report)
