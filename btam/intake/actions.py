"""Intake actions: a report arriving by any channel, and the messages of the reporter thread.

Every channel (the public form, a staff referral, the API, a forwarded tip line) calls
:func:`do_submit_report` with a :class:`NewReport`; the report, its people, links and attachments
are committed in one transaction before anyone is told it was received. Side effects (surge
grouping, notifying the team, starting the urgent escalation) go through the outbox, so they
happen after the commit, survive a crash and never slow the reporter down.

Triage decisions are in ``triage_actions.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.core.files.base import ContentFile
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Field
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.intake import features, receipt, urgency
from btam.intake.models import (
    URGENT_THRESHOLD,
    Attachment,
    Channel,
    InvolvedPerson,
    Report,
    ReporterMessage,
    ReporterRole,
    ReportLink,
    YesNoUnknown,
)
from btam.lib import clock, rows
from btam.worker import outbox
from btam.worker.models import OutboxMessage

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.intake.attachments import PreparedAttachment
    from btam.orgs.models import School

# Limits every channel shares (the forms say the same to the user before this is reached).
MAX_NARRATIVE_CHARS = 20_000
MAX_SHORT_TEXT_CHARS = 500
MAX_MESSAGE_CHARS = 10_000
MAX_PEOPLE = 20
MAX_ATTACHMENTS = 5


class IntakeError(Exception):
    """A report or message that cannot be accepted; the message is for the person submitting it."""


class SchoolNotTakingReports(IntakeError):
    """The school was closed, or moved to another district, after the caller looked it up: nothing
    was stored. (A form may look the school up again and retry, or answer that it is not found.)"""


@dataclass
class NamedPerson:
    name: str = ""
    role: str = InvolvedPerson.Role.UNKNOWN
    description: str = ""
    person_id: int | None = None  # a registry person (staff referral), already access-checked


@dataclass
class NewReport:
    """Everything a channel hands to :func:`do_submit_report`."""

    school: School
    narrative: str
    channel: str = Channel.WEB
    danger_now: bool = False
    weapon: str = YesNoUnknown.NO
    self_harm: str = YesNoUnknown.NO
    threat_date: dt.date | None = None
    how_known: str = ""
    location: str = ""
    occurred: str = ""
    people: list[NamedPerson] = field(default_factory=list)
    reporter_role: str = ReporterRole.UNSAID
    reporter_name: str = ""
    reporter_contact: str = ""
    notify_email: str = ""
    attachments: list[PreparedAttachment] = field(default_factory=list)
    # Staff referral.
    observed_behaviours: list[str] = field(default_factory=list)
    prior_concerns: str = ""
    # The form's one-time token: a second submission with it is the same report.
    submission_token: str = ""
    # Public channels give the reporter a receipt code; a staff referral is followed in the app.
    with_receipt: bool = True
    # A tripped honeypot: the report is kept, marked as abuse, and nobody is notified.
    suspected_abuse: bool = False


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    # The receipt code, to show once; None for a resubmission (it was shown the first time) and
    # for channels without a receipt.
    receipt_code: str | None
    resubmitted: bool = False


def _check(new: NewReport) -> None:
    if not new.narrative.strip():
        raise IntakeError(_("Tell us what happened."))
    if len(new.narrative) > MAX_NARRATIVE_CHARS:
        raise IntakeError(_("What happened is too long: at most %(max)d characters.") % {"max": MAX_NARRATIVE_CHARS})
    for text in (new.location, new.occurred, new.reporter_name, new.reporter_contact, new.notify_email):
        if len(text) > MAX_SHORT_TEXT_CHARS:
            raise IntakeError(_("An answer is too long: at most %(max)d characters.") % {"max": MAX_SHORT_TEXT_CHARS})
    if len(new.people) > MAX_PEOPLE:
        raise IntakeError(_("Name at most %(max)d people.") % {"max": MAX_PEOPLE})
    if len(new.attachments) > MAX_ATTACHMENTS:
        raise IntakeError(_("Attach at most %(max)d files.") % {"max": MAX_ATTACHMENTS})
    if not new.school.is_active:
        raise IntakeError(_("This school no longer takes reports here."))


def do_submit_report(*, new: NewReport, actor: User | None) -> SubmittedReport:
    """Accept a report from any channel. ``actor`` is the signed-in user (a staff referral or an
    API client's account) or None for an anonymous reporter."""
    _check(new)
    at = clock.now()
    # A form sent again (a refresh of the receipt, a double tap) carries the same one-time token:
    # its key is unique in the table, so the insert below fails and the earlier report is answered.
    # (Not looked up first: that would be a query on every report for the rare resend.)
    submission_key = receipt.keyed_hash(new.submission_token, purpose="submission") if new.submission_token else None
    level, reasons = urgency.assess(
        urgency.Answers(new.danger_now, new.weapon, new.self_harm, new.threat_date), today=at.date()
    )
    # A tripped honeypot marks the report as abuse (kept, nobody told), unless its answers make it
    # urgent: a password manager can fill a hidden field too, and a real "someone is in danger"
    # report must reach the team; the audit event records that the trap was tripped.
    is_abuse = new.suspected_abuse and level < URGENT_THRESHOLD
    code = receipt.new_code() if new.with_receipt else None
    report = Report(
        district_id=new.school.district_id,
        school=new.school,
        channel=new.channel,
        danger_now=new.danger_now,
        weapon=new.weapon,
        self_harm=new.self_harm,
        threat_date=new.threat_date,
        how_known=new.how_known,
        narrative=new.narrative,
        location=new.location,
        occurred=new.occurred,
        urgency=level,
        urgency_reasons=reasons,
        reporter_role=new.reporter_role,
        reporter_name=new.reporter_name,
        reporter_contact=new.reporter_contact,
        notify_email=new.notify_email,
        submitted_by=actor if actor is not None and actor.is_authenticated else None,
        observed_behaviours=new.observed_behaviours,
        prior_concerns=new.prior_concerns,
        receipt_hash=receipt.hash_code(code) if code else None,
        submission_key=submission_key,
        text_simhash=features.simhash(new.narrative),
        is_abuse=is_abuse,
        created_at=at,
    )
    audit_detail = {
        "channel": new.channel,
        "school": new.school.pk,
        "urgency": level,
        "attachments": len(new.attachments),
        "suspected_abuse": new.suspected_abuse,
        "marked_abuse": is_abuse,
    }
    try:
        # Without files (which are stored before their rows), on PostgreSQL: every row in one round
        # trip (btam.lib.rows), the same rows as the steps below.
        # The school is checked in the same query that reserves the keys: a process may have looked
        # it up before it was closed or moved to another district.
        school_check = (_still_open_sql(), [new.school.pk, new.school.district_id])
        try:
            reserved = None if new.attachments else rows.reserve_ids(Report, OutboxMessage, exists=school_check)
        except rows.NotFound:
            raise _school_gone() from None
        if reserved is not None:
            report.pk, message_id = reserved
            _insert_report(report, new, actor, audit_detail, message_id=message_id, urgent=level >= URGENT_THRESHOLD)
        else:
            with transaction.atomic():
                with connections[Report.objects.db].cursor() as cursor:
                    cursor.execute(*school_check)
                    if cursor.fetchone() is None:
                        raise _school_gone()
                report.save(force_insert=True)
                InvolvedPerson.objects.bulk_create(_people_rows(report, new))
                ReportLink.objects.bulk_create(_link_rows(report, new))
                for prepared in new.attachments:
                    _store_attachment(report, prepared, at=at)
                _audit_event(report, actor, audit_detail).save(force_insert=True)
                if not is_abuse:
                    # One message per new report (no dedupe key needed: the report is new). An
                    # urgent report is delivered at once; the others by the next sweep, within 15 s.
                    outbox.enqueue(
                        kind=REPORT_RECEIVED,
                        payload={"report": report.pk},
                        district_id=report.district_id,
                        deliver_now=level >= URGENT_THRESHOLD,
                    )
    except IntegrityError:
        # The form was sent before (or two submissions of it raced and the other one committed
        # first): nothing of this one was kept (the report comes first, then its files).
        if submission_key:
            earlier = Report.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                return SubmittedReport(earlier, None, resubmitted=True)
        raise
    return SubmittedReport(report, code)


REPORT_RECEIVED = "intake.report_received"


def _school_gone() -> SchoolNotTakingReports:
    return SchoolNotTakingReports(_("This school no longer takes reports here."))


@functools.cache
def _still_open_sql() -> str:
    """A row when the school (first parameter) still takes reports and is still in the district
    (second parameter). Plain SQL written once from the model: building a queryset's SQL on every
    report took longer than the database takes to answer it."""
    from btam.orgs.models import School

    meta = School._meta
    quote = connections[School.objects.db].ops.quote_name
    column = {
        name: quote(cast("Field[Any, Any]", meta.get_field(name)).column) for name in ("id", "district", "is_active")
    }
    return (
        f"SELECT 1 FROM {quote(meta.db_table)} "  # noqa: S608 (names from the model, values as parameters)
        f"WHERE {column['id']} = %s AND {column['district']} = %s AND {column['is_active']}"
    )


def _audit_event(report: Report, actor: User | None, detail: dict[str, object]) -> AuditEvent:
    """The report's "created" event (its key known), not saved yet."""
    return AuditEvent.objects.build(
        actor=actor,
        actor_label="anonymous reporter",
        verb=Verb.CREATED,
        target=report,
        detail=detail,
        omit_ip=actor is None,
    )


def _people_rows(report: Report, new: NewReport) -> list[InvolvedPerson]:
    return [
        InvolvedPerson(
            report=report,
            name=p.name.strip(),
            role=p.role,
            description=p.description.strip(),
            person_id=p.person_id,
            name_key=features.name_key(p.name),
        )
        for p in new.people
        if p.name.strip() or p.description.strip() or p.person_id
    ]


def _link_rows(report: Report, new: NewReport) -> list[ReportLink]:
    keys = features.link_keys(" ".join([new.narrative, new.location, *[p.description for p in new.people]]))
    return [ReportLink(report=report, link_key=k) for k in keys]


def _insert_report(
    report: Report,
    new: NewReport,
    actor: User | None,
    audit_detail: dict[str, object],
    *,
    message_id: int,
    urgent: bool,
) -> None:
    """The rows of a report without files, written together (the report's and the outbox
    message's keys reserved): the report, its people and links, the audit event, and unless it is
    abuse the outbox message (and for an urgent report the task that delivers it at once)."""
    objects: list[models.Model] = [report, *_people_rows(report, new), *_link_rows(report, new)]
    objects.append(_audit_event(report, actor, audit_detail))
    task = None
    if not report.is_abuse:
        message = outbox.new_message(
            kind=REPORT_RECEIVED, payload={"report": report.pk}, district_id=report.district_id
        )
        message.pk = message_id
        objects.append(message)
        if urgent:
            task = outbox.delivery_task(message_id)
            if task is not None:
                objects.append(task)
    rows.insert_together(objects)
    if urgent and not report.is_abuse and task is None:
        # Tasks kept elsewhere: queued once the rows are committed (at once outside a transaction);
        # if that fails, the sweep delivers the message.
        transaction.on_commit(lambda: outbox.start_delivery(message_id), robust=True)


def _store_attachment(
    report: Report, prepared: PreparedAttachment, *, at: dt.datetime, message: ReporterMessage | None = None
) -> Attachment:
    attachment = Attachment(
        report=report,
        message=message,
        content_type=prepared.content_type,
        size=len(prepared.content),
        original_name=prepared.original_name,
        content_key=prepared.content_key,
        metadata_stripped=prepared.metadata_stripped,
        created_at=at,
    )
    attachment.file.save("upload", ContentFile(prepared.content), save=False)
    attachment.save()
    return attachment


def find_report_by_code(code: str) -> Report | None:
    """The report a receipt code opens, or None (a malformed code opens nothing)."""
    hashed = receipt.hash_code(code)
    if hashed is None:
        return None
    return Report.objects.select_related("school", "district").filter(receipt_hash=hashed).first()


def do_post_reporter_message(
    *, report: Report, body: str, attachments: list[PreparedAttachment] | None = None
) -> ReporterMessage:
    """The reporter (who proved the receipt code) replies in the thread, optionally with files."""
    body = body.strip()
    attachments = attachments or []
    if not body and not attachments:
        raise IntakeError(_("Write a message or attach a file."))
    if len(body) > MAX_MESSAGE_CHARS:
        raise IntakeError(_("The message is too long: at most %(max)d characters.") % {"max": MAX_MESSAGE_CHARS})
    at = clock.now()
    with transaction.atomic():
        # Locked, so two replies sent at once cannot both pass the limit on files.
        Report.objects.select_for_update().filter(pk=report.pk).first()
        existing = Attachment.objects.filter(report=report).count()
        if existing + len(attachments) > MAX_ATTACHMENTS * 4:
            raise IntakeError(_("This report already holds as many files as it can take."))
        message = ReporterMessage.objects.create(
            report=report, direction=ReporterMessage.Direction.FROM_REPORTER, body=body, created_at=at
        )
        for prepared in attachments:
            _store_attachment(report, prepared, at=at, message=message)
        AuditEvent.objects.record(
            actor=None,
            actor_label="anonymous reporter",
            verb=Verb.CREATED,
            target=message,
            district_id=report.district_id,
            detail={"report": report.pk, "attachments": len(attachments)},
            omit_ip=True,
        )
        outbox.enqueue(
            kind="intake.reporter_replied",
            payload={"report": report.pk, "message": message.pk},
            dedupe_key=f"intake.reporter_replied:{message.pk}",
            district_id=report.district_id,
        )
    return message


def clean_team_message(*, report: Report, body: str) -> str:
    """The team's message to the reporter, checked (raises IntakeError)."""
    body = body.strip()
    if not body:
        raise IntakeError(_("Write a message."))
    if len(body) > MAX_MESSAGE_CHARS:
        raise IntakeError(_("The message is too long: at most %(max)d characters.") % {"max": MAX_MESSAGE_CHARS})
    if report.receipt_hash is None:
        raise IntakeError(_("This report has no reporter thread (it was not made with a receipt code)."))
    return body


def write_team_message(*, actor: User, report: Report, body: str) -> ReporterMessage:
    """Store the team's message (checked by :func:`clean_team_message`) and queue the reporter's
    email notice if they asked for one. The caller runs this in its transaction, holding the
    report's row lock, once it has checked that the actor may write here, and writes the audit
    event (the triage page's and the case page's differ)."""
    message = ReporterMessage.objects.create(
        report=report,
        direction=ReporterMessage.Direction.FROM_TEAM,
        body=body,
        author=actor,
        created_at=clock.now(),
    )
    if report.notify_email:
        outbox.enqueue(
            kind="intake.reporter_notice",
            payload={"report": report.pk, "message": message.pk},
            dedupe_key=f"intake.reporter_notice:{message.pk}",
            district_id=report.district_id,
        )
    return message


def _check_case_thread(*, actor: User, report: Report) -> None:
    """Once a report is on a case, the case decides who writes in its thread (as on the case's
    Reporter tab): the team working the case, while the case is open. A school that kept read
    access after a transfer reads the thread but does not write in it."""
    from btam.cases.models import Case, Status

    case = Case.objects.filter(report_links__report_id=report.pk).only("pk", "status", "merged_into").first()
    if case is None:
        return
    if case.status == Status.CLOSED or case.merged_into_id is not None:
        raise IntakeError(_("This report's case is closed: reopen the case to write to the reporter."))
    if not Case.objects.writable_by(actor).filter(pk=case.pk).exists():
        raise IntakeError(
            _("This report is on a case your team can read but not change: its team writes to the reporter.")
        )


def do_post_team_message(*, actor: User, report: Report, body: str) -> ReporterMessage:
    """A team member writes to the reporter (the caller has checked the user may work the report).

    The reporter reads it with the receipt code; if they asked to be told, an email says only that
    there is a new message.
    """
    body = clean_team_message(report=report, body=body)
    with transaction.atomic():
        # Re-checked under the row lock: a referral to another school committed meanwhile takes the
        # report out of this user's hands.
        if Report.objects.visible_to(actor).select_for_update().filter(pk=report.pk).first() is None:
            raise IntakeError(_("This report is no longer with your team (it may have been referred)."))
        _check_case_thread(actor=actor, report=report)
        message = write_team_message(actor=actor, report=report, body=body)
        AuditEvent.objects.record(
            actor=actor, verb=Verb.CREATED, target=message, district_id=report.district_id, detail={"report": report.pk}
        )
    return message


def do_mark_thread_read_by_reporter(*, report: Report) -> int:
    """The reporter opened the thread: the team's messages so far count as read."""
    return ReporterMessage.objects.filter(
        report=report, direction=ReporterMessage.Direction.FROM_TEAM, read_at__isnull=True
    ).update(read_at=clock.now())
