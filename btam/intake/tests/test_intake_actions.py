"""do_submit_report and the reporter thread actions: honeypot and urgency, delivery timing,
messages racing a referral."""

from __future__ import annotations

from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake.actions import IntakeError, NewReport, do_post_team_message, do_submit_report
from btam.intake.models import Report, ReporterMessage, YesNoUnknown
from btam.intake.triage_actions import do_refer
from btam.testing import make_member
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
NARRATIVE = "Someone said there is a knife in a backpack in room 12 right now."


def _submit(school: Any, **answers: Any) -> Report:
    return do_submit_report(new=NewReport(school=school, narrative=NARRATIVE, **answers), actor=None).report


def test_a_tripped_honeypot_marks_a_routine_report_as_abuse_and_tells_nobody(world: Any) -> None:
    report = _submit(world.school, suspected_abuse=True)
    assert report.is_abuse
    assert not OutboxMessage.objects.filter(kind="intake.report_received").exists()


def test_an_urgent_report_that_tripped_the_honeypot_still_reaches_the_team(world: Any) -> None:
    # A password manager can fill the hidden field; "someone is in danger" must not be silenced.
    report = _submit(world.school, suspected_abuse=True, danger_now=True)
    assert not report.is_abuse
    assert OutboxMessage.objects.filter(kind="intake.report_received", payload={"report": report.pk}).exists()
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="intake.report", target_id=str(report.pk))
    assert event.detail["suspected_abuse"] is True and event.detail["marked_abuse"] is False


def test_an_urgent_report_is_delivered_at_once_a_routine_one_by_the_sweep(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as routine_callbacks:
        _submit(world.school)
    with django_capture_on_commit_callbacks() as urgent_callbacks:
        _submit(world.school, weapon=YesNoUnknown.YES)
    # The urgent one queues its delivery task (in its transaction); the routine one waits for the
    # sweep (every 15 s), sparing the reporter's request the task's row.
    assert routine_callbacks == urgent_callbacks == []
    urgent = OutboxMessage.objects.get(kind="intake.report_received", payload__report=Report.objects.latest("pk").pk)
    assert DBTaskResult.objects.get().args_kwargs == {"args": [urgent.pk], "kwargs": {}}
    assert OutboxMessage.objects.filter(kind="intake.report_received").count() == 2


def test_a_message_to_the_reporter_is_refused_once_the_report_was_referred_away(world: Any) -> None:
    north = make_member(Role.TEAM_MEMBER, world.district, [world.school])
    leader = make_member(Role.TEAM_LEADER, world.district, [world.school])
    report = _submit(world.school)
    seen_before = Report.objects.visible_to(north).get(pk=report.pk)
    do_refer(actor=leader, report=report, school=world.other_school, reason="Their student.")
    with pytest.raises(IntakeError, match="no longer with your team"):
        do_post_team_message(actor=north, report=seen_before, body="A question for you.")
    assert not ReporterMessage.objects.exists()
