"""The reporter's thread, from the case: the team writes to an anonymous reporter and reads replies.

Messages are the intake's :class:`~btam.intake.models.ReporterMessage` rows of the case's reports:
the reporter reads them with their receipt code. Who may write is decided by the case (the team
that works the case now, after a transfer too), not by the report's school. Internal notes are
never part of the thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases.actions import CaseError, audit, ensure_editable, lock_case, touch
from btam.intake.actions import IntakeError, clean_team_message, write_team_message
from btam.intake.models import Report, ReporterMessage
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.cases.models import Case


def do_message_reporter(*, actor: User, case: Case, report: Report, body: str) -> ReporterMessage:
    """Write to the reporter of one of the case's reports (its reporter thread). The reporter reads
    it with the receipt code; if they asked to be told, an email says only that there is a new
    message (queued as the triage page does)."""
    try:
        body = clean_team_message(report=report, body=body)
    except IntakeError as exc:
        raise CaseError(str(exc)) from None
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        locked = Report.objects.select_for_update(of=("self",)).filter(pk=report.pk, case_link__case_id=case.pk).first()
        if locked is None:
            raise CaseError(_("This report is not on this case. Nothing was sent."))
        if locked.receipt_hash is None:
            raise CaseError(_("This report has no reporter thread (it was not made with a receipt code)."))
        message = write_team_message(actor=actor, report=locked, body=body)
        touch(case, message.created_at)
        audit(actor=actor, case=case, verb=Verb.CREATED, target=message, detail={"report": locked.pk})
    return message


def do_mark_reporter_messages_read(*, actor: User, case: Case) -> int:
    """A member of the team working the case opened the reporter tab: the reporter's messages on the
    case's reports count as read. Returns how many were marked (the call is audited when any was)."""
    with transaction.atomic():
        count = ReporterMessage.objects.filter(
            report__case_link__case_id=case.pk,
            direction=ReporterMessage.Direction.FROM_REPORTER,
            read_at__isnull=True,
        ).update(read_at=clock.now())
        if count:
            audit(actor=actor, case=case, detail={"reporter_messages_read": count})
    return count
