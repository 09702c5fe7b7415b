"""Escalation with a fake clock: rapid response at once, the leader after 15 minutes, the deputy
(none yet: skipped) and the district after 30; acknowledgement stops it; a crash doubles nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.audit.models import AuditEvent
from btam.intake.models import Report, Urgency
from btam.notifications import escalation
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import T0, Team, drain, submit
from btam.worker import outbox
from btam.worker.models import OutboxMessage
from btam.worker.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
State = Escalation.State


def told(kind: str) -> set[Any]:
    return {n.recipient for n in Notification.objects.filter(kind=kind).select_related("recipient")}


def emailed() -> list[str]:
    return sorted(
        to
        for payload in OutboxMessage.objects.filter(kind="email").values_list("payload", flat=True)
        for to in payload["to"]
    )


def urgent_report(team: Team) -> tuple[Report, Escalation]:
    report = submit(team.school, danger_now=True)
    drain()
    return report, Escalation.objects.get()


def step_message(esc: Escalation, step: int) -> OutboxMessage:
    return OutboxMessage.objects.get(dedupe_key=f"escalation:{esc.pk}:{step}")


# (c) the chain ---------------------------------------------------------------------------------


def test_nobody_acknowledges_so_it_escalates_to_the_leader_then_the_district(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    assert told(Kind.URGENT_REPORT) == team.rapid
    assert (esc.step, esc.next_step_at) == (1, T0 + escalation.interval())
    assert step_message(esc, 1).next_attempt_at == T0 + escalation.interval()

    frozen.advance(minutes=14, seconds=59)
    drain()
    assert not told(Kind.ESCALATION)

    frozen.advance(seconds=1)
    drain()
    # Step 1: the team leader named on the school (the district-wide leader waits for step 3).
    assert told(Kind.ESCALATION) == {team.leader_named}
    item = Notification.objects.get(kind=Kind.ESCALATION)
    assert item.urgent
    assert item.title == "Urgent report for Lincoln Test High not acknowledged after 15 minutes"
    assert item.email_outbox is not None and item.email_outbox.state == OutboxMessage.State.SENT
    assert team.leader_named.email in emailed()

    frozen.advance(minutes=15)
    drain()
    # Step 2 (the deputy) finds nobody and is skipped at once; step 3 tells the district level.
    esc.refresh_from_db()
    assert [(h["step"], h["group"], h["outcome"]) for h in esc.history] == [
        (0, "rapid_response", "notified"),
        (1, "team_leader", "notified"),
        (2, "deputy", "skipped"),
        (3, "district", "notified"),
    ]
    assert esc.history[2]["note"] == "no deputy designated"
    assert esc.history[3]["recipients"] == sorted(u.pk for u in team.district_team)
    assert told(Kind.ESCALATION) == {team.leader_named} | team.district_team
    district_item = Notification.objects.get(kind=Kind.ESCALATION, recipient=team.member_wide)
    assert district_item.title == "Urgent report for Lincoln Test High not acknowledged after 30 minutes"
    assert team.member_wide.email in emailed() and team.leader_wide.email in emailed()
    assert (esc.state, esc.step, esc.next_step_at) == (State.EXHAUSTED, len(escalation.STEPS), None)

    # Nothing more, however long nobody acknowledges.
    count = Notification.objects.count()
    frozen.advance(hours=5)
    drain()
    assert Notification.objects.count() == count
    # Nobody outside the chain was ever told.
    assert {n.recipient for n in Notification.objects.all()} == team.rapid | {team.leader_named} | team.district_team


def test_acknowledging_stops_the_chain(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=10)
    assert escalation.acknowledge(target=report, actor=team.rapid_named) is True
    esc.refresh_from_db()
    assert (esc.state, esc.acknowledged_by, esc.acknowledged_at) == (
        State.ACKNOWLEDGED,
        team.rapid_named,
        T0 + dt.timedelta(minutes=10),
    )
    assert esc.next_step_at is None
    audit = AuditEvent.objects.get(target_type="notifications.escalation", target_id=str(esc.pk))
    assert audit.actor == team.rapid_named
    assert (audit.before["state"], audit.after["state"]) == ("active", "acknowledged")

    before = Notification.objects.count()
    for _ in range(4):
        frozen.advance(minutes=15)
        drain()
    assert Notification.objects.count() == before
    assert not told(Kind.ESCALATION)
    # The pending step message was delivered as a no-op.
    assert step_message(esc, 1).state == OutboxMessage.State.SENT
    # A second acknowledgement stops nothing more.
    assert escalation.acknowledge(target=report, actor=team.leader_named) is False


def test_acknowledging_after_the_leader_was_told_stops_the_district_step(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}
    frozen.advance(minutes=5)
    assert escalation.acknowledge(target=report, actor=team.leader_named)
    frozen.advance(minutes=30)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}


def test_an_exhausted_escalation_can_still_be_acknowledged(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=30)
    drain()
    esc.refresh_from_db()
    assert esc.state == State.EXHAUSTED
    assert escalation.acknowledge(target=report, actor=team.leader_wide)
    esc.refresh_from_db()
    assert (esc.state, esc.acknowledged_by) == (State.ACKNOWLEDGED, team.leader_wide)


def test_acknowledging_something_without_an_escalation_returns_false(team: Team) -> None:
    report = submit(team.school)
    drain()
    assert escalation.acknowledge(target=report, actor=team.leader_named) is False
    assert not AuditEvent.objects.filter(target_type="notifications.escalation").exists()


def test_a_report_acknowledged_before_the_step_is_not_escalated_even_without_acknowledge(
    team: Team, frozen: Any
) -> None:
    """The safety net: triage set the report acknowledged, but the escalation was not told."""
    report, esc = urgent_report(team)
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.ACKNOWLEDGED, acknowledged_at=frozen.now(), acknowledged_by=team.rapid_wide
    )
    frozen.advance(minutes=15)
    drain()
    esc.refresh_from_db()
    assert (esc.state, esc.acknowledged_by) == (State.ACKNOWLEDGED, team.rapid_wide)
    assert not told(Kind.ESCALATION)


def test_without_named_leaders_the_district_wide_leader_is_told_at_step_1(team: Team, frozen: Any) -> None:
    team.leader_named.memberships.update(is_active=False)
    urgent_report(team)
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_wide}
    frozen.advance(minutes=15)
    drain()
    # The district step still runs and tells the district-wide leader again (still not acknowledged).
    assert Notification.objects.filter(kind=Kind.ESCALATION, recipient=team.leader_wide).count() == 2
    assert told(Kind.ESCALATION) == team.district_team


def test_the_interval_is_a_setting(team: Team, frozen: Any, settings: Any) -> None:
    settings.BTAM_ESCALATION_MINUTES = 5
    urgent_report(team)
    frozen.advance(minutes=5)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}
    assert Notification.objects.get(kind=Kind.ESCALATION).title.endswith("after 5 minutes")


def test_starting_twice_keeps_one_escalation_and_one_pending_step(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    escalation.start_for_report(report)
    escalation.start_for_report(report)
    assert Escalation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=escalation.STEP_KIND).count() == 2  # step 0 (sent) and step 1
    drain()
    assert Notification.objects.count() == 2


def test_staff_raising_urgency_starts_the_escalation(team: Team, frozen: Any) -> None:
    report = submit(team.school)
    drain()
    Notification.objects.all().delete()
    Report.objects.filter(pk=report.pk).update(urgency=Urgency.URGENT, urgency_set_by_staff=True)
    report.refresh_from_db()
    escalation.start_for_report(report)
    drain()
    assert told(Kind.URGENT_REPORT) == team.rapid
    assert Notification.objects.filter(kind=Kind.URGENT_REPORT).first().title == (  # type: ignore[union-attr]
        "A report for Lincoln Test High is now urgent and needs attention"
    )
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}


def test_raising_urgency_of_an_acknowledged_report_tells_rapid_response_once_without_a_chain(
    team: Team, frozen: Any
) -> None:
    report = submit(team.school)
    drain()
    Report.objects.filter(pk=report.pk).update(
        urgency=Urgency.URGENT,
        urgency_set_by_staff=True,
        status=Report.Status.ACKNOWLEDGED,
        acknowledged_at=frozen.now(),
        acknowledged_by=team.member_named,
    )
    report.refresh_from_db()
    escalation.start_for_report(report)
    escalation.start_for_report(report)
    drain()
    assert told(Kind.URGENT_REPORT) == team.rapid
    assert Notification.objects.filter(kind=Kind.URGENT_REPORT).count() == 2
    assert not Escalation.objects.exists()


# Crashes ---------------------------------------------------------------------------------------


def test_a_worker_killed_after_the_step_committed_doubles_nothing(
    team: Team, frozen: Any, mailoutbox: list[Any]
) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=15)
    message = step_message(esc, 1)
    claimed = outbox.claim(message.pk)  # worker A claims step 1 ...
    assert claimed is not None
    escalation.run_step(esc.pk, 1)  # ... runs it (committed) and is killed before recording "sent"
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxMessage.State.SENDING

    frozen.advance(seconds=outbox.LEASE.total_seconds() + 1)
    drain()  # the sweep takes the abandoned claim over and delivers it again
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxMessage.State.SENT, 2)
    assert Notification.objects.filter(kind=Kind.ESCALATION, recipient=team.leader_named).count() == 1
    assert emailed().count(team.leader_named.email) == 1
    assert [m.to for m in mailoutbox].count([team.leader_named.email]) == 1
    esc.refresh_from_db()
    assert [h["step"] for h in esc.history] == [0, 1]
    assert OutboxMessage.objects.filter(kind=escalation.STEP_KIND).count() == 3  # steps 0, 1, 2


def test_a_worker_killed_before_the_step_committed_loses_nothing(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=15)
    message = step_message(esc, 1)
    assert outbox.claim(message.pk) is not None  # claimed, then killed before the handler committed
    drain()
    assert not told(Kind.ESCALATION)  # within the lease nobody else takes it
    frozen.advance(seconds=outbox.LEASE.total_seconds() + 1)
    drain()
    assert told(Kind.ESCALATION) == {team.leader_named}
    assert Notification.objects.filter(kind=Kind.ESCALATION).count() == 1


def test_a_step_delivered_again_after_it_ran_is_a_no_op(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(minutes=15)
    drain()
    before = (Notification.objects.count(), OutboxMessage.objects.count())
    escalation.run_step(esc.pk, 1)
    escalation.run_step(esc.pk, 0)
    assert (Notification.objects.count(), OutboxMessage.objects.count()) == before


def test_a_malformed_step_payload_fails_permanently(team: Team) -> None:
    message = outbox.enqueue(kind=escalation.STEP_KIND, payload={"escalation": "x", "step": 0})
    assert outbox.deliver(message.pk) == OutboxMessage.State.FAILED


def test_a_step_of_an_escalation_whose_report_is_gone_stops_it(team: Team, frozen: Any) -> None:
    esc = Escalation.objects.create(
        district=team.district, target_type="intake.report", target_id="999999", started_at=T0, next_step_at=T0
    )
    escalation.run_step(esc.pk, 0)
    esc.refresh_from_db()
    assert esc.state == State.EXHAUSTED
    assert esc.history[0]["note"] == "target no longer exists"
    assert not Notification.objects.exists()


# (g) the delay bound ---------------------------------------------------------------------------


def test_a_step_due_at_t_is_delivered_by_the_first_sweep_at_or_after_t(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    due = esc.next_step_at
    assert due is not None
    # The sweep before the due time leaves it; the one at the due time (the next, at most 15 s
    # later) delivers it.
    frozen.freeze(due - dt.timedelta(seconds=1))
    assert outbox.sweep() == {}
    frozen.freeze(due)
    assert outbox.sweep() == {"sent": 1}
    assert told(Kind.ESCALATION) == {team.leader_named}


def test_a_crashed_delivery_is_taken_over_within_a_minute() -> None:
    # A deliverer that died mid-claim is replaced after the lease, by the next sweep: the worst
    # delay a crash adds to an urgent notification is the lease plus one sweep period.
    sweep = next(job for job in PERIODIC_JOBS if job.task == "btam.worker.tasks.sweep_outbox")
    assert outbox.LEASE.total_seconds() + sweep.every_seconds < 60


def test_a_step_queued_while_every_process_was_down_is_delivered_by_the_first_sweep(team: Team, frozen: Any) -> None:
    report, esc = urgent_report(team)
    frozen.advance(hours=2)  # nothing ran meanwhile
    drain()
    # Overdue steps run one after another at once; times stay anchored to the start.
    esc.refresh_from_db()
    assert esc.state == State.EXHAUSTED
    assert [h["due"] for h in esc.history if h["outcome"] == "notified"] == [
        T0.isoformat(),
        (T0 + escalation.interval()).isoformat(),
        (T0 + 2 * escalation.interval()).isoformat(),
    ]
    assert told(Kind.ESCALATION) == {team.leader_named} | team.district_team
