"""Management-plan actions: add, change, move and end an intervention, add a task to it; the owner's
notification, the audit trail (never the text), encryption at rest, and the bad inputs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.assessments import plan_actions
from btam.assessments.models import Intervention, InterventionKind
from btam.assessments.plan_actions import (
    do_add_intervention,
    do_add_intervention_task,
    do_set_intervention_status,
    do_update_intervention,
)
from btam.assessments.schedule import today
from btam.assessments.tests.plan_helpers import SECRET, intervention
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case, Task
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, raw_rows, school_member
from btam.lib import clock as clock_module
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

S = Intervention.Status


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def events(item: Intervention) -> Any:
    return AuditEvent.objects.filter(target_type="assessments.intervention", target_id=str(item.pk)).order_by("pk")


# Adding -----------------------------------------------------------------------------------------------
def test_adding_an_intervention_records_it_audits_it_and_tells_the_owner(case: Case, member: Any, leader: Any) -> None:
    item = do_add_intervention(
        actor=member,
        case=case,
        kind="law-enforcement-referral",
        owner=leader,
        details=SECRET,
        starts_on=in_days(0),
        ends_on=in_days(7),
    )
    item.refresh_from_db()
    assert (item.kind, item.status, item.owner, item.details) == ("law-enforcement-referral", S.PLANNED, leader, SECRET)
    assert (item.starts_on, item.ends_on, item.created_by) == (in_days(0), in_days(7), member)
    event = events(item).get()
    assert event.verb == Verb.CREATED and event.district_id == case.district_id
    assert event.after == {
        "kind": "law-enforcement-referral",
        "status": "planned",
        "owner": leader.pk,
        "starts_on": in_days(0).isoformat(),
        "ends_on": in_days(7).isoformat(),
    }
    assert event.detail["details_given"] is True and event.detail["case_number"] == case.number
    assert "Quinby" not in repr(event.detail) + repr(event.after)
    notice = Notification.objects.get(recipient=leader, kind=Notification.Kind.INTERVENTION_ASSIGNED)
    assert notice.title == f"An intervention on case {case.number} was assigned to you"
    assert notice.link == f"/cases/{case.pk}/plan/"
    assert Case.objects.get(pk=case.pk).updated_at == item.created_at


def test_the_details_and_the_outcome_are_encrypted_at_rest(case: Case, member: Any) -> None:
    item = intervention(case, member, details=SECRET)
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome=SECRET)
    assert "Quinby" not in raw_rows("assessments_intervention")
    assert "Quinby" not in raw_rows("audit_auditevent")


def test_an_owner_adding_for_themselves_gets_no_notification(case: Case, member: Any) -> None:
    intervention(case, member, owner=member)
    assert not Notification.objects.filter(kind=Notification.Kind.INTERVENTION_ASSIGNED).exists()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("", "Choose the intervention."),
        ("teleportation", "“teleportation” is not an intervention of this district"),
        ("restorative-circle", "“restorative-circle” is not an intervention of this district"),  # retired
        ("elsewhere-only", "“elsewhere-only” is not an intervention of this district"),  # another district's
    ],
)
def test_an_unknown_or_unavailable_kind_is_refused(
    world: Any, case: Case, member: Any, kind: str, message: str
) -> None:
    at = clock_module.now()
    InterventionKind.objects.create(
        district=world.district,
        code="restorative-circle",
        label="Circle",
        active=False,
        created_by=member,
        created_at=at,
    )
    InterventionKind.objects.create(
        district=world.other_district, code="elsewhere-only", label="X", created_by=world.outsider, created_at=at
    )
    with pytest.raises(CaseError, match=message):
        do_add_intervention(actor=member, case=case, kind=kind, owner=member)
    assert not Intervention.objects.exists()


def test_a_districts_active_own_kind_is_accepted(world: Any, case: Case, member: Any) -> None:
    InterventionKind.objects.create(
        district=world.district,
        code="weapons-counseling",
        label="Weapons",
        created_by=member,
        created_at=clock_module.now(),
    )
    assert intervention(case, member, "weapons-counseling").kind == "weapons-counseling"


@pytest.mark.parametrize("who", ["other_school", "other_district", "nobody"])
def test_an_owner_who_cannot_see_the_case_is_refused(world: Any, case: Case, member: Any, who: str) -> None:
    owner = {
        "other_school": school_member(world, world.other_school),
        "other_district": world.outsider,
        "nobody": None,
    }[who]
    message = (
        "Choose who is responsible" if owner is None else "The owner must be someone on the team working this case."
    )
    with pytest.raises(CaseError, match=message):
        do_add_intervention(actor=member, case=case, kind="wellness-check", owner=owner)
    assert not Intervention.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.INTERVENTION_ASSIGNED).exists()


def test_an_owner_must_be_named_on_a_restricted_case(world: Any, member: Any, leader: Any) -> None:
    case = open_case(world, actor=member, restricted=True)
    with pytest.raises(CaseError, match="on the team working this case"):
        do_add_intervention(actor=member, case=case, kind="wellness-check", owner=leader)


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        (5, 2, "The end or review date is before the start date."),
        (0, 365 * 6, "The end or review date is more than 5 years away: check the year."),
        (365 * 6, None, "The start date is more than 5 years away: check the year."),
    ],
)
def test_impossible_dates_are_refused(case: Case, member: Any, starts: int, ends: int | None, message: str) -> None:
    with pytest.raises(CaseError, match=message):
        intervention(case, member, starts_on=in_days(starts), ends_on=in_days(ends) if ends is not None else None)
    assert not Intervention.objects.exists()


def test_a_date_before_2000_is_a_typo(case: Case, member: Any) -> None:
    with pytest.raises(CaseError, match="before 2000-01-01: check the year"):
        intervention(case, member, starts_on=dt.date(1926, 3, 1))


def test_a_megabyte_of_details_is_refused_with_the_limit(case: Case, member: Any) -> None:
    with pytest.raises(
        CaseError, match=r"The details field is too long: at most 10000 characters \(it has 1048576\)\."
    ):
        intervention(case, member, details="x" * 1_048_576)
    assert not Intervention.objects.exists()


def test_a_null_character_is_refused(case: Case, member: Any) -> None:
    with pytest.raises(CaseError, match="cannot be stored"):
        intervention(case, member, details="call\x00home")


def test_a_closed_case_refuses_every_change(world: Any, case: Case, member: Any) -> None:
    item = intervention(case, member)
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed. Reopen it to change it."):
        intervention(case, member)
    with pytest.raises(CaseError, match="closed"):
        do_set_intervention_status(actor=member, intervention=item, status=S.ACTIVE)
    with pytest.raises(CaseError, match="closed"):
        do_update_intervention(
            actor=member, intervention=item, kind=item.kind, owner=member, details="x", starts_on=None, ends_on=None
        )
    with pytest.raises(CaseError, match="closed"):
        do_add_intervention_task(actor=member, intervention=item, title="Call")
    assert Intervention.objects.count() == 1 and not Task.objects.exists()


def test_a_read_only_school_cannot_change_the_plan(world: Any, case: Case, member: Any) -> None:
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        do_add_intervention(actor=reader, case=case, kind="wellness-check", owner=member)
    assert not Intervention.objects.exists()


# Changing -----------------------------------------------------------------------------------------------
def test_changing_an_intervention_audits_the_fields_and_tells_a_new_owner(case: Case, member: Any, leader: Any) -> None:
    item = intervention(case, member, details="Weekly")
    do_update_intervention(
        actor=member,
        intervention=item,
        kind="supervision-check-in",
        owner=leader,
        details="Daily, at arrival",
        starts_on=in_days(1),
        ends_on=in_days(30),
    )
    item.refresh_from_db()
    assert (item.kind, item.owner, item.details, item.ends_on) == (
        "supervision-check-in",
        leader,
        "Daily, at arrival",
        in_days(30),
    )
    event = events(item).last()
    assert event.before["kind"] == "wellness-check" and event.after["kind"] == "supervision-check-in"
    assert event.before["owner"] == member.pk and event.after["owner"] == leader.pk
    assert event.detail["details_changed"] is True and "Daily" not in repr(event.detail)
    assert Notification.objects.filter(recipient=leader, kind=Notification.Kind.INTERVENTION_ASSIGNED).count() == 1


def test_saving_without_a_change_writes_nothing(case: Case, member: Any) -> None:
    item = intervention(case, member, details="Weekly")
    do_update_intervention(
        actor=member, intervention=item, kind=item.kind, owner=member, details="Weekly", starts_on=None, ends_on=None
    )
    assert events(item).count() == 1


def test_an_intervention_keeps_a_kind_its_district_retired(world: Any, case: Case, member: Any) -> None:
    kind = InterventionKind.objects.create(
        district=world.district,
        code="restorative-circle",
        label="Circle",
        created_by=member,
        created_at=clock_module.now(),
    )
    item = intervention(case, member, "restorative-circle")
    InterventionKind.objects.filter(pk=kind.pk).update(active=False)
    do_update_intervention(
        actor=member,
        intervention=item,
        kind="restorative-circle",
        owner=member,
        details="Now weekly",
        starts_on=None,
        ends_on=None,
    )
    item.refresh_from_db()
    assert item.kind == "restorative-circle" and item.details == "Now weekly"


def test_an_owner_who_lost_access_may_stay_but_not_be_newly_chosen(world: Any, case: Case, member: Any) -> None:
    departing = school_member(world, world.school)
    item = intervention(case, member, owner=departing)
    departing.memberships.update(is_active=False)
    do_update_intervention(
        actor=member,
        intervention=item,
        kind=item.kind,
        owner=departing,
        details="Same owner",
        starts_on=None,
        ends_on=None,
    )
    other = intervention(case, member)
    with pytest.raises(CaseError, match="on the team working this case"):
        do_update_intervention(
            actor=member, intervention=other, kind=other.kind, owner=departing, details="", starts_on=None, ends_on=None
        )


def test_an_ended_interventions_outcome_can_be_corrected_but_not_emptied(case: Case, member: Any) -> None:
    item = intervention(case, member)
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome="Checked in twice.")
    with pytest.raises(CaseError, match="The outcome is required."):
        do_update_intervention(
            actor=member,
            intervention=item,
            kind=item.kind,
            owner=member,
            details="",
            starts_on=None,
            ends_on=None,
            outcome="",
        )
    do_update_intervention(
        actor=member,
        intervention=item,
        kind=item.kind,
        owner=member,
        details="",
        starts_on=item.starts_on,
        ends_on=item.ends_on,
        outcome="Checked in three times.",
    )
    item.refresh_from_db()
    assert item.outcome == "Checked in three times."
    assert events(item).last().detail["outcome_changed"] is True


# Status moves -----------------------------------------------------------------------------------------------
def test_putting_in_place_dates_the_start_and_completing_dates_the_end(case: Case, member: Any) -> None:
    item = intervention(case, member)
    do_set_intervention_status(actor=member, intervention=item, status=S.ACTIVE)
    item.refresh_from_db()
    assert item.status == S.ACTIVE and item.starts_on == today() and item.ends_on is None
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome="Done: no new concern.")
    item.refresh_from_db()
    assert (item.status, item.outcome, item.ends_on) == (S.COMPLETED, "Done: no new concern.", today())
    event = events(item).last()
    assert event.before["status"] == "active" and event.after["status"] == "completed"
    assert event.detail["outcome_given"] is True and "no new concern" not in repr(event.detail)


def test_a_given_end_date_is_kept_when_completing(case: Case, member: Any) -> None:
    item = intervention(case, member, starts_on=in_days(-10), ends_on=in_days(-2))
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome="Finished.")
    item.refresh_from_db()
    assert item.ends_on == in_days(-2)


@pytest.mark.parametrize("status", [S.COMPLETED, S.STOPPED])
def test_completing_or_stopping_needs_an_outcome(case: Case, member: Any, status: str) -> None:
    item = intervention(case, member)
    for blank in ("", "   \n "):
        with pytest.raises(CaseError, match="The outcome is required."):
            do_set_intervention_status(actor=member, intervention=item, status=status, outcome=blank)
    item.refresh_from_db()
    assert item.status == S.PLANNED and events(item).count() == 1


def test_an_ended_intervention_can_be_put_back_in_place(case: Case, member: Any) -> None:
    item = intervention(case, member)
    do_set_intervention_status(actor=member, intervention=item, status=S.STOPPED, outcome="Student moved classes.")
    do_set_intervention_status(actor=member, intervention=item, status=S.ACTIVE)
    item.refresh_from_db()
    assert item.status == S.ACTIVE and item.outcome == "Student moved classes."


@pytest.mark.parametrize(
    ("path", "to", "message"),
    [
        ([], S.PLANNED, "already planned"),
        ([S.ACTIVE], S.PLANNED, "An intervention that is in place cannot become planned."),
        ([], "archived", "Unknown intervention status."),
    ],
)
def test_impossible_moves_are_refused(case: Case, member: Any, path: list[str], to: str, message: str) -> None:
    item = intervention(case, member)
    for status in path:
        item = do_set_intervention_status(actor=member, intervention=item, status=status)
    with pytest.raises(CaseError, match=message):
        do_set_intervention_status(actor=member, intervention=item, status=to)


def test_an_intervention_of_another_case_is_refused(world: Any, case: Case, member: Any) -> None:
    item = intervention(case, member)
    other = open_case(world, actor=member)
    item.case_id = other.pk  # a stale object pointing elsewhere
    with pytest.raises(CaseError, match="no longer on this case"):
        do_set_intervention_status(actor=member, intervention=item, status=S.ACTIVE)


# Tasks -----------------------------------------------------------------------------------------------
def test_a_task_of_an_intervention_is_a_case_task_linked_to_it(case: Case, member: Any, leader: Any) -> None:
    item = intervention(case, member)
    task = do_add_intervention_task(
        actor=member, intervention=item, title="Phone the SRO", assignee=leader, due_on=in_days(2)
    )
    assert task.case_id == case.pk and task.assignee == leader and list(item.tasks.all()) == [task]
    assert Case.objects.get(pk=case.pk).next_due_on == in_days(2)
    assert Notification.objects.filter(recipient=leader, kind=Notification.Kind.TASK_ASSIGNED).count() == 1
    linked = events(item).last()
    assert linked.detail["task_linked"] == task.pk
    assert AuditEvent.objects.filter(target_type="cases.task", target_id=str(task.pk), verb=Verb.CREATED).exists()


@pytest.mark.parametrize(
    ("title", "due", "message"),
    [("", None, "The task is required."), ("Call", -1, "The due date has passed")],
)
def test_a_bad_task_adds_nothing(case: Case, member: Any, title: str, due: int | None, message: str) -> None:
    item = intervention(case, member)
    with pytest.raises(CaseError, match=message):
        do_add_intervention_task(
            actor=member, intervention=item, title=title, due_on=in_days(due) if due is not None else None
        )
    assert not Task.objects.exists() and not item.tasks.exists()


def test_a_task_for_someone_off_the_case_is_refused_and_nothing_is_linked(world: Any, case: Case, member: Any) -> None:
    item = intervention(case, member)
    with pytest.raises(CaseError, match="only to someone on the team"):
        do_add_intervention_task(actor=member, intervention=item, title="Call", assignee=world.outsider)
    assert not Task.objects.exists() and events(item).count() == 1


def test_an_ended_intervention_takes_no_new_task(case: Case, member: Any) -> None:
    item = intervention(case, member)
    do_set_intervention_status(actor=member, intervention=item, status=S.COMPLETED, outcome="Done.")
    with pytest.raises(CaseError, match="This intervention is completed: put it back in place to add a task."):
        do_add_intervention_task(actor=member, intervention=item, title="Follow up")
    assert not Task.objects.exists()


def test_the_transition_table_lists_the_moves_in_status_order() -> None:
    planned = Intervention(status=S.PLANNED)
    assert plan_actions.next_statuses(planned) == [S.ACTIVE, S.COMPLETED, S.STOPPED]
    assert plan_actions.next_statuses(Intervention(status=S.COMPLETED)) == [S.ACTIVE]
