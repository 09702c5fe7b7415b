"""The timeline is derived from the rows that record what happened: every kind appears, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role
from btam.assessments.models import Assessment, CheckIn, DeclinedDecision, Dissent, Intervention
from btam.cases import actions, document_actions, reporter_actions, timeline
from btam.cases.models import (
    BreakGlassGrant,
    Case,
    CaseLink,
    CaseMerge,
    CaseSchool,
    Note,
    Task,
)
from btam.cases.tests.documents_timeline_helpers import PDF_BYTES, open_case, report_with_thread, team_member, upload
from btam.discussion.models import Comment
from btam.intake.actions import do_post_reporter_message
from btam.lib import clock
from btam.meetings.models import Meeting, MeetingChange

pytestmark = pytest.mark.django_db

LONG_NOTE = "Interviewed the student with the counselor present. " * 20


def note(case: Case, user: Any, body: str = "Spoke with the teacher.", **kwargs: Any) -> Note:
    return Note.objects.create(
        case=case,
        kind=Note.Kind.INTERVIEW,
        occurred_on=dt.date(2026, 3, 2),
        body=body,
        author=user,
        created_at=clock.now(),
        **kwargs,
    )


def full_story(world: Any) -> tuple[Case, Case]:
    """A case with one row of every kind the timeline shows (and another case it links to)."""
    user = team_member(world)
    leader = world.users[Role.TEAM_LEADER.value]
    report = report_with_thread(world.school, names=("Sam Example",))
    case = open_case(world, reports=(report,))
    other = open_case(world)
    actions.do_record_screening(actor=user, case=case, decision="evaluate", rationale="Needs a closer look.")
    actions.do_transition(actor=user, case=case, to_status="evaluation")
    actions.do_set_risk_level(actor=user, case=case, level="moderate", rationale="Continuing intent, no plan.")
    first = note(case, user, body=LONG_NOTE)
    note(case, user, body="The date was 3 March, not 2 March.", corrects=first)
    Note.objects.filter(pk=first.pk).update(edited_at=clock.now())
    Comment.objects.create(
        case=case, district_id=case.district_id, author=user, body="Who calls the parents?", created_at=clock.now()
    )
    _meeting_rows(case, user)
    task = Task.objects.create(
        case=case,
        title="Call the parents",
        assignee=user,
        due_on=dt.date(2026, 3, 9),
        created_at=clock.now(),
        created_by=user,
    )
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, completed_at=clock.now(), completed_by=user)
    document = document_actions.do_upload_document(actor=user, case=case, title="Safety plan", upload=upload(PDF_BYTES))
    document_actions.do_add_document_version(actor=user, case=case, document=document, upload=upload(b"v2\n", "v2.txt"))
    reporter_actions.do_message_reporter(actor=user, case=case, report=report, body="Was anyone else there?")
    do_post_reporter_message(report=report, body="Yes, two friends.")
    CaseLink.objects.create(from_case=case, to_case=other, note="Same group", created_at=clock.now(), created_by=user)
    CaseMerge.objects.create(
        source=other, target=case, created_at=clock.now(), created_by=user, undone_at=clock.now(), undone_by=user
    )
    CaseSchool.objects.create(
        case=case,
        school=world.other_school,
        added_at=clock.now(),
        added_by=user,
        removed_at=clock.now(),
        removed_by=user,
    )
    participant = case.participants.first()
    assert participant is not None
    type(participant).objects.filter(pk=participant.pk).update(removed_at=clock.now())
    BreakGlassGrant.objects.create(
        case=case,
        user=world.users[Role.DATABASE_MANAGER.value],
        reason="Parent called the district office at night.",
        created_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(hours=24),
    )
    _assessment_rows(case, user, leader)
    actions.do_request_closure(actor=leader, case=case, reason="resolved", note="Plan completed.")
    actions.do_reopen_case(actor=leader, case=case, reason="New report came in.")
    case.refresh_from_db()
    return case, other


def _meeting_rows(case: Case, user: Any) -> None:
    """A conference moved once, then held; another one cancelled."""
    at = clock.now()
    starts = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    held = Meeting.objects.create(
        case=case,
        district_id=case.district_id,
        state=Meeting.State.HELD,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        agenda="Plan review.",
        minutes="Agreed on weekly check-ins.",
        created_at=at,
        created_by=user,
        recorded_at=at,
        recorded_by=user,
        updated_at=at,
    )
    MeetingChange.objects.create(
        meeting=held,
        kind=MeetingChange.Kind.RESCHEDULED,
        from_starts_at=starts - dt.timedelta(days=1),
        to_starts_at=starts,
        reason="The counselor was out.",
        actor=user,
        created_at=at,
    )
    cancelled = Meeting.objects.create(
        case=case,
        district_id=case.district_id,
        state=Meeting.State.CANCELLED,
        starts_at=starts + dt.timedelta(days=7),
        ends_at=starts + dt.timedelta(days=7, hours=1),
        agenda="Follow-up.",
        created_at=at,
        created_by=user,
        updated_at=at,
    )
    MeetingChange.objects.create(
        meeting=cancelled,
        kind=MeetingChange.Kind.CANCELLED,
        from_starts_at=cancelled.starts_at,
        reason="Not needed any more.",
        actor=user,
        created_at=at,
    )


def _assessment_rows(case: Case, user: Any, leader: Any) -> None:
    """An assessment decided, declined once, then approved; a dissent; an intervention; a check-in
    (all before the closing and reopening that follow)."""
    at = clock.now() - dt.timedelta(minutes=10)
    assessment = Assessment.objects.create(
        case=case,
        district_id=case.district_id,
        instrument_id="cstag-decision-tree",
        instrument_version=1,
        instrument_kind="decision_tree",
        status=Assessment.Status.DECIDED,
        started_by=user,
        started_at=at,
        updated_at=at,
        scheme_id="virginia",
        scheme_version=1,
        level="high",
        level_rank=2,
        rationale="Continuing intent and a search for a weapon.",
        override_reason="The tree stops short of the weapon search.",
        decided_by=user,
        decided_at=at + dt.timedelta(minutes=1),
        declined_by=leader,
        declined_at=at + dt.timedelta(minutes=2),
        decline_reason="Interview the friend first.",
        approved_by=leader,
        approved_at=at + dt.timedelta(minutes=3),
    )
    DeclinedDecision.objects.create(
        assessment=assessment,
        scheme_id="virginia",
        scheme_version=1,
        level="high",
        level_rank=2,
        rationale="Continuing intent and a search for a weapon.",
        decided_by=user,
        decided_at=at + dt.timedelta(minutes=1),
        declined_by=leader,
        declined_at=at + dt.timedelta(minutes=2),
        reason="Interview the friend first.",
    )
    Dissent.objects.create(assessment=assessment, author=leader, text="I would say moderate.", created_at=at)
    Intervention.objects.create(
        case=case, kind="safety-plan", created_by=user, created_at=at, updated_at=at, owner=user
    )
    CheckIn.objects.create(
        case=case,
        occurred_on=at.date(),
        method=CheckIn.Method.IN_PERSON,
        summary="Met with the student before class.",
        concern=True,
        author=user,
        created_at=at,
    )


def test_every_kind_of_event_appears_on_the_timeline_newest_first(world: Any) -> None:
    case, other = full_story(world)

    page, entries = timeline.page_of(case, kinds=[], page_number=1)

    subs = {e.sub for e in entries}
    assert subs == set(timeline.SOURCES), set(timeline.SOURCES) - subs
    times = [e.at for e in entries]
    assert times == sorted(times, reverse=True)
    what = {e.sub: e for e in entries}
    assert what["opened"].what == "Case opened at North Test High"
    assert what["screening"].what == "Screening decision: Needs a detailed evaluation"
    assert what["risk"].what == "Risk level recorded: Moderate"
    assert what["report"].what.startswith("Report R-") and what["report"].who == "The reporter"
    assert what["note"].what == "Interview note (dated 2026-03-02)"
    assert len(what["note"].excerpt) <= timeline.EXCERPT_CHARS and what["note"].excerpt.endswith("…")
    assert what["note"].link.endswith(f"#note-{case.notes.order_by('pk').first().pk}")  # type: ignore[union-attr]
    assert what["correction"].what == "Correction to the interview note of 2026-03-02"
    assert what["comment"].what == "Comment in the discussion"
    assert what["comment"].excerpt == "Who calls the parents?" and "/discussion/#comment-" in what["comment"].link
    assert what["meeting_scheduled"].what.startswith("Case conference scheduled for ")
    assert what["meeting_held"].what == "Case conference held: minutes and decisions recorded"
    assert what["meeting_held"].excerpt == "Agreed on weekly check-ins."
    assert "/meetings/" in what["meeting_held"].link
    changes = {e.excerpt: e.what for e in entries if e.sub == "meeting_changed"}
    assert changes["The counselor was out."].startswith("Case conference moved from ")
    assert changes["Not needed any more."].startswith("Case conference of ")
    assert changes["Not needed any more."].endswith(" cancelled")
    assert what["task_created"].what == "Task created: Call the parents"
    assert "due 2026-03-09" in what["task_created"].excerpt
    assert what["task_completed"].what == "Task done: Call the parents"
    assert {e.what for e in entries if e.sub == "document"} == {
        "Document added: Safety plan (PDF, 77\xa0bytes)",
        "Version 2 of Safety plan uploaded (Text, 3\xa0bytes)",
    }
    messages = {e.what: e for e in entries if e.sub == "message"}
    assert {w.split(" (")[0] for w in messages} == {"Message to the reporter", "Message from the reporter"}
    assert any(e.who == "The reporter" and e.excerpt == "Yes, two friends." for e in messages.values())
    assert what["person_added"].what == "Subject added: Sam Example"
    assert what["person_removed"].what == "Subject removed: Sam Example"
    assert what["link"].what == f"Linked to case {other.number}"
    assert what["merge"].what == f"Case {other.number} was merged into this case"
    assert what["unmerge"].what == f"Merge of case {other.number} into case {case.number} undone"
    assert what["school_added"].what == "South Test Middle added to the case"
    assert what["school_removed"].what == "South Test Middle no longer has access"
    assert what["break_glass"].excerpt == "Parent called the district office at night."
    assert what["assessment_started"].what == "Assessment started: Threat classification: five-step decision tree"
    assert what["assessment_decided"].what == "Decision recorded: High (differs from the suggestion)"
    assert what["assessment_decided"].excerpt == "Continuing intent and a search for a weapon."
    assert what["assessment_declined"].what == "Decision declined by the leader: High"
    assert what["assessment_declined"].excerpt == "Interview the friend first."
    assert what["assessment_declined"].link == what["assessment_decided"].link
    assert what["assessment_approved"].what == "Decision approved: High"
    assert what["dissent"].excerpt == "I would say moderate."
    assert what["dissent"].link == what["assessment_decided"].link != ""
    assert what["intervention"].what == "Intervention added: Safety plan (Planned)"
    assert what["check_in"].what == "Check-in (In person) — a new concern was raised"
    statuses = [e.what for e in entries if e.sub == "status"]
    assert statuses == [
        "Case reopened (back to Evaluation)",
        "Case closed",
        "Stage changed from Screening to Evaluation",
    ]
    assert page.paginator.count == len(entries)


def test_the_case_linked_to_sees_the_link_and_the_merge_from_its_side(world: Any) -> None:
    case, other = full_story(world)
    _page, entries = timeline.page_of(other, kinds=["link"], page_number=1)
    assert {e.what for e in entries} >= {
        f"Linked to case {case.number}",
        f"This case was merged into case {case.number}",
    }


def test_filtering_by_kind_keeps_only_those_kinds(world: Any) -> None:
    case, _other = full_story(world)
    _page, entries = timeline.page_of(case, kinds=["note", "task"], page_number=1)
    assert {e.kind for e in entries} == {"note", "task"}
    assert {e.sub for e in entries} == {"note", "correction", "note_edited", "task_created", "task_completed"}


def test_unknown_kind_codes_are_ignored() -> None:
    assert timeline.chosen_kinds(["task", "<script>", "'; DROP TABLE x;--", "note", "task"]) == ["note", "task"]
    assert timeline.chosen_kinds(["nothing"]) == []


def test_closure_declined_shows_as_such(world: Any) -> None:
    case = open_case(world)
    actions.do_request_closure(actor=team_member(world), case=case, reason="resolved", note="Done.")
    actions.do_decline_closure(actor=world.users[Role.TEAM_LEADER.value], case=case, reason="Not yet.")
    _page, entries = timeline.page_of(case, kinds=["status"], page_number=1)
    assert [e.what for e in entries] == ["Closure declined", "Case opened at North Test High"]
    assert entries[0].excerpt == "Closure declined: Not yet."


def test_a_page_holds_a_hundred_entries_newest_first(world: Any) -> None:
    case = open_case(world)
    user = team_member(world)
    Note.objects.bulk_create(
        [
            Note(
                case=case,
                kind=Note.Kind.CONTACT,
                occurred_on=dt.date(2026, 1, 1),
                body=f"Contact {i}",
                author=user,
                created_at=case.opened_at + dt.timedelta(minutes=i + 1),
            )
            for i in range(230)
        ]
    )
    first, entries = timeline.page_of(case, kinds=[], page_number=1)
    assert first.paginator.count == 231 and first.paginator.num_pages == 3
    assert len(entries) == timeline.PAGE_SIZE and entries[0].excerpt == "Contact 229"
    last, entries = timeline.page_of(case, kinds=[], page_number=3)
    assert len(entries) == 31 and entries[-1].sub == "opened"
    out_of_range, _entries = timeline.page_of(case, kinds=[], page_number="999")
    assert out_of_range.number == 3
    not_a_number, _entries = timeline.page_of(case, kinds=[], page_number="abc")
    assert not_a_number.number == 1
