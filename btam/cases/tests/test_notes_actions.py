"""The note actions: add, the author's edit within the window, corrections; refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import search
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseSearchDoc, Note
from btam.cases.note_actions import (
    MAX_NOTE_CHARS,
    NOTE_EDIT_MINUTES,
    do_add_correction,
    do_add_note,
    do_edit_note,
    today,
)
from btam.cases.tests.notes_tasks_helpers import SECRET, close, give_read_access, open_case, raw_rows, school_member

pytestmark = pytest.mark.django_db

Kind = Note.Kind


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def add(case: Case, actor: Any, body: str = SECRET, **kwargs: Any) -> Note:
    values = {"kind": Kind.INTERVIEW, "occurred_on": today(), **kwargs}
    return do_add_note(actor=actor, case=case, body=body, **values)


def indexed(case: Case, word: str) -> bool:
    return search.token(word) in CaseSearchDoc.objects.get(case=case).tokens.split()


def note_events(verb: str = Verb.CREATED) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(target_type="cases.note", verb=verb).order_by("pk"))


# Adding -------------------------------------------------------------------------------------------
def test_a_note_is_stored_encrypted_indexed_audited_and_touches_the_case(
    world: Any, case: Case, member: Any, clock: Any
) -> None:
    clock.advance(minutes=5)
    note = add(case, member, occurred_on=today() - dt.timedelta(days=2))
    note.refresh_from_db()
    assert note.body == SECRET and note.author == member and note.corrects is None
    assert note.kind == Kind.INTERVIEW and note.occurred_on == today() - dt.timedelta(days=2)
    assert SECRET not in raw_rows("cases_note")  # encrypted at rest
    assert indexed(case, "marchetti") and indexed(case, "counselor")
    assert Case.objects.get(pk=case.pk).updated_at == note.created_at
    (event,) = note_events()
    assert event.actor == member and event.target_id == str(note.pk)
    assert event.detail["case"] == case.pk and event.detail["note"] == note.pk
    assert event.after == {"kind": "interview", "occurred_on": note.occurred_on.isoformat()}
    assert "Quinby" not in raw_rows("audit_auditevent")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": ""}, "Choose the type of note."),
        ({"kind": "gossip"}, "Choose the type of note."),
        ({"occurred_on": None}, "Enter the date it happened."),
        ({"occurred_on": dt.date(1989, 12, 31)}, "The date cannot be before 1990-01-01."),
        ({"body": ""}, "The note is required."),
        ({"body": "   \n  "}, "The note is required."),
        ({"body": "x" * (MAX_NOTE_CHARS + 1)}, "The note is too long: at most 50000 characters (it has 50001)."),
        ({"body": "a\x00b"}, "The note holds a character that cannot be stored."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(
    case: Case, member: Any, values: dict[str, Any], message: str
) -> None:
    before = Case.objects.get(pk=case.pk).updated_at
    with pytest.raises(CaseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add(case, member, **values)
    assert not Note.objects.exists()
    assert not note_events()
    assert Case.objects.get(pk=case.pk).updated_at == before


def test_a_note_cannot_be_dated_in_the_future(case: Case, member: Any) -> None:
    with pytest.raises(CaseError, match="The date cannot be in the future."):
        add(case, member, occurred_on=today() + dt.timedelta(days=1))
    assert not Note.objects.exists()


def test_today_is_the_site_s_day_not_utc_s(case: Case, member: Any, clock: Any, settings: Any) -> None:
    # 02:00 UTC on 15 March is still the evening of 14 March in New York.
    clock.freeze(dt.datetime(2026, 3, 15, 2, 0, tzinfo=dt.UTC))
    assert settings.TIME_ZONE == "America/New_York"
    with pytest.raises(CaseError, match="future"):
        add(case, member, occurred_on=dt.date(2026, 3, 15))
    assert add(case, member, occurred_on=dt.date(2026, 3, 14)).occurred_on == dt.date(2026, 3, 14)
    assert timezone.localdate(clock.now()) == today()


def test_the_longest_note_is_accepted(case: Case, member: Any) -> None:
    body = ("word " * (MAX_NOTE_CHARS // 5))[:MAX_NOTE_CHARS]
    assert len(add(case, member, body=body).body) == len(body.strip())


def test_sql_and_html_are_stored_as_text(case: Case, member: Any) -> None:
    body = "'; DROP TABLE cases_note; -- <script>alert(1)</script>"
    note = add(case, member, body=body)
    assert Note.objects.get(pk=note.pk).body == body


def test_a_closed_case_refuses_a_note(world: Any, case: Case, member: Any) -> None:
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed. Reopen it to change it."):
        add(case, member)
    assert not Note.objects.exists()


def test_a_merged_case_refuses_a_note(world: Any, case: Case, member: Any) -> None:
    survivor = open_case(world, actor=member)
    Case.objects.filter(pk=case.pk).update(merged_into=survivor)
    with pytest.raises(CaseError, match=f"merged into case {survivor.number}"):
        add(case, member)
    assert not Note.objects.exists()


def test_a_read_only_school_or_another_school_cannot_add(world: Any, case: Case, member: Any) -> None:
    give_read_access(case, world.other_school, member)
    reader = school_member(world, world.other_school)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        add(case, reader)
    stranger = open_case(world, school=world.other_school, actor=member)
    north = school_member(world, world.school)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        add(stranger, north)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        add(case, world.outsider)
    assert not Note.objects.exists()


# Editing ------------------------------------------------------------------------------------------
def test_the_author_edits_within_the_window_and_the_record_says_so(case: Case, member: Any, clock: Any) -> None:
    note = add(case, member, body="Met Quinby in the library")
    clock.advance(minutes=NOTE_EDIT_MINUTES - 1)
    edited = do_edit_note(
        actor=member, note=note, kind=Kind.OBSERVATION, occurred_on=note.occurred_on, body="Met Zephyrine in the gym"
    )
    edited.refresh_from_db()
    assert edited.body == "Met Zephyrine in the gym" and edited.kind == Kind.OBSERVATION
    assert edited.edited_at is not None and edited.edited_at > edited.created_at
    assert indexed(case, "zephyrine") and not indexed(case, "quinby")  # re-indexed
    assert Case.objects.get(pk=case.pk).updated_at == edited.edited_at
    (event,) = note_events(Verb.UPDATED)
    assert event.detail["edited"] is True and event.detail["fields"] == ["kind", "body"]
    assert event.before["kind"] == "interview" and event.after["kind"] == "observation"
    assert "Zephyrine" not in raw_rows("audit_auditevent") and "Quinby" not in raw_rows("audit_auditevent")


def test_an_edit_that_changes_nothing_writes_nothing(case: Case, member: Any) -> None:
    note = add(case, member)
    do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=note.occurred_on, body=SECRET)
    note.refresh_from_db()
    assert note.edited_at is None
    assert not note_events(Verb.UPDATED)


def test_an_edit_after_the_window_is_refused(case: Case, member: Any, clock: Any) -> None:
    note = add(case, member)
    clock.advance(minutes=16)
    with pytest.raises(CaseError, match="only in the 15 minutes after it is written. Add a correction instead"):
        do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=note.occurred_on, body="rewritten")
    note.refresh_from_db()
    assert note.body == SECRET and note.edited_at is None
    assert not note_events(Verb.UPDATED)


def test_someone_else_s_note_cannot_be_edited(world: Any, case: Case, member: Any) -> None:
    note = add(case, member)
    leader = world.users[Role.TEAM_LEADER]
    with pytest.raises(CaseError, match="Only the author of a note can edit it"):
        do_edit_note(actor=leader, note=note, kind=note.kind, occurred_on=note.occurred_on, body="rewritten")
    assert Note.objects.get(pk=note.pk).body == SECRET


def test_a_corrected_note_is_no_longer_edited(world: Any, case: Case, member: Any) -> None:
    note = add(case, member)
    do_add_correction(actor=world.users[Role.TEAM_LEADER], note=note, body="It was Thursday.")
    with pytest.raises(CaseError, match="already has a correction"):
        do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=note.occurred_on, body="rewritten")


def test_an_edit_is_validated_like_a_new_note(case: Case, member: Any) -> None:
    note = add(case, member)
    with pytest.raises(CaseError, match="future"):
        do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=today() + dt.timedelta(days=3), body="x")
    with pytest.raises(CaseError, match="The note is required."):
        do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=note.occurred_on, body=" ")


def test_a_closed_case_refuses_an_edit(world: Any, case: Case, member: Any) -> None:
    note = add(case, member)
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        do_edit_note(actor=member, note=note, kind=note.kind, occurred_on=note.occurred_on, body="rewritten")
    assert Note.objects.get(pk=note.pk).body == SECRET


# Corrections --------------------------------------------------------------------------------------
def test_anyone_who_works_the_case_appends_a_correction(world: Any, case: Case, member: Any, clock: Any) -> None:
    note = add(case, member, kind=Kind.CONTACT, occurred_on=today() - dt.timedelta(days=1))
    clock.advance(days=3)
    leader = world.users[Role.TEAM_LEADER]
    correction = do_add_correction(actor=leader, note=note, body="The call was with Ottoline, the aunt.")
    assert correction.corrects == note and correction.case == case and correction.author == leader
    assert correction.kind == Kind.CONTACT and correction.occurred_on == note.occurred_on
    assert Note.objects.get(pk=note.pk).body == SECRET  # the original stays as it was
    assert indexed(case, "ottoline")
    assert Case.objects.get(pk=case.pk).updated_at == correction.created_at
    event = note_events()[-1]
    assert event.target_id == str(correction.pk) and event.detail["corrects"] == note.pk
    assert "Ottoline" not in raw_rows("audit_auditevent")


def test_a_correction_of_a_correction_points_to_the_original(world: Any, case: Case, member: Any) -> None:
    note = add(case, member)
    first = do_add_correction(actor=member, note=note, body="First correction.")
    second = do_add_correction(actor=world.users[Role.TEAM_LEADER], note=first, body="Second correction.")
    assert second.corrects == note
    assert list(note.corrections.order_by("pk")) == [first, second]


def test_a_correction_needs_text_and_a_working_case(world: Any, case: Case, member: Any) -> None:
    note = add(case, member)
    with pytest.raises(CaseError, match="The note is required."):
        do_add_correction(actor=member, note=note, body="")
    give_read_access(case, world.other_school, member)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        do_add_correction(actor=school_member(world, world.other_school), note=note, body="From the old school.")
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed"):
        do_add_correction(actor=member, note=note, body="Too late.")
    assert Note.objects.count() == 1


def test_the_author_may_edit_a_fresh_correction(case: Case, member: Any) -> None:
    note = add(case, member)
    correction = do_add_correction(actor=member, note=note, body="It was Thursday.")
    edited = do_edit_note(
        actor=member,
        note=correction,
        kind=correction.kind,
        occurred_on=correction.occurred_on,
        body="It was Wednesday.",
    )
    assert edited.body == "It was Wednesday." and edited.edited_at is not None
