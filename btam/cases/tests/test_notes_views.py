"""The notes tab: the list (newest first, by type, 50 a page, corrections under their note), adding
(with and without htmx), the author's edit, corrections; access and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, Note
from btam.cases.note_actions import do_add_correction, do_add_note, today
from btam.cases.note_views import NOTES_PAGE_SIZE
from btam.cases.tests.notes_tasks_helpers import SECRET, close, give_read_access, open_case, school_member
from btam.lib import clock as clock_module

pytestmark = pytest.mark.django_db

Kind = Note.Kind
HTMX = {"HX-Request": "true"}


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def url(name: str, case: Case, *extra: int) -> str:
    return reverse(f"cases:{name}", args=[case.pk, *extra])


def add(case: Case, actor: Any, body: str = SECRET, kind: str = Kind.INTERVIEW, days_ago: int = 0) -> Note:
    return do_add_note(actor=actor, case=case, kind=kind, occurred_on=today() - dt.timedelta(days=days_ago), body=body)


def form(body: str = "Spoke with the counselor.", kind: str = "interview", on: Any = None) -> dict[str, str]:
    return {"note-kind": kind, "note-occurred_on": str(on or today()), "note-body": body}


def views_of(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="cases.case", target_id=str(case.pk)))


# The list -----------------------------------------------------------------------------------------
def test_the_tab_lists_notes_newest_first_and_records_the_view(team: Client, case: Case, member: Any) -> None:
    add(case, member, body="Oldest interview", days_ago=5)
    add(case, member, body="Newest observation", kind=Kind.OBSERVATION, days_ago=0)
    add(case, member, body="Middle contact", kind=Kind.CONTACT, days_ago=2)
    response = team.get(url("notes", case))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Newest observation") < body.index("Middle contact") < body.index("Oldest interview")
    assert "3 notes." in body
    assert str(member) in body  # the author
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    (event,) = views_of(case)
    assert event.detail["tab"] == "notes" and event.actor == member


def test_the_type_filter_shows_one_type_and_a_bad_value_shows_all(team: Client, case: Case, member: Any) -> None:
    add(case, member, body="An interview note")
    add(case, member, body="A records review", kind=Kind.RECORDS_REVIEW)
    only = team.get(url("notes", case), {"kind": "records_review"}).content.decode()
    assert "A records review" in only and "An interview note" not in only and "1 note." in only
    everything = team.get(url("notes", case), {"kind": "'; DROP TABLE cases_note; --"})
    assert everything.status_code == 200
    assert "An interview note" in everything.content.decode() and "A records review" in everything.content.decode()


def test_the_filter_with_htmx_swaps_the_list_only(team: Client, case: Case, member: Any) -> None:
    add(case, member, body="An interview note")
    response = team.get(url("notes", case), {"kind": "interview"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="note-list"' in body and "<html" not in body
    assert "An interview note" in body
    assert len(views_of(case)) == 1  # still audited


def test_notes_are_paginated_by_50(team: Client, case: Case, member: Any) -> None:
    at = clock_module.now()
    Note.objects.bulk_create(
        Note(
            case=case,
            kind=Kind.CONTACT,
            occurred_on=today() - dt.timedelta(days=i),
            body=f"Note number {i}.",
            author=member,
            created_at=at,
        )
        for i in range(NOTES_PAGE_SIZE + 1)
    )
    first = team.get(url("notes", case)).content.decode()
    assert first.count('data-testid="note"') == NOTES_PAGE_SIZE and "Page 1 of 2" in first
    assert "Note number 0." in first and "Note number 50." not in first
    second = team.get(url("notes", case), {"page": 2}).content.decode()
    assert second.count('data-testid="note"') == 1 and "Note number 50." in second
    assert team.get(url("notes", case), {"page": "999"}).status_code == 200
    assert team.get(url("notes", case), {"page": "<script>"}).status_code == 200


def test_the_page_reads_a_constant_number_of_rows(
    team: Client, case: Case, member: Any, django_assert_max_num_queries: Any
) -> None:
    note = add(case, member)
    do_add_correction(actor=member, note=note, body="A correction.")
    team.get(url("notes", case))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        team.get(url("notes", case))
    for i in range(20):
        other = add(case, member, body=f"More {i}", days_ago=i)
        do_add_correction(actor=member, note=other, body=f"Correction {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        team.get(url("notes", case))


def test_corrections_sit_under_their_note_clearly_marked(world: Any, team: Client, case: Case, member: Any) -> None:
    first = add(case, member, body="The meeting was on Monday.", days_ago=3)
    add(case, member, body="A later note.", days_ago=0)
    do_add_correction(actor=world.users[Role.TEAM_LEADER], note=first, body="It was on Tuesday.")
    body = team.get(url("notes", case)).content.decode()
    assert "2 notes." in body  # corrections are not counted as notes of their own
    assert body.count('data-testid="correction"') == 1
    assert body.index("The meeting was on Monday.") < body.index("It was on Tuesday.")
    assert body.index("A later note.") < body.index("The meeting was on Monday.")
    assert ">Correction</span>" in body


def test_note_text_is_escaped(team: Client, case: Case, member: Any) -> None:
    add(case, member, body='<script>alert("x")</script> <img src=x onerror=alert(1)>')
    body = team.get(url("notes", case)).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "<script>alert" not in body and "<img src=x" not in body


def test_a_new_note_shows_an_edit_link_until_the_window_closes(
    team: Client, case: Case, member: Any, clock: Any
) -> None:
    note = add(case, member)
    assert url("note_edit", case, note.pk) in team.get(url("notes", case)).content.decode()
    clock.advance(minutes=16)
    body = team.get(url("notes", case)).content.decode()
    assert url("note_edit", case, note.pk) not in body
    assert url("note_correct", case, note.pk) in body


def test_another_member_sees_no_edit_link(world: Any, client: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    client.force_login(world.users[Role.TEAM_LEADER])
    body = client.get(url("notes", case)).content.decode()
    assert url("note_edit", case, note.pk) not in body and url("note_correct", case, note.pk) in body


# Adding -------------------------------------------------------------------------------------------
def test_adding_a_note_without_js_redirects_to_the_tab(team: Client, case: Case, member: Any) -> None:
    response = team.post(url("note_add", case), form(body=SECRET, kind="social_media"))
    assert response.status_code == 302 and response["Location"] == url("notes", case)
    note = Note.objects.get()
    assert note.body == SECRET and note.kind == Kind.SOCIAL_MEDIA and note.author == member
    assert "Note added." in team.get(url("notes", case)).content.decode()


def test_adding_with_htmx_swaps_the_panel_with_an_empty_form(team: Client, case: Case) -> None:
    response = team.post(url("note_add", case), form(body=SECRET), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="notes-panel"' in body and "<html" not in body
    assert "Note added." in body and SECRET in body
    assert f">{SECRET}</textarea>" not in body  # the form is empty again
    assert Note.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"note-occurred_on": "2999-01-01"}, "The date cannot be in the future."),
        ({"note-occurred_on": "1985-06-01"}, "The date cannot be before 1990-01-01."),
        ({"note-occurred_on": "not a date"}, "Enter a real date, for example"),
        ({"note-kind": "gossip"}, "Select a valid choice."),
        ({"note-body": ""}, "This field is required."),
        ({"note-body": "x" * 50_001}, "at most 50000 characters"),
    ],
)
def test_bad_input_answers_400_with_the_message_and_keeps_what_was_typed(
    team: Client, case: Case, data: dict[str, str], message: str
) -> None:
    typed = form(body="What the counselor said, kept for the second try.")
    typed.update(data)
    response = team.post(url("note_add", case), typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if "note-body" not in data:
        assert "What the counselor said, kept for the second try." in body
    assert not Note.objects.exists()


def test_bad_input_with_htmx_comes_back_in_the_panel(team: Client, case: Case) -> None:
    response = team.post(url("note_add", case), form(body="Kept text", on="2999-01-01"), headers=HTMX)
    body = response.content.decode()
    # htmx swaps only successful answers: the panel with the message is a 200.
    assert response.status_code == 200 and 'id="notes-panel"' in body
    assert "The date cannot be in the future." in body and "Kept text</textarea>" in body
    assert not Note.objects.exists()


def test_sql_text_in_a_note_is_just_text(team: Client, case: Case) -> None:
    sql = "x'); DELETE FROM cases_note; --"
    assert team.post(url("note_add", case), form(body=sql)).status_code == 302
    assert Note.objects.get().body == sql
    assert "x&#x27;); DELETE FROM cases_note; --" in team.get(url("notes", case)).content.decode()


def test_a_closed_case_shows_no_form_and_refuses_a_note(world: Any, team: Client, case: Case) -> None:
    close(case, world)
    page = team.get(url("notes", case)).content.decode()
    assert url("note_add", case) not in page
    response = team.post(url("note_add", case), form())
    assert response.status_code == 400
    assert "This case is closed. Reopen it to change it." in response.content.decode()
    assert not Note.objects.exists()


def test_the_wrong_method_is_405(team: Client, case: Case) -> None:
    assert team.get(url("note_add", case)).status_code == 405
    assert team.post(url("notes", case)).status_code == 405


# Access -------------------------------------------------------------------------------------------
def test_another_school_or_district_gets_404_whatever_the_method(
    world: Any, client: Client, case: Case, member: Any
) -> None:
    note = add(case, member)
    for user in (school_member(world, world.other_school), world.outsider):
        client.force_login(user)
        assert client.get(url("notes", case)).status_code == 404
        assert client.post(url("notes", case)).status_code == 404
        assert client.post(url("note_add", case), form()).status_code == 404
        assert client.get(url("note_add", case)).status_code == 404
        assert client.get(url("note_edit", case, note.pk)).status_code == 404
        assert client.post(url("note_correct", case, note.pk), {"correction-body": "x"}).status_code == 404
    assert Note.objects.count() == 1
    assert not views_of(case)


def test_a_read_only_school_reads_but_gets_403_on_changes(world: Any, client: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    give_read_access(case, world.other_school, member)
    client.force_login(school_member(world, world.other_school))
    page = client.get(url("notes", case))
    assert page.status_code == 200 and SECRET in page.content.decode()
    assert url("note_add", case) not in page.content.decode()
    assert client.post(url("note_add", case), form()).status_code == 403
    assert client.post(url("note_edit", case, note.pk), form()).status_code == 403
    assert client.post(url("note_correct", case, note.pk), {"correction-body": "x"}).status_code == 403
    assert Note.objects.count() == 1


def test_a_note_of_another_case_is_404_through_this_one(world: Any, team: Client, case: Case, member: Any) -> None:
    other = open_case(world, actor=member)
    note = add(other, member)
    assert team.get(url("note_edit", case, note.pk)).status_code == 404
    assert team.post(url("note_edit", case, note.pk), form(body="hijack")).status_code == 404
    assert team.post(url("note_correct", case, note.pk), {"correction-body": "hijack"}).status_code == 404
    assert Note.objects.get(pk=note.pk).body == SECRET and Note.objects.count() == 1


# Editing ------------------------------------------------------------------------------------------
def test_the_author_edits_and_the_page_shows_edited_with_the_time(team: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    page = team.get(url("note_edit", case, note.pk))
    assert page.status_code == 200 and SECRET in page.content.decode()
    response = team.post(url("note_edit", case, note.pk), form(body="Corrected within minutes.", kind="contact"))
    assert response.status_code == 302 and response["Location"] == url("notes", case)
    note.refresh_from_db()
    assert note.body == "Corrected within minutes." and note.kind == Kind.CONTACT and note.edited_at
    body = team.get(url("notes", case)).content.decode()
    assert 'data-testid="edited"' in body and "edited " in body


def test_someone_else_s_note_is_refused_with_a_message(world: Any, client: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    client.force_login(world.users[Role.TEAM_LEADER])
    page = client.get(url("note_edit", case, note.pk)).content.decode()
    assert "Only the author of a note can edit it" in page and 'name="note-body"' not in page
    response = client.post(url("note_edit", case, note.pk), form(body="Rewritten by the leader."))
    assert response.status_code == 400
    assert "Only the author of a note can edit it" in response.content.decode()
    assert Note.objects.get(pk=note.pk).body == SECRET


def test_an_edit_after_15_minutes_is_refused(team: Client, case: Case, member: Any, clock: Any) -> None:
    note = add(case, member)
    clock.advance(minutes=16)
    page = team.get(url("note_edit", case, note.pk)).content.decode()
    assert "only in the 15 minutes after it is written" in page
    response = team.post(url("note_edit", case, note.pk), form(body="Too late."))
    assert response.status_code == 400
    assert "Add a correction instead" in response.content.decode()
    note.refresh_from_db()
    assert note.body == SECRET and note.edited_at is None


def test_an_edit_with_bad_input_keeps_it(team: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    response = team.post(url("note_edit", case, note.pk), form(body="Typed again", on="2999-12-31"))
    assert response.status_code == 400
    assert "The date cannot be in the future." in response.content.decode()
    assert "Typed again</textarea>" in response.content.decode()
    assert Note.objects.get(pk=note.pk).body == SECRET


# Corrections --------------------------------------------------------------------------------------
def test_a_correction_is_added_from_its_page(world: Any, client: Client, case: Case, member: Any, clock: Any) -> None:
    note = add(case, member)
    clock.advance(hours=2)
    client.force_login(world.users[Role.TEAM_LEADER])
    page = client.get(url("note_correct", case, note.pk))
    assert page.status_code == 200 and SECRET in page.content.decode()
    response = client.post(url("note_correct", case, note.pk), {"correction-body": "The aunt called, not the mother."})
    assert response.status_code == 302 and response["Location"] == url("notes", case)
    correction = Note.objects.get(corrects=note)
    assert correction.body == "The aunt called, not the mother."
    assert "The aunt called, not the mother." in client.get(url("notes", case)).content.decode()


def test_an_empty_or_oversize_correction_is_400(team: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    assert team.post(url("note_correct", case, note.pk), {"correction-body": "  "}).status_code == 400
    response = team.post(url("note_correct", case, note.pk), {"correction-body": "y" * 50_001})
    assert response.status_code == 400 and "at most 50000 characters" in response.content.decode()
    assert Note.objects.count() == 1


def test_a_correction_on_a_closed_case_is_refused(world: Any, team: Client, case: Case, member: Any) -> None:
    note = add(case, member)
    close(case, world)
    page = team.get(url("note_correct", case, note.pk)).content.decode()
    assert 'name="correction-body"' not in page
    response = team.post(url("note_correct", case, note.pk), {"correction-body": "Too late."})
    assert response.status_code == 400 and "This case is closed" in response.content.decode()
    assert Note.objects.count() == 1
