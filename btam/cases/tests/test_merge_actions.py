"""Merging two cases and undoing the merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.audit.models import AuditEvent
from btam.cases import actions, link_actions
from btam.cases.actions import CaseError
from btam.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    CaseMerge,
    CaseParticipant,
    CaseReport,
    CaseSchool,
    CaseSearchDoc,
    ClosureReason,
    Document,
    Note,
    Status,
    StatusChange,
    Task,
)
from btam.cases.participant_actions import do_add_participant
from btam.cases.search import token
from btam.cases.tests.people_links_helpers import SECRET_NAME, close, open_case, report, school_member
from btam.lib import clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


def _note(case: Case, author: Any, body: str) -> Note:
    at = clock.now()
    return Note.objects.create(
        case=case, kind="interview", occurred_on=at.date(), body=body, author=author, created_at=at
    )


def _task(case: Case, author: Any, due: dt.date | None, status: str = "open") -> Task:
    return Task.objects.create(
        case=case, title="Call the parent", due_on=due, status=status, created_at=clock.now(), created_by=author
    )


def _document(case: Case, author: Any) -> Document:
    return Document.objects.create(case=case, title="Statement", created_at=clock.now(), created_by=author)


@pytest.fixture
def pair(world: Any, member: Any) -> tuple[Case, Case]:
    """A source with a report, a person, a note, a task, a document and a related case; a target
    with its own report and task."""
    source = open_case(world, actor=member, reports=(report(world, names=(SECRET_NAME,)),), title="Source case")
    target = open_case(world, actor=member, reports=(report(world),), title="Target case")
    do_add_participant(actor=member, case=source, role="witness", name="Ann")
    _note(source, member, "The wombat incident in the gym")
    _task(source, member, dt.date(2030, 1, 10))
    _task(target, member, dt.date(2030, 3, 1))
    _document(source, member)
    third = open_case(world, actor=member, title="Third case")
    link_actions.do_link_cases(actor=member, case=source, other=third)
    return source, target


def _ids(model: Any, case: Case) -> set[int]:
    return set(model.objects.filter(case=case).values_list("pk", flat=True))


def test_a_merge_moves_everything_and_leaves_the_source_a_closed_record(member: Any, pair: tuple[Case, Case]) -> None:
    source, target = pair
    before = {m: _ids(m, source) for m in (CaseReport, CaseParticipant, Note, Task, Document)}
    history = list(StatusChange.objects.filter(case=source).values_list("pk", flat=True))
    merge = link_actions.do_merge_cases(
        actor=member, source=source, target=target, reason="Same incident, two reports."
    )
    for model, ids in before.items():
        assert ids and ids <= _ids(model, target), model
        assert not _ids(model, source), model
    assert merge.moved["reports"] == sorted(before[CaseReport])
    assert len(merge.moved["links"]) == 1
    source.refresh_from_db()
    assert source.merged_into_id == target.pk and source.status == Status.CLOSED
    assert source.closure_reason == ClosureReason.MERGED and source.closed_from == Status.SCREENING
    # The source's status history stays with it (one more row: the merge's closure).
    assert set(history) < set(StatusChange.objects.filter(case=source).values_list("pk", flat=True))
    assert merge.source_before["status"] == Status.SCREENING
    # Search words and the next due date follow the rows.
    assert token("wombat") in CaseSearchDoc.objects.get(case=target).tokens
    assert token("wombat") not in CaseSearchDoc.objects.get(case=source).tokens
    target.refresh_from_db()
    assert target.next_due_on == dt.date(2030, 1, 10) and source.next_due_on is None


def test_a_merge_is_audited_on_both_cases_without_free_text(member: Any, pair: tuple[Case, Case]) -> None:
    source, target = pair
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target, reason=f"{SECRET_NAME} is in both")
    on_source = AuditEvent.objects.get(target_id=str(source.pk), detail__merged_into=target.pk)
    on_target = AuditEvent.objects.get(target_id=str(target.pk), detail__merged_from=source.pk)
    assert on_source.detail["merge"] == on_target.detail["merge"] == merge.pk
    assert on_target.detail["moved"]["reports"] == 1
    assert SECRET_NAME not in repr(list(AuditEvent.objects.values()))
    assert SECRET_NAME not in repr(list(CaseMerge.objects.values("moved", "source_before")))


def test_the_source_schools_team_keeps_working_the_merged_case(world: Any, member: Any) -> None:
    north = open_case(world, actor=member)
    south = open_case(world, actor=member, school=world.other_school)
    link_actions.do_merge_cases(actor=member, source=south, target=north)
    south_member = school_member(world, world.other_school)
    assert Case.objects.writable_by(south_member).filter(pk=north.pk).exists()


@pytest.mark.parametrize("problem", ["itself", "closed target", "merged target", "closed source"])
def test_a_merge_that_makes_no_sense_is_refused_and_moves_nothing(
    world: Any, member: Any, pair: tuple[Case, Case], problem: str
) -> None:
    source, target = pair
    if problem == "itself":
        target = source
    elif problem == "closed target":
        close(target, world)
    elif problem == "merged target":
        link_actions.do_merge_cases(actor=member, source=target, target=open_case(world, actor=member))
    else:
        close(source, world)
    moved_before = _ids(Note, source)
    with pytest.raises(CaseError):
        link_actions.do_merge_cases(actor=member, source=source, target=target)
    assert _ids(Note, source) == moved_before
    source.refresh_from_db()
    assert source.merged_into_id is None


def test_a_case_the_actor_cannot_work_is_refused_and_nothing_moves(world: Any, member: Any) -> None:
    north = open_case(world, actor=member)
    south = open_case(world, actor=member, school=world.other_school)
    _note(north, member, "North note")
    north_member = school_member(world, world.school)
    with pytest.raises(CaseError, match="no longer change"):
        link_actions.do_merge_cases(actor=north_member, source=north, target=south)
    assert Note.objects.get().case_id == north.pk


def test_cases_of_two_districts_are_never_merged(world: Any, member: Any) -> None:
    from btam.orgs.models import School

    ours = open_case(world, actor=member)
    theirs = open_case(world, actor=world.outsider, school=School.objects.get(district=world.other_district))
    with pytest.raises(CaseError):
        link_actions.do_merge_cases(actor=member, source=ours, target=theirs)
    assert link_actions.merge_blocker(ours, theirs) == "Only cases of the same district can be merged."


def test_a_restricted_case_is_not_merged_into_an_open_one(world: Any, member: Any) -> None:
    secret = open_case(world, actor=member, restricted=True)
    public = open_case(world, actor=member)
    with pytest.raises(CaseError, match="restricted"):
        link_actions.do_merge_cases(actor=member, source=secret, target=public)
    other_secret = open_case(world, actor=member, restricted=True)
    leader = world.users[Role.TEAM_LEADER]
    CaseMember.objects.create(case=secret, user=leader, added_at=clock.now(), added_by=member)
    link_actions.do_merge_cases(actor=member, source=secret, target=other_secret)
    assert CaseMember.objects.filter(case=other_secret, user=leader).exists()


def test_undo_moves_exactly_the_moved_rows_back_and_restores_the_source(member: Any, pair: tuple[Case, Case]) -> None:
    source, target = pair
    own = {m: _ids(m, target) for m in (CaseReport, CaseParticipant, Note, Task, Document)}
    before = {m: _ids(m, source) for m in (CaseReport, CaseParticipant, Note, Task, Document)}
    links_before = list(CaseLink.objects.values_list("pk", "from_case_id", "to_case_id"))
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    added_after = _note(target, member, "Written on the survivor after the merge")
    link_actions.do_undo_merge(actor=member, merge=merge, reason="They were two incidents after all.")
    for model in before:
        assert _ids(model, source) == before[model], model
    assert _ids(Note, target) == own[Note] | {added_after.pk}
    assert _ids(Task, target) == own[Task]
    assert list(CaseLink.objects.values_list("pk", "from_case_id", "to_case_id")) == links_before
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into_id is None and source.status == Status.SCREENING
    assert source.closure_reason == "" and source.closed_at is None and source.closed_from == ""
    assert source.next_due_on == dt.date(2030, 1, 10) and target.next_due_on == dt.date(2030, 3, 1)
    assert token("wombat") in CaseSearchDoc.objects.get(case=source).tokens
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == member
    # The source works again.
    do_add_participant(actor=member, case=source, role="witness", name="Bob")


def test_undo_withdraws_the_access_the_merge_granted(world: Any, member: Any) -> None:
    north = open_case(world, actor=member)
    south = open_case(world, actor=member, school=world.other_school)
    merge = link_actions.do_merge_cases(actor=member, source=south, target=north)
    link_actions.do_undo_merge(actor=member, merge=merge)
    assert not CaseSchool.objects.filter(case=north, school=world.other_school).exists()
    assert not Case.objects.visible_to(school_member(world, world.other_school)).filter(pk=north.pk).exists()


def test_undoing_twice_is_refused(member: Any, pair: tuple[Case, Case]) -> None:
    source, target = pair
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    link_actions.do_undo_merge(actor=member, merge=merge)
    with pytest.raises(CaseError, match="already undone"):
        link_actions.do_undo_merge(actor=member, merge=merge)
    assert AuditEvent.objects.filter(detail__merge_undone=merge.pk).count() == 2  # one per case, once


def test_a_pending_closure_request_comes_back_with_the_undo(world: Any, member: Any, pair: tuple[Case, Case]) -> None:
    source, target = pair
    actions.do_request_closure(actor=member, case=source, reason="no_threat", note="Nothing to manage.")
    source.refresh_from_db()
    requested_at = source.closure_requested_at
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    link_actions.do_undo_merge(actor=member, merge=merge)
    source.refresh_from_db()
    assert source.closure_pending and source.closure_requested_at == requested_at
    assert source.closure_reason == "no_threat" and source.closure_requested_by == member


def test_undo_is_refused_when_the_surviving_case_was_closed_since(
    world: Any, member: Any, pair: tuple[Case, Case]
) -> None:
    source, target = pair
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    close(target, world)
    with pytest.raises(CaseError, match="closed"):
        link_actions.do_undo_merge(actor=member, merge=merge)
    source.refresh_from_db()
    assert source.merged_into_id == target.pk


def test_a_report_split_off_the_survivor_since_stays_where_it_is(
    world: Any, member: Any, pair: tuple[Case, Case]
) -> None:
    source, target = pair
    moved_report = CaseReport.objects.get(case=source).report
    merge = link_actions.do_merge_cases(actor=member, source=source, target=target)
    third = link_actions.do_split_report(actor=member, case=target, report=moved_report)
    link_actions.do_undo_merge(actor=member, merge=merge)
    assert CaseReport.objects.get(report=moved_report).case_id == third.pk
