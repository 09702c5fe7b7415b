"""The escalation driven by the team's triage decisions (btam.intake.triage_actions): acknowledging
stops it, raising urgency starts it, a referral escalates afresh at the receiving school."""

from __future__ import annotations

from typing import Any

import pytest

from btam.intake.models import Urgency
from btam.intake.triage_actions import do_acknowledge, do_change_urgency, do_refer
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import Team, drain, submit

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
State = Escalation.State


def told(kind: str) -> set[Any]:
    return {n.recipient for n in Notification.objects.filter(kind=kind).select_related("recipient")}


def test_acknowledging_the_report_stops_its_escalation(team: Team, frozen: Any) -> None:
    report = submit(team.school, danger_now=True)
    drain()
    frozen.advance(minutes=3)
    do_acknowledge(actor=team.rapid_named, report=report)
    esc = Escalation.objects.get()
    assert (esc.state, esc.acknowledged_by) == (State.ACKNOWLEDGED, team.rapid_named)
    frozen.advance(minutes=60)
    drain()
    assert not told(Kind.ESCALATION)


def test_raising_the_urgency_of_a_new_report_starts_the_escalation(team: Team, frozen: Any) -> None:
    report = submit(team.school)
    drain()
    do_change_urgency(actor=team.member_named, report=report, urgency=Urgency.URGENT, reason="Synthetic reason")
    drain()
    assert told(Kind.URGENT_REPORT) == team.rapid
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}


def test_an_urgent_report_referred_elsewhere_escalates_afresh_at_the_receiving_school(team: Team, frozen: Any) -> None:
    report = submit(team.school, danger_now=True)
    drain()
    first = Escalation.objects.get()
    frozen.advance(minutes=5)
    do_refer(actor=team.leader_named, report=report, school=team.other_school, reason="Synthetic: wrong school")
    first.refresh_from_db()
    assert first.state == State.ACKNOWLEDGED
    second = Escalation.objects.exclude(pk=first.pk).get()
    assert second.state == State.ACTIVE
    assert told(Kind.REFERRAL) == {team.leader_other_school, team.leader_wide}
    drain()
    # The receiving school's rapid response (and the district-wide one, told again) now.
    assert {
        n.recipient
        for n in Notification.objects.filter(kind=Kind.URGENT_REPORT, dedupe_key__contains=f"escalation:{second.pk}:")
    } == {
        team.rapid_other_school,
        team.rapid_wide,
    }
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_other_school}
