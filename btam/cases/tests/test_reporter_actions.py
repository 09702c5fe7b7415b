"""Writing to the reporter from the case: the case decides who may write (after a transfer too)."""

from __future__ import annotations

from typing import Any

import pytest

from btam.audit.models import AuditEvent, Verb
from btam.cases import reporter_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseSchool
from btam.cases.tests.documents_timeline_helpers import (
    close,
    open_case,
    report_with_thread,
    school_member,
    team_member,
)
from btam.intake.actions import do_post_reporter_message
from btam.intake.models import Report, ReporterMessage
from btam.intake.tests.triage_helpers import staff_referral
from btam.lib import clock
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_team_writes_to_the_reporter_audited_and_the_case_touched(world: Any, clock: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    clock.advance(minutes=3)

    message = reporter_actions.do_message_reporter(
        actor=team_member(world), case=case, report=report, body="  Thank you. Was anyone else there?  "
    )

    message.refresh_from_db()
    assert message.direction == ReporterMessage.Direction.FROM_TEAM and message.author == team_member(world)
    assert message.body == "Thank you. Was anyone else there?"
    case.refresh_from_db()
    assert case.updated_at == message.created_at
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="intake.reportermessage")
    assert event.detail == {"case": case.pk, "case_number": case.number, "report": report.pk}
    assert not OutboxMessage.objects.filter(kind="intake.reporter_notice").exists()  # no email was given


def test_a_reporter_who_asked_to_be_told_gets_the_notice_queued_as_intake_does(world: Any) -> None:
    report = report_with_thread(world.school, notify_email="reporter@example.test")
    case = open_case(world, reports=(report,))
    message = reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body="Hello")
    notice = OutboxMessage.objects.get(kind="intake.reporter_notice")
    assert notice.payload == {"report": report.pk, "message": message.pk}
    assert notice.dedupe_key == f"intake.reporter_notice:{message.pk}"


def transfer(case: Case, world: Any) -> None:
    """The case moves to the other school; the old school keeps read access."""
    CaseSchool.objects.filter(case=case, school=world.school).update(access=CaseSchool.Access.READ)
    CaseSchool.objects.create(case=case, school=world.other_school, added_at=clock.now(), added_by=team_member(world))
    Case.objects.filter(pk=case.pk).update(school=world.other_school)


def test_after_a_transfer_the_new_team_writes_although_the_report_is_the_old_schools(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    transfer(case, world)
    new_team = school_member(world, world.other_school)
    old_team = school_member(world, world.school)
    assert not Report.objects.visible_to(new_team).filter(pk=report.pk).exists()

    reporter_actions.do_message_reporter(actor=new_team, case=case, report=report, body="From the new school's team.")
    with pytest.raises(CaseError, match="no longer change this case"):
        reporter_actions.do_message_reporter(actor=old_team, case=case, report=report, body="From the old school.")

    assert ReporterMessage.objects.filter(report=report).count() == 1


def test_a_report_that_is_not_on_the_case_is_refused(world: Any) -> None:
    case = open_case(world, reports=(report_with_thread(world.school),))
    elsewhere = report_with_thread(world.school)
    with pytest.raises(CaseError, match="not on this case"):
        reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=elsewhere, body="Hello")
    assert not ReporterMessage.objects.exists()


def test_a_report_without_a_thread_is_refused(world: Any) -> None:
    report = staff_referral(world.school, team_member(world))
    case = open_case(world, reports=(report,))
    with pytest.raises(CaseError, match="no reporter thread"):
        reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body="Hello")


def test_a_message_on_a_closed_case_is_refused(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    close(case, world)
    with pytest.raises(CaseError, match="closed"):
        reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body="Hello")
    assert not ReporterMessage.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [("x" * 100_000, "too long: at most 10000 characters"), ("   ", "Write a message.")],
)
def test_an_oversized_or_empty_message_is_refused(world: Any, body: str, error: str) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    with pytest.raises(CaseError, match=error):
        reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body=body)
    assert not ReporterMessage.objects.exists()


def test_html_and_sql_are_stored_as_typed(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    body = "<script>alert(1)</script> '; DROP TABLE intake_report; --"
    message = reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body=body)
    message.refresh_from_db()
    assert message.body == body


def test_marking_read_covers_the_reporters_messages_of_the_case_only(world: Any) -> None:
    report = report_with_thread(world.school)
    other = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    open_case(world, reports=(other,))
    mine = do_post_reporter_message(report=report, body="New detail.")
    theirs = do_post_reporter_message(report=other, body="Another case.")
    team = reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body="Thanks")

    assert reporter_actions.do_mark_reporter_messages_read(actor=team_member(world), case=case) == 1
    assert reporter_actions.do_mark_reporter_messages_read(actor=team_member(world), case=case) == 0

    for message in (mine, theirs, team):
        message.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None and team.read_at is None
    assert AuditEvent.objects.filter(detail__reporter_messages_read=1).count() == 1
