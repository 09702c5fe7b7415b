"""Evidence notes (note, source, date) on checklist items and decision-tree steps: the form shows them
collapsed under each answer, saves them with the answer, keeps them across partial saves, refuses bad
ones with the values typed kept (a 400, nothing saved), and the record of a decided assessment shows
them. The notes stay inside the encrypted answers; contributions and audit events hold item ids only."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments import decision_actions, engine
from btam.assessments.decision_actions import AssessmentError
from btam.assessments.models import Assessment, Contribution
from btam.assessments.tests.decision_helpers import (
    CHECKLIST,
    HTMX,
    SERIOUS,
    answer,
    decide,
    signed_in,
    start,
)
from btam.audit.models import AuditEvent
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import open_case

pytestmark = pytest.mark.django_db

S1, S3 = "step-1-evaluate", "step-3-respond"
NOTE_TEXT = "Fictitious: said it twice, in front of the class."
SOURCE = "Teacher's written statement"


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(member: Any) -> Client:
    return signed_in(member)


def url(name: str, case: Case, assessment: Assessment) -> str:
    return reverse(f"assessments:{name}", args=[case.pk, assessment.pk])


def posted(assessment: Assessment, fields: dict[str, str]) -> dict[str, str]:
    """A POST of the answers form with ``fields`` (its current revision)."""
    assessment.refresh_from_db()
    return {"revision": str(assessment.revision), "version": str(assessment.instrument_version), **fields}


def tree_note(step: str, note: str = NOTE_TEXT, source: str = SOURCE, date: str = "2025-03-04") -> dict[str, str]:
    return {f"note-step-{step}": note, f"source-step-{step}": source, f"date-step-{step}": date}


def value_of(body: str, name: str) -> str | None:
    """The value of the input or text area ``name`` in a page."""
    area = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', body, re.S)
    if area:
        return html.unescape(area.group(1))
    for tag in re.findall(r"<input[^>]*>", body):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return html.unescape(found.group(1)) if found else None
    return None


# The form ----------------------------------------------------------------------------------------


def test_every_step_and_item_has_a_collapsed_labelled_evidence_group(team: Client, case: Case, member: Any) -> None:
    tree = start(case, member)
    body = team.get(url("detail", case, tree)).content.decode()
    groups = re.findall(r"<details[^>]*data-testid=\"evidence-note\"[^>]*>", body)
    assert len(groups) == 5 and not any(" open" in tag for tag in groups)  # five steps, all collapsed
    assert body.count("Evidence (note, source, date)") == 5
    for part in ("note", "source", "date"):
        name = f"{part}-step-{S1}"
        assert f'<label class="usa-label" for="f-{name}">' in body and f'id="f-{name}" name="{name}"' in body
    assert '<legend class="usa-sr-only">Evidence: Step 1</legend>' in body
    assert 'maxlength="2000"' in body and 'maxlength="200"' in body
    checklist = start(case, member, instrument_id=CHECKLIST)
    body = team.get(url("detail", case, checklist)).content.decode()
    items = list(decision_actions.instrument_of(checklist).items())
    assert body.count('data-testid="evidence-note"') == len(items) == 13  # every item, text and date items too
    assert 'name="note-item-exact-words"' in body and 'name="date-item-first-known-on"' in body


def test_a_note_is_saved_with_its_answer_and_shown_again(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    data = posted(assessment, {"step-step-1-evaluate": "intent-or-unclear", **tree_note(S1)})
    assert team.post(url("save", case, assessment), data).status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {
        S1: {"value": "intent-or-unclear", "note": NOTE_TEXT, "source": SOURCE, "date": "2025-03-04"}
    }
    body = team.get(url("detail", case, assessment)).content.decode()
    assert value_of(body, f"note-step-{S1}") == NOTE_TEXT
    assert value_of(body, f"source-step-{S1}") == SOURCE
    assert value_of(body, f"date-step-{S1}") == "2025-03-04"
    assert "· <span>recorded</span>" in body
    # The engine reads the value: the path goes on to step 3.
    assert 'data-testid="next-step"' in body and "Step 3" in body


def test_a_checklist_note_round_trips_and_an_empty_note_stores_the_plain_value(
    team: Client, case: Case, member: Any
) -> None:
    assessment = start(case, member, instrument_id=CHECKLIST)
    fields = {
        "item-threat-communicated": "yes",
        "note-item-threat-communicated": NOTE_TEXT,
        "source-item-threat-communicated": "",
        "date-item-threat-communicated": "",
        "item-first-known-on": "2025-03-03",
        "source-item-first-known-on": "Front office log",
        "note-item-first-known-on": "",
        "date-item-first-known-on": "",
        "item-weapon-involved": "no",
        "note-item-weapon-involved": "",
        "source-item-weapon-involved": "",
        "date-item-weapon-involved": "",
    }
    data = posted(assessment, fields)
    assert team.post(url("save", case, assessment), data).status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {
        "threat-communicated": {"value": "yes", "note": NOTE_TEXT},
        "first-known-on": {"value": "2025-03-03", "source": "Front office log"},
        "weapon-involved": "no",
    }
    body = team.get(url("detail", case, assessment)).content.decode()
    assert value_of(body, "note-item-threat-communicated") == NOTE_TEXT
    assert value_of(body, "source-item-first-known-on") == "Front office log"
    assert value_of(body, "note-item-weapon-involved") == ""


def test_a_note_may_come_before_the_answer(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    data = posted(assessment, {"step-step-1-evaluate": "", **tree_note(S1, source="", date="")})
    assert team.post(url("save", case, assessment), data).status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {S1: {"value": None, "note": NOTE_TEXT}}
    body = team.get(url("detail", case, assessment)).content.decode()
    assert value_of(body, f"note-step-{S1}") == NOTE_TEXT
    assert 'data-testid="next-step"' in body  # step 1 is still to answer


def test_partial_saves_keep_the_notes_and_clearing_them_works(
    team: Client, case: Case, member: Any, world: Any
) -> None:
    assessment = start(case, member)
    team.post(url("save", case, assessment), posted(assessment, {"step-step-1-evaluate": "intent-or-unclear"}))
    team.post(url("save", case, assessment), posted(assessment, {**tree_note(S1)}))  # the note alone
    assessment.refresh_from_db()
    saved_note = {"note": NOTE_TEXT, "source": SOURCE, "date": "2025-03-04"}
    assert assessment.answers == {S1: {"value": "intent-or-unclear", **saved_note}}
    # Another member changes the answer without posting the note fields: the note stays.
    leader = signed_in(world.users[Role.TEAM_LEADER])
    leader.post(url("save", case, assessment), posted(assessment, {"step-step-1-evaluate": "expression-only"}))
    # A later save of another step leaves step 1 as it is.
    leader.post(url("save", case, assessment), posted(assessment, {"step-step-2-resolve": "resolved"}))
    assessment.refresh_from_db()
    assert assessment.answers == {S1: {"value": "expression-only", **saved_note}, "step-2-resolve": "resolved"}
    assert [c.items for c in Contribution.objects.filter(assessment=assessment).order_by("at", "pk")] == [
        [S1],
        [S1],
        [S1],
        ["step-2-resolve"],
    ]
    # Posting the note fields empty clears the note (the plain value stays).
    cleared = posted(assessment, {"step-step-1-evaluate": "expression-only", **tree_note(S1, "", "", "")})
    team.post(url("save", case, assessment), cleared)
    assessment.refresh_from_db()
    assert assessment.answers[S1] == "expression-only"
    # Clearing both the answer and its note clears the item.
    team.post(
        url("save", case, assessment), posted(assessment, {"step-step-1-evaluate": "", **tree_note(S1, "", "", "")})
    )
    assessment.refresh_from_db()
    assert S1 not in assessment.answers


def test_the_notes_stay_encrypted_and_out_of_the_audit_trail(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    data = posted(assessment, {"step-step-1-evaluate": "intent-or-unclear", **tree_note(S1)})
    team.post(url("save", case, assessment), data)
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers_json FROM assessments_assessment WHERE id = %s", [assessment.pk])
        stored = cursor.fetchone()[0]
    assert NOTE_TEXT not in stored and SOURCE not in stored and "Teacher" not in stored
    details = [str(e.detail) for e in AuditEvent.objects.all()]
    assert details and not any("Teacher" in d or "Fictitious" in d for d in details)


def test_an_htmx_save_and_a_preview_take_notes(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    data = posted(assessment, {"step-step-1-evaluate": "intent-or-unclear", **tree_note(S1)})
    data[f"step-{S3}"] = "hurt-without-weapon"
    data.update(tree_note(S3, note="Fictitious: no weapon mentioned."))
    preview = team.post(url("preview", case, assessment), data, headers=HTMX)
    assert preview.status_code == 200 and "serious" in preview.content.decode().lower()
    assessment.refresh_from_db()
    assert assessment.answers == {}
    response = team.post(url("save", case, assessment), data, headers=HTMX)
    assert response.status_code == 200 and 'data-testid="assess-notice"' in response.content.decode()
    assessment.refresh_from_db()
    assert engine.answer_note(assessment.answers[S3])["note"] == "Fictitious: no weapon mentioned."
    assert engine.evaluate(decision_actions.instrument_of(assessment), assessment.answers).outcome == (
        "substantive-serious"
    )


# Bad notes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ({"note": "x" * (engine.MAX_NOTE + 1)}, "At most 2,000 characters (this is 2,001)."),
        ({"source": "s" * (engine.MAX_NOTE_SOURCE + 1)}, "At most 200 characters (this is 201)."),
        ({"date": "2999-01-01"}, "The date cannot be in the future."),
        ({"date": "2025-02-30"}, "is not a date: write it as YYYY-MM-DD."),
    ],
)
def test_a_bad_note_is_a_400_with_the_values_kept_and_nothing_saved(
    team: Client, case: Case, member: Any, note: dict[str, str], message: str
) -> None:
    assessment = start(case, member)
    fields = {
        **tree_note(S1, note="Fictitious: kept after the refusal."),
        **{f"{k}-step-{S1}": v for k, v in note.items()},
    }
    data = {**posted(assessment, {"step-step-1-evaluate": "intent-or-unclear"}), **fields}
    response = team.post(url("save", case, assessment), data)
    body = response.content.decode()
    assert response.status_code == 400 and message in body and "Evidence: Step 1" in body
    assert re.search(r'<details[^>]*data-testid="evidence-note"[^>]*open', body)  # the group with the error is open
    for name, value in fields.items():
        assert value_of(body, name) == value  # what was typed comes back
    assessment.refresh_from_db()
    assert assessment.answers == {} and assessment.revision == 0 and not Contribution.objects.exists()


def test_a_bad_checklist_note_is_refused_too(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=CHECKLIST)
    data = posted(assessment, {"item-weapon-involved": "no", "date-item-weapon-involved": "2999-01-01"})
    response = team.post(url("save", case, assessment), data)
    assert response.status_code == 400 and "The date cannot be in the future." in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.answers == {}


@pytest.mark.parametrize(
    "name",
    ["note-step-step-9", "source-step-step-9", "date-item-step-1-evaluate", "note-item-weapon-involved"],
)
def test_a_note_field_of_no_step_is_refused(team: Client, case: Case, member: Any, name: str) -> None:
    assessment = start(case, member)
    data = {**posted(assessment, {"step-step-1-evaluate": "intent-or-unclear"}), name: "Fictitious"}
    response = team.post(url("save", case, assessment), data)
    assert response.status_code == 400 and "These answers are not part of version 1" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_the_action_refuses_unknown_fields_and_bad_notes(case: Case, member: Any) -> None:
    assessment = start(case, member)
    bad = [
        {S1: {"value": "intent-or-unclear", "notes": "typo"}},
        {S1: {"value": "intent-or-unclear", "note": "x" * (engine.MAX_NOTE + 1)}},
        {S1: {"value": "intent-or-unclear", "date": "2999-01-01"}},
        {S1: {"value": "maybe", "note": "n"}},
        {S1: {"unknown": ""}},
    ]
    for answers in bad:
        with pytest.raises(AssessmentError):
            answer(assessment, member, answers)
    with pytest.raises(AssessmentError, match='unknown field "notes"'):
        answer(assessment, member, bad[0])
    assessment.refresh_from_db()
    assert assessment.answers == {} and not Contribution.objects.exists()


# The record of a decided assessment --------------------------------------------------------------


def test_a_decided_assessment_shows_the_notes_under_the_path(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    answer(
        assessment,
        member,
        {
            S1: {"value": SERIOUS[S1], "note": NOTE_TEXT, "source": SOURCE, "date": "2025-03-04"},
            S3: {"value": SERIOUS[S3], "source": "Interview with two witnesses"},
        },
    )
    decide(assessment, member, "moderate")
    body = team.get(url("detail", case, assessment)).content.decode()
    assert 'name="note-step-' not in body  # the record, not the form
    records = re.findall(r'data-testid="evidence-record">(.*?)</div>', body, re.S)
    assert len(records) == 2
    assert NOTE_TEXT in records[0] and "Teacher&#x27;s written statement, 2025-03-04" in records[0]
    assert "no note" in records[1] and "Interview with two witnesses" in records[1]
    assert "Evaluate the threat." in body and "Substantive" in body


def test_a_decided_checklist_shows_its_notes(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=CHECKLIST)
    answer(assessment, member, {"weapon-involved": {"value": "no", "note": NOTE_TEXT, "date": "2025-03-02"}})
    decide(assessment, member, "low", override="Fictitious: screening only, no weapon.")
    body = team.get(url("detail", case, assessment)).content.decode()
    records = re.findall(r'data-testid="evidence-record">(.*?)</div>', body, re.S)
    assert len(records) == 1 and NOTE_TEXT in records[0] and "2025-03-02" in records[0]
