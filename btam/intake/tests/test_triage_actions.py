"""Triage decisions (triage_actions.py): each transition, its guards, and what each one records."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake import surge
from btam.intake.models import Report, TriageDecision, Urgency
from btam.intake.tests.triage_helpers import FAST_HASHERS, HookSpy, install_hook_spy, submit, urgent
from btam.intake.triage_actions import (
    MAX_REASON_CHARS,
    TriageError,
    do_acknowledge,
    do_acknowledge_group,
    do_change_urgency,
    do_mark_abuse,
    do_mark_duplicate,
    do_open_case,
    do_refer,
    do_reopen,
    do_screen_out,
    do_unmark_abuse,
)
from btam.testing import SchoolFactory, make_member

Status = Report.Status
Kind = TriageDecision.Kind


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    return install_hook_spy(monkeypatch)


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


def decisions(report: Report) -> list[str]:
    return list(TriageDecision.objects.filter(report=report).order_by("pk").values_list("kind", flat=True))


def audit_decisions(report: Report) -> list[str]:
    events = AuditEvent.objects.filter(verb=Verb.UPDATED, target_type="intake.report", target_id=str(report.pk))
    return [e.detail["decision"] for e in events.order_by("pk")]


# Acknowledge ------------------------------------------------------------------------------------------
def test_acknowledge_records_who_and_when_a_decision_and_an_audit_event(
    world: Any, member: Any, hooks: HookSpy, clock: Any
) -> None:
    report = urgent(world.school)
    clock.advance(minutes=12)

    done = do_acknowledge(actor=member, report=report)

    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED
    assert report.acknowledged_by == member
    assert report.acknowledged_at == done.acknowledged_at
    assert report.acknowledged_at is not None and report.acknowledged_at > report.created_at
    assert decisions(report) == [Kind.ACKNOWLEDGE]
    event = AuditEvent.objects.get(verb=Verb.UPDATED, target_id=str(report.pk))
    assert event.actor == member
    assert event.before["status"] == Status.NEW and event.after["status"] == Status.ACKNOWLEDGED
    assert event.detail["decision_id"] == TriageDecision.objects.get(report=report).pk
    # The urgent escalation is told to stop, by whom.
    assert hooks.acknowledged == [(report.pk, member.pk)]


def test_acknowledging_twice_is_refused_and_writes_nothing(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_acknowledge(actor=member, report=report)
    with pytest.raises(TriageError, match="Acknowledged"):
        do_acknowledge(actor=world.users[Role.TEAM_LEADER], report=report)
    report.refresh_from_db()
    assert report.acknowledged_by == member
    assert decisions(report) == [Kind.ACKNOWLEDGE]
    assert len(audit_decisions(report)) == 1


def test_acknowledge_stops_the_real_escalation(world: Any, member: Any) -> None:
    from btam.notifications import escalation
    from btam.notifications.models import Escalation

    report = urgent(world.school)
    escalation.start_for_report(report)
    running = Escalation.objects.get(target_type="intake.report", target_id=str(report.pk))
    assert running.state == Escalation.State.ACTIVE

    do_acknowledge(actor=member, report=report)

    running.refresh_from_db()
    assert running.state == Escalation.State.ACKNOWLEDGED
    assert running.acknowledged_by == member


def test_a_stale_report_object_is_judged_by_its_current_row(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    stale = Report.objects.get(pk=report.pk)
    do_screen_out(actor=member, report=report, reason="Not a safety matter: a lost phone.")
    with pytest.raises(TriageError):
        do_acknowledge(actor=member, report=stale)
    assert Report.objects.get(pk=report.pk).status == Status.SCREENED_OUT


@pytest.mark.parametrize(
    ("act", "kwargs"),
    [
        (do_acknowledge, {}),
        (do_change_urgency, {"urgency": Urgency.ROUTINE, "reason": "Stale page."}),
        (do_screen_out, {"reason": "Stale page."}),
        (do_open_case, {}),
        (do_mark_abuse, {"reason": "Stale page."}),
        (do_refer, {"reason": "Stale page."}),
    ],
)
def test_a_report_referred_away_meanwhile_is_not_decided_by_the_old_school(
    world: Any, hooks: HookSpy, act: Any, kwargs: dict[str, Any]
) -> None:
    """Referral while acknowledging: a request of the first school fetched the report (visible
    then) and waits for its lock while a colleague refers it to a school its user does not work."""
    north = make_member(Role.TEAM_MEMBER, world.district, [world.school])
    leader = make_member(Role.TEAM_LEADER, world.district, [world.school])
    report = urgent(world.school)
    seen_before = Report.objects.visible_to(north).get(pk=report.pk)
    do_refer(actor=leader, report=report, school=world.other_school, reason="Their student.")
    if act is do_refer:
        kwargs = {**kwargs, "school": SchoolFactory.create(district=world.district)}

    with pytest.raises(TriageError, match="no longer among the reports your team works"):
        act(actor=north, report=seen_before, **kwargs)

    current = Report.objects.get(pk=report.pk)
    assert current.school == world.other_school
    assert current.status == Status.NEW and current.acknowledged_at is None and not current.is_abuse
    assert current.urgency == Urgency.URGENT
    assert decisions(report) == [Kind.REFER]
    # The receiving school's escalation is left running: only the referral stopped the first one.
    assert hooks.acknowledged == [(report.pk, leader.pk)]


# Urgency ----------------------------------------------------------------------------------------------
def test_raising_urgency_to_urgent_needs_a_reason_and_starts_the_escalation(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    report = submit(world.school)
    assert report.urgency == Urgency.ROUTINE

    do_change_urgency(actor=member, report=report, urgency=Urgency.URGENT, reason="The game is tomorrow.")

    report.refresh_from_db()
    assert report.urgency == Urgency.URGENT
    assert report.urgency_set_by_staff
    decision = TriageDecision.objects.get(report=report)
    assert decision.kind == Kind.URGENCY
    assert decision.detail == {"from": Urgency.ROUTINE, "to": Urgency.URGENT}
    assert decision.reason == "The game is tomorrow."
    assert hooks.escalated == [report.pk]


def test_changing_urgency_below_urgent_or_within_urgent_starts_no_escalation(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    routine = submit(world.school)
    do_change_urgency(actor=member, report=routine, urgency=Urgency.ELEVATED, reason="Worth a closer look.")
    already = urgent(world.school)
    do_change_urgency(actor=member, report=already, urgency=Urgency.EMERGENCY, reason="Police called us.")
    do_change_urgency(actor=member, report=already, urgency=Urgency.ROUTINE, reason="It was a film script.")
    assert hooks.escalated == []
    assert Report.objects.get(pk=already.pk).urgency == Urgency.ROUTINE


def test_lowering_an_urgent_report_below_urgent_stops_its_escalation(world: Any, member: Any) -> None:
    from btam.notifications import escalation
    from btam.notifications.models import Escalation

    report = urgent(world.school)
    escalation.start_for_report(report)

    do_change_urgency(actor=member, report=report, urgency=Urgency.ELEVATED, reason="It was a film script.")

    stopped = Escalation.objects.get(target_type="intake.report", target_id=str(report.pk))
    assert stopped.state == Escalation.State.ACKNOWLEDGED and stopped.acknowledged_by == member
    # Raised again, it escalates afresh.
    do_change_urgency(actor=member, report=report, urgency=Urgency.URGENT, reason="A second message came in.")
    assert Escalation.objects.filter(target_id=str(report.pk), state=Escalation.State.ACTIVE).count() == 1


@pytest.mark.parametrize(
    ("urgency", "reason", "message"),
    [
        (Urgency.URGENT, "", "Give a reason"),
        (Urgency.URGENT, "   ", "Give a reason"),
        (Urgency.URGENT, "x" * (MAX_REASON_CHARS + 1), "too long"),
        (9, "A reason.", "urgency levels"),
        (Urgency.ROUTINE, "A reason.", "already has this urgency"),
    ],
)
def test_bad_urgency_changes_are_refused(
    world: Any, member: Any, hooks: HookSpy, urgency: int, reason: str, message: str
) -> None:
    report = submit(world.school)
    with pytest.raises(TriageError, match=message):
        do_change_urgency(actor=member, report=report, urgency=urgency, reason=reason)
    report.refresh_from_db()
    assert report.urgency == Urgency.ROUTINE and not report.urgency_set_by_staff
    assert decisions(report) == [] and audit_decisions(report) == []


def test_a_reason_of_exactly_the_limit_is_accepted(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_screen_out(actor=member, report=report, reason="y" * MAX_REASON_CHARS)
    assert TriageDecision.objects.get(report=report).reason == "y" * MAX_REASON_CHARS


def test_urgency_of_a_closed_report_cannot_change(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_screen_out(actor=member, report=report, reason="A rumour already dealt with.")
    with pytest.raises(TriageError, match="only while it is open"):
        do_change_urgency(actor=member, report=report, urgency=Urgency.URGENT, reason="Second thoughts.")


# Reasons are encrypted at rest -----------------------------------------------------------------------
def test_the_reason_is_encrypted_in_the_database_and_kept_out_of_the_audit_trail(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    secret = "Jordan Quillfeather's father confirmed the rifle is locked away"
    report = submit(world.school)
    do_screen_out(actor=member, report=report, reason=secret)
    decision = TriageDecision.objects.get(report=report)
    assert decision.reason == secret  # readable through the model

    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM intake_triagedecision WHERE id = %s", [decision.pk])
        (raw,) = cursor.fetchone()
        assert raw and secret not in raw and "Quillfeather" not in raw
        cursor.execute(
            "SELECT reason, detail, before, after FROM audit_auditevent WHERE target_type = %s AND target_id = %s",
            ["intake.report", str(report.pk)],
        )
        for row in cursor.fetchall():
            assert "Quillfeather" not in " ".join(str(column) for column in row)


# Screen out, reopen --------------------------------------------------------------------------------------
def test_screening_out_a_new_report_records_the_first_look_and_stops_escalation(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    report = urgent(world.school)
    do_screen_out(actor=member, report=report, reason="A quote from a song, checked with the teacher.")
    report.refresh_from_db()
    assert report.status == Status.SCREENED_OUT
    assert report.acknowledged_by == member
    assert hooks.acknowledged == [(report.pk, member.pk)]
    assert decisions(report) == audit_decisions(report) == [Kind.SCREEN_OUT]


def test_screen_out_needs_a_reason(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    with pytest.raises(TriageError, match="Give a reason"):
        do_screen_out(actor=member, report=report, reason="")
    assert Report.objects.get(pk=report.pk).status == Status.NEW


def test_reopen_brings_a_screened_out_report_back_acknowledged(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_screen_out(actor=member, report=report, reason="Looked harmless.")
    with pytest.raises(TriageError):
        do_screen_out(actor=member, report=report, reason="Twice.")

    do_reopen(actor=world.users[Role.TEAM_LEADER], report=report, reason="A second report says otherwise.")

    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED
    assert report.acknowledged_by == member  # the first look stays the first look
    assert decisions(report) == [Kind.SCREEN_OUT, Kind.REOPEN]


@pytest.mark.parametrize("status", [Status.NEW, Status.ACKNOWLEDGED, Status.CASE_OPENED])
def test_only_screened_out_or_duplicate_reports_reopen(world: Any, member: Any, hooks: HookSpy, status: str) -> None:
    report = submit(world.school)
    Report.objects.filter(pk=report.pk).update(status=status)
    with pytest.raises(TriageError, match="cannot be done while"):
        do_reopen(actor=member, report=report, reason="Why not.")
    assert Report.objects.get(pk=report.pk).status == status


# Refer ----------------------------------------------------------------------------------------------------
def test_refer_moves_the_report_new_to_the_other_school_and_tells_it(world: Any, member: Any, hooks: HookSpy) -> None:
    report = urgent(world.school)
    do_acknowledge(actor=member, report=report)

    do_refer(actor=member, report=report, school=world.other_school, reason="The student attends South.")

    report.refresh_from_db()
    assert report.school == world.other_school
    assert report.referred_from == world.school
    assert report.status == Status.NEW  # new again for the receiving team
    assert report.acknowledged_at is None and report.acknowledged_by is None
    decision = TriageDecision.objects.get(report=report, kind=Kind.REFER)
    assert decision.detail == {"from": world.school.pk, "to": world.other_school.pk}
    assert hooks.referred == [(report.pk, world.other_school.pk)]
    event = AuditEvent.objects.filter(target_id=str(report.pk), verb=Verb.UPDATED).order_by("-pk").first()
    assert event is not None
    assert event.before["school"] == world.school.pk and event.after["school"] == world.other_school.pk


def test_refer_is_refused_to_the_own_school_another_district_or_an_inactive_school(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    report = submit(world.school)
    elsewhere = world.other_district.schools.first()
    closed = SchoolFactory.create(district=world.district, is_active=False)
    with pytest.raises(TriageError, match="already at this school"):
        do_refer(actor=member, report=report, school=world.school, reason="Oops.")
    with pytest.raises(TriageError, match="same district"):
        do_refer(actor=member, report=report, school=elsewhere, reason="Oops.")
    with pytest.raises(TriageError, match="no longer takes reports"):
        do_refer(actor=member, report=report, school=closed, reason="Oops.")
    with pytest.raises(TriageError, match="Give a reason"):
        do_refer(actor=member, report=report, school=world.other_school, reason="")
    report.refresh_from_db()
    assert report.school == world.school and report.referred_from is None
    assert decisions(report) == [] and hooks.referred == []


def test_a_closed_report_cannot_be_referred(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_open_case(actor=member, report=report)
    with pytest.raises(TriageError, match="cannot be done while"):
        do_refer(actor=member, report=report, school=world.other_school, reason="Move it.")


# Duplicate --------------------------------------------------------------------------------------------------
def test_mark_duplicate_links_the_original(world: Any, member: Any, hooks: HookSpy) -> None:
    original, copy = submit(world.school), submit(world.school)
    do_mark_duplicate(actor=member, report=copy, original=original, reason="Same rumour.")
    copy.refresh_from_db()
    assert copy.status == Status.DUPLICATE
    assert copy.duplicate_of == original
    assert TriageDecision.objects.get(report=copy).detail == {"original": original.pk}

    do_reopen(actor=member, report=copy, reason="Different event after all.")
    copy.refresh_from_db()
    assert copy.status == Status.ACKNOWLEDGED and copy.duplicate_of is None


def test_duplicate_of_itself_another_district_or_an_unseen_report_is_refused(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    report = submit(world.school)
    elsewhere = submit(world.other_district.schools.get())
    other_school = submit(world.other_school)
    only_north = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    with pytest.raises(TriageError, match="of itself"):
        do_mark_duplicate(actor=member, report=report, original=report)
    with pytest.raises(TriageError, match="same district"):
        do_mark_duplicate(actor=member, report=report, original=elsewhere)
    with pytest.raises(TriageError, match="your team works"):
        do_mark_duplicate(actor=only_north, report=report, original=other_school)
    assert Report.objects.get(pk=report.pk).status == Status.NEW


def test_a_duplicate_loop_is_refused(world: Any, member: Any, hooks: HookSpy) -> None:
    first, second, third = submit(world.school), submit(world.school), submit(world.school)
    do_mark_duplicate(actor=member, report=first, original=second)
    do_mark_duplicate(actor=member, report=second, original=third)
    with pytest.raises(TriageError, match="loop"):
        do_mark_duplicate(actor=member, report=third, original=first)
    assert Report.objects.get(pk=third.pk).status == Status.NEW


# Open a case --------------------------------------------------------------------------------------------------
def test_open_case_records_the_decision_with_an_optional_note(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    do_open_case(actor=member, report=report)
    report.refresh_from_db()
    assert report.status == Status.CASE_OPENED
    decision = TriageDecision.objects.get(report=report)
    assert decision.kind == Kind.OPEN_CASE and decision.reason == ""
    # A case decision is final here: nothing moves it back.
    for act in (
        lambda: do_screen_out(actor=member, report=report, reason="No."),
        lambda: do_mark_duplicate(actor=member, report=report, original=submit(world.school)),
        lambda: do_open_case(actor=member, report=report, note="Again."),
        lambda: do_acknowledge(actor=member, report=report),
    ):
        with pytest.raises(TriageError):
            act()
    assert decisions(report) == [Kind.OPEN_CASE]


# Abuse ----------------------------------------------------------------------------------------------------------
def test_abuse_is_marked_and_unmarked_never_deleted(world: Any, member: Any, hooks: HookSpy) -> None:
    report = urgent(world.school)
    do_mark_abuse(actor=member, report=report, reason="Twenty copies from one prank account.")
    report.refresh_from_db()
    assert report.is_abuse and report.status == Status.NEW
    assert hooks.acknowledged == [(report.pk, member.pk)]  # no more alarms for a prank
    with pytest.raises(TriageError, match="already marked"):
        do_mark_abuse(actor=member, report=report, reason="Again.")

    do_unmark_abuse(actor=member, report=report, reason="It was real.")
    report.refresh_from_db()
    assert not report.is_abuse
    with pytest.raises(TriageError, match="not marked"):
        do_unmark_abuse(actor=member, report=report, reason="Again.")
    assert Report.objects.filter(pk=report.pk).exists()
    assert decisions(report) == audit_decisions(report) == [Kind.ABUSE, Kind.NOT_ABUSE]


def test_unmarking_abuse_escalates_an_urgent_report_nobody_acknowledged_again(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    report = urgent(world.school)
    do_mark_abuse(actor=member, report=report, reason="Looked like a prank.")
    assert hooks.escalated == []

    do_unmark_abuse(actor=member, report=report, reason="It was real after all.")

    assert hooks.escalated == [report.pk]


def test_unmarking_abuse_of_an_acknowledged_or_routine_report_starts_no_escalation(
    world: Any, member: Any, hooks: HookSpy
) -> None:
    acknowledged = urgent(world.school)
    do_acknowledge(actor=member, report=acknowledged)
    routine = submit(world.school)
    for report in (acknowledged, routine):
        do_mark_abuse(actor=member, report=report, reason="Looked like a prank.")
        do_unmark_abuse(actor=member, report=report, reason="It was real after all.")
    assert hooks.escalated == []


def test_an_urgent_report_marked_as_abuse_by_staff_escalates_once_unmarked(world: Any, member: Any) -> None:
    """Marked as abuse, an urgent report tells nobody; found to be real and unmarked, it must reach
    the rapid-response members like any urgent report. (A tripped honeypot never hides an urgent
    report in the first place: see test_intake_actions.py.)"""
    from btam.intake.models import YesNoUnknown
    from btam.notifications.models import Escalation

    report = submit(world.school, weapon=YesNoUnknown.YES)
    do_mark_abuse(actor=member, report=report, reason="Looks like a prank.")
    assert Report.objects.get(pk=report.pk).is_abuse and not Escalation.objects.exists()

    do_unmark_abuse(actor=member, report=report, reason="A real report after all.")

    running = Escalation.objects.get(target_type="intake.report", target_id=str(report.pk))
    assert running.state == Escalation.State.ACTIVE


def test_abuse_needs_a_reason(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    with pytest.raises(TriageError, match="Give a reason"):
        do_mark_abuse(actor=member, report=report, reason=" ")
    assert not Report.objects.get(pk=report.pk).is_abuse


# A whole surge group ------------------------------------------------------------------------------------------------
def test_acknowledge_group_acknowledges_the_new_reports_the_user_works_in_one_action(
    world: Any, hooks: HookSpy
) -> None:
    north = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    reports = [submit(world.school, names=("Rowan Testperson",)) for _ in range(3)]
    south = submit(world.other_school, names=("Rowan Testperson",))
    abuse = submit(world.school, names=("Rowan Testperson",))
    for r in [*reports, south, abuse]:
        surge.assign_group(r)
    do_mark_abuse(actor=north, report=abuse, reason="Prank.")
    do_acknowledge(actor=world.users[Role.TEAM_LEADER], report=reports[0])
    group = Report.objects.get(pk=reports[0].pk).surge_group
    assert group is not None and group.reports.count() == 5

    count = do_acknowledge_group(actor=north, group=group)

    assert count == 2
    assert set(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("status", flat=True)) == {
        Status.ACKNOWLEDGED
    }
    assert Report.objects.get(pk=south.pk).status == Status.NEW  # another school's team decides that one
    assert Report.objects.get(pk=abuse.pk).status == Status.NEW
    for r in reports[1:]:
        decision = TriageDecision.objects.get(report=r)
        assert decision.actor == north and decision.detail == {"surge_group": group.pk}
    assert {pk for pk, _ in hooks.acknowledged} >= {reports[1].pk, reports[2].pk}
    assert do_acknowledge_group(actor=north, group=group) == 0


# Races on PostgreSQL --------------------------------------------------------------------------------------------------
@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: needs two connections on one shared test database (run with DATABASE_URL=postgres://...)",
)
@pytest.mark.django_db(transaction=True)
def test_an_acknowledgement_waiting_on_a_referral_away_does_not_stop_the_new_schools_escalation(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from django.db import connections

    from btam.intake import triage_actions
    from btam.intake.access import get_report_for_user
    from btam.notifications import escalation
    from btam.notifications.models import Escalation

    north = make_member(Role.TEAM_MEMBER, world.district, [world.school])
    leader = make_member(Role.TEAM_LEADER, world.district, [world.school])
    report = urgent(world.school)
    escalation.start_for_report(report)
    fetched, referred = threading.Event(), threading.Event()
    outcome: list[str] = []
    errors: list[BaseException] = []
    hook = triage_actions._hook

    def hook_then_hold_the_lock(name: str, referred_report: Report) -> None:
        hook(name, referred_report)
        referred.set()
        threading.Event().wait(0.5)  # the acknowledgement now waits for this transaction's lock

    monkeypatch.setattr(triage_actions, "_hook", hook_then_hold_the_lock)

    def refer() -> None:
        try:
            assert fetched.wait(10)
            do_refer(actor=leader, report=Report.objects.get(pk=report.pk), school=world.other_school, reason="Theirs.")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def acknowledge() -> None:
        try:
            seen = get_report_for_user(north, report.pk)  # the view's fetch: still north's report
            fetched.set()
            assert referred.wait(10)
            try:
                do_acknowledge(actor=north, report=seen)
                outcome.append("acknowledged")
            except TriageError:
                outcome.append("refused")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refer), threading.Thread(target=acknowledge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert outcome == ["refused"]
    current = Report.objects.get(pk=report.pk)
    assert current.school == world.other_school and current.status == Status.NEW
    running = Escalation.objects.get(target_id=str(report.pk), state=Escalation.State.ACTIVE)
    assert running.acknowledged_by is None
