"""Check-ins and the reassessment date set by hand: what is stored (encrypted), audited (never the
text), refused (with a clear message, nothing written) and who may do it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.assessments import schedule
from btam.assessments.models import CheckIn, ReassessmentSchedule
from btam.assessments.monitoring_actions import (
    MAX_CHECK_IN_CHARS,
    do_add_check_in,
    do_set_reassessment_date,
)
from btam.assessments.tests.monitoring_helpers import add_intervention, at, set_level
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import SECRET, close, give_read_access, open_case, raw_rows, school_member
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
TODAY = D("2026-03-10")


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any, clock: Any) -> Case:
    clock.freeze(at("2026-03-10", 9))
    return open_case(world, actor=member)


def check_in(case: Case, actor: Any, **changes: Any) -> CheckIn:
    values: dict[str, Any] = {"occurred_on": TODAY, "method": CheckIn.Method.IN_PERSON, "summary": SECRET}
    values.update(changes)
    return do_add_check_in(actor=actor, case=case, **values)


def events(verb: str, target_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb, target_type=target_type))


# Check-ins ----------------------------------------------------------------------------------------
def test_a_check_in_is_stored_encrypted_and_audited_without_its_text(case: Case, member: Any) -> None:
    intervention = add_intervention(case, member)
    item = check_in(case, member, concern=True, intervention=intervention, method=CheckIn.Method.PARENT)
    item.refresh_from_db()
    assert (item.summary, item.concern, item.intervention, item.author) == (SECRET, True, intervention, member)
    assert SECRET not in raw_rows("assessments_checkin")
    [event] = events(Verb.CREATED, "assessments.checkin")
    assert event.detail == {"case": case.pk, "case_number": case.number, "check_in": item.pk, "concern": True}
    assert event.after == {
        "occurred_on": "2026-03-10",
        "method": "parent",
        "concern": True,
        "intervention": intervention.pk,
    }
    assert SECRET not in repr(AuditEvent.objects.values_list())
    assert Case.objects.get(pk=case.pk).updated_at == item.created_at


def test_a_new_concern_notifies_nobody(case: Case, member: Any) -> None:
    before = Notification.objects.count()
    check_in(case, member, concern=True)
    assert Notification.objects.count() == before


def test_a_check_in_of_yesterday_is_fine_and_tomorrow_is_refused(case: Case, member: Any) -> None:
    check_in(case, member, occurred_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(CaseError, match="cannot be in the future"):
        check_in(case, member, occurred_on=TODAY + dt.timedelta(days=1))
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"summary": "   "}, "The summary is required."),
        ({"summary": "x" * 1_000_000}, f"at most {MAX_CHECK_IN_CHARS} characters"),
        ({"summary": "bad\x00byte"}, "cannot be stored"),
        ({"method": "telepathy"}, "Choose how the check-in happened."),
        ({"occurred_on": None}, "Enter the date of the check-in."),
        ({"occurred_on": D("1989-12-31")}, "cannot be before 1990-01-01"),
    ],
)
def test_bad_check_ins_are_refused_and_nothing_is_written(
    case: Case, member: Any, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(CaseError, match=message):
        check_in(case, member, **changes)
    assert not CheckIn.objects.exists()
    assert not events(Verb.CREATED, "assessments.checkin")


def test_an_intervention_of_another_case_is_refused(world: Any, case: Case, member: Any) -> None:
    other = open_case(world, actor=member)
    foreign = add_intervention(other, member)
    with pytest.raises(CaseError, match="Choose one of this case's interventions"):
        check_in(case, member, intervention=foreign)
    assert not CheckIn.objects.exists()


def test_a_closed_case_takes_no_check_in(world: Any, case: Case, member: Any) -> None:
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        check_in(case, member)
    assert not CheckIn.objects.exists()


def test_a_read_only_school_or_a_stranger_cannot_add_one(world: Any, case: Case, member: Any) -> None:
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    for actor in (reader, world.outsider):
        with pytest.raises(CaseError, match="can no longer change this case"):
            check_in(case, actor)
    assert not CheckIn.objects.exists()


# The date set by hand ----------------------------------------------------------------------------
def test_moving_the_date_keeps_the_reason_encrypted_and_audits_without_it(case: Case, member: Any) -> None:
    set_level(case, member, "moderate")  # due 04-09
    ReassessmentSchedule.objects.filter(case=case).update(reminded_on=TODAY)
    reason = "Spring break: the counselor meets the family when school resumes."
    found = do_set_reassessment_date(actor=member, case=case, due_on=D("2026-03-24"), reason=reason)
    found.refresh_from_db()
    assert (found.due_on, found.reason, found.set_by, found.reminded_on) == (D("2026-03-24"), reason, member, None)
    assert found.interval_days == 30  # the level's interval stays for the record
    assert Case.objects.get(pk=case.pk).reassess_due_on == D("2026-03-24")
    assert reason not in raw_rows("assessments_reassessmentschedule")
    [event] = events(Verb.UPDATED, "assessments.reassessmentschedule")
    assert event.before == {"due_on": "2026-04-09", "interval_days": 30, "by_hand": False}
    assert event.after == {"due_on": "2026-03-24", "interval_days": 30, "by_hand": True}
    assert event.detail["reason_given"] is True and reason not in repr(event.detail) and not event.reason


def test_today_is_a_valid_date_and_a_case_without_a_level_gets_a_schedule(case: Case, member: Any) -> None:
    found = do_set_reassessment_date(actor=member, case=case, due_on=TODAY, reason="Check on Monday's incident.")
    assert (found.due_on, found.interval_days) == (TODAY, 0)
    assert schedule.due_in_words(found.due_on) == "Due today"


@pytest.mark.parametrize(
    ("due", "reason", "message"),
    [
        (TODAY - dt.timedelta(days=1), "A reason.", "has passed"),
        (None, "A reason.", "Enter the date of the next reassessment."),
        (TODAY + dt.timedelta(days=800), "A reason.", "more than two years away"),
        (TODAY + dt.timedelta(days=3), "", "The reason is required."),
        (TODAY + dt.timedelta(days=3), "   ", "The reason is required."),
        (TODAY + dt.timedelta(days=3), "r" * 5001, "at most 5000 characters"),
    ],
)
def test_bad_dates_and_missing_reasons_are_refused(
    case: Case, member: Any, due: Any, reason: str, message: str
) -> None:
    set_level(case, member, "high")
    with pytest.raises(CaseError, match=message):
        do_set_reassessment_date(actor=member, case=case, due_on=due, reason=reason)
    found = ReassessmentSchedule.objects.get(case=case)
    assert (found.due_on, found.reason) == (D("2026-03-17"), "")
    assert not events(Verb.UPDATED, "assessments.reassessmentschedule")


def test_the_same_date_again_changes_nothing(case: Case, member: Any) -> None:
    set_level(case, member, "high")
    with pytest.raises(CaseError, match="already due on 2026-03-17"):
        do_set_reassessment_date(actor=member, case=case, due_on=D("2026-03-17"), reason="Same.")


def test_a_closed_case_or_a_read_only_school_cannot_move_the_date(world: Any, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    with pytest.raises(CaseError, match="can no longer change this case"):
        do_set_reassessment_date(actor=reader, case=case, due_on=D("2026-03-20"), reason="A reason.")
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        do_set_reassessment_date(actor=member, case=case, due_on=D("2026-03-20"), reason="A reason.")
    assert ReassessmentSchedule.objects.get(case=case).due_on == D("2026-03-17")
