"""The Assessments tab and the assessment page: listing, starting and reassessing, the form built
from the definition, partial saves (htmx and plain), the live suggestion, the decision, approval,
dissent, discarding; bad input (a 400 with the message, nothing saved); access; query counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments import decision_actions
from btam.assessments.models import Assessment, Contribution, Dissent, LevelChange
from btam.assessments.tests.decision_helpers import (
    CHECKLIST,
    HTMX,
    RATIONALE,
    SERIOUS,
    THEMES,
    TRANSIENT,
    TREE,
    VERY_SERIOUS,
    answer,
    decide,
    decided,
    publish_tree_v2,
    signed_in,
    start,
)
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, school_member

pytestmark = pytest.mark.django_db

S = Assessment.Status


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(member: Any) -> Client:
    return signed_in(member)


def url(name: str, case: Case, assessment: Assessment | None = None) -> str:
    args = [case.pk] if assessment is None else [case.pk, assessment.pk]
    return reverse(f"assessments:{name}", args=args)


def views_of(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="cases.case", target_id=str(case.pk)))


def tree_form(assessment: Assessment, answers: dict[str, str], **extra: str) -> dict[str, str]:
    assessment.refresh_from_db()
    data = {"revision": str(assessment.revision), "version": str(assessment.instrument_version)}
    data.update({f"step-{step}": value for step, value in answers.items()})
    data.update(extra)
    return data


def checked(body: str, name: str) -> str | None:
    """The value of the checked radio button ``name`` in a page."""
    for tag in re.findall(r"<input[^>]*>", body):
        if f'name="{name}"' in tag and " checked" in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


# The tab -----------------------------------------------------------------------------------------
def test_the_tab_lists_assessments_the_level_and_its_history(team: Client, case: Case, member: Any) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    start(case, member, instrument_id=THEMES)
    response = team.get(url("case", case))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert body.count('data-testid="assessment-row"') == 2
    assert "Threat classification: five-step decision tree" in body and "version 1" in body
    assert "In progress" in body and "Decided" in body
    assert 'data-testid="current-level"' in body and "<strong>Moderate</strong>" in body
    assert 'data-testid="level-chart"' in body and '<title id="level-chart-title">' in body
    assert "<desc" in body and 'data-testid="level-history-table"' in body
    assert 'data-testid="reassess-form"' in body and f'name="previous" value="{first.pk}"' in body
    (event,) = views_of(case)
    assert event.detail["tab"] == "assessments"


def test_an_empty_tab_offers_every_instrument(team: Client, case: Case) -> None:
    body = team.get(url("case", case)).content.decode()
    assert "No assessment yet." in body and "No level has been decided on this case yet" in body
    for instrument in (TREE, CHECKLIST, THEMES):
        assert f'value="{instrument}"' in body
    assert 'data-testid="reassess-form"' not in body and "<svg" not in body


def test_a_reassessment_with_another_level_is_highlighted_on_the_tab(
    team: Client, case: Case, member: Any, leader: Any
) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    decided(case, leader, VERY_SERIOUS, "high", previous=first)
    body = team.get(url("case", case)).content.decode()
    assert "Level changed: Moderate → High" in body
    assert body.count('data-testid="history-change"') == 1 and "(higher)" in body


def test_starting_an_assessment_redirects_to_its_page(team: Client, case: Case) -> None:
    response = team.post(url("start", case), {"instrument": CHECKLIST})
    assessment = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", case, assessment)
    assert assessment.instrument_id == CHECKLIST


def test_reassessing_from_the_tab_links_the_previous_decision(team: Client, case: Case, member: Any) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    response = team.post(url("start", case), {"instrument": TREE, "previous": str(first.pk)})
    again = Assessment.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and again.previous == first
    body = team.get(url("detail", case, again)).content.decode()
    assert 'data-testid="previous-decision"' in body and "Moderate" in body and RATIONALE in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"instrument": "no-such-thing"}, "is not an instrument your district uses"),
        ({"instrument": ""}, "Choose an instrument."),
        ({"instrument": TREE, "version": "9"}, "has no version 9"),
        ({"instrument": TREE, "version": "two"}, "check the form"),
        ({"instrument": TREE, "previous": "123456"}, "Only a decided assessment of this case can be reassessed."),
    ],
)
def test_a_bad_start_is_a_400_with_the_message(team: Client, case: Case, data: dict[str, str], message: str) -> None:
    response = team.post(url("start", case), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Assessment.objects.exists()


def test_the_tab_answers_get_only_and_start_post_only(team: Client, case: Case) -> None:
    assert team.post(url("case", case)).status_code == 405
    assert team.get(url("start", case)).status_code == 405


# The assessment page -----------------------------------------------------------------------------
def test_a_decision_tree_page_is_built_from_the_definition(team: Client, case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, {"step-1-evaluate": "intent-or-unclear"})
    response = team.get(url("detail", case, assessment))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Evaluate the threat." in body  # step 1's text from the file
    assert checked(body, "step-step-1-evaluate") == "intent-or-unclear"
    assert 'data-testid="next-step"' in body and "Next: Step 3." in body
    assert 'data-testid="path"' in body and "When in doubt, treat it as substantive." in body
    assert 'name="level" value="imminent"' in body and "needs a leader" in body
    assert f'name="revision" value="{assessment.revision}"' in body
    assert views_of(case)[-1].detail["tab"] == "assessments"


def test_the_checklist_and_the_themes_pages_render(team: Client, case: Case, member: Any) -> None:
    checklist = start(case, member, instrument_id=CHECKLIST)
    body = team.get(url("detail", case, checklist)).content.decode()
    assert 'name="item-immediate-danger"' in body and 'type="date"' in body and "<textarea" in body
    themes = start(case, member, instrument_id=THEMES)
    body = team.get(url("detail", case, themes)).content.decode()
    assert 'name="theme-motives-finding"' in body and 'name="theme-motives-0-source"' in body
    assert "Protective factor" in body and "This instrument does not suggest a level" in body


def test_a_plain_save_merges_the_answers_and_redirects(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    response = team.post(url("save", case, assessment), tree_form(assessment, {"step-1-evaluate": "expression-only"}))
    assert response.status_code == 302 and response["Location"] == url("detail", case, assessment)
    assessment.refresh_from_db()
    assert assessment.answers == {"step-1-evaluate": "expression-only"} and assessment.revision == 1
    body = team.get(url("detail", case, assessment)).content.decode()
    assert "Saved: 1 answer changed." in body


def test_an_htmx_save_returns_the_work_panel_with_the_new_revision(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    response = team.post(url("save", case, assessment), tree_form(assessment, SERIOUS), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="assess-work"') and "<html" not in body
    assert 'data-testid="assess-notice"' in body and 'value="2"' not in body
    assert 'id="decide-revision" value="1" hx-swap-oob="true"' in body
    assert "Substantive, serious" in body or "serious" in body.lower()
    assessment.refresh_from_db()
    assert assessment.answers == SERIOUS and assessment.revision == 1


def test_several_members_contribute_and_the_page_says_who(team: Client, case: Case, member: Any, leader: Any) -> None:
    assessment = start(case, member)
    team.post(url("save", case, assessment), tree_form(assessment, {"step-1-evaluate": "intent-or-unclear"}))
    signed_in(leader).post(
        url("save", case, assessment), tree_form(assessment, {"step-3-respond": "hurt-without-weapon"})
    )
    assessment.refresh_from_db()
    assert assessment.answers == SERIOUS
    assert [c.user for c in Contribution.objects.order_by("at", "pk")] == [member, leader]
    body = team.get(url("detail", case, assessment)).content.decode()
    assert f"{leader} saved 1 answer" in body and f"{member} saved 1 answer" in body


@pytest.mark.parametrize("htmx", [False, True])
def test_a_stale_save_is_refused_and_the_posted_answers_come_back(
    case: Case, member: Any, leader: Any, htmx: bool
) -> None:
    assessment = start(case, member)
    stale = tree_form(assessment, {"step-1-evaluate": "intent-or-unclear"})
    answer(assessment, leader, {"step-1-evaluate": "expression-only"})
    response = signed_in(member).post(url("save", case, assessment), stale, headers=HTMX if htmx else {})
    assert response.status_code == (200 if htmx else 400)
    body = response.content.decode()
    assert "Someone saved this assessment after you opened it" in body
    assert checked(body, "step-step-1-evaluate") == "intent-or-unclear"  # what the user posted
    assert 'data-testid="differences"' in body and "Step 1" in body
    assert 'name="revision" value="1"' in body  # saving again now overwrites knowingly
    assessment.refresh_from_db()
    assert assessment.answers == {"step-1-evaluate": "expression-only"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"step-step-9": "yes"}, "These answers are not part of version 1"),
        ({"step-step-1-evaluate": "perhaps"}, "is not one of the answers"),
        ({"version": "2"}, "These answers are for version 2 of"),
        ({"revision": ""}, "its revision is missing"),
        ({"version": "v1"}, "instrument version could not be read"),
    ],
)
def test_bad_answers_are_a_400_and_nothing_is_saved(
    team: Client, case: Case, member: Any, extra: dict[str, str], message: str
) -> None:
    assessment = start(case, member)
    data = {**tree_form(assessment, {"step-1-evaluate": "expression-only"}), **extra}
    response = team.post(url("save", case, assessment), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.answers == {} and assessment.revision == 0 and not Contribution.objects.exists()


def test_themes_evidence_is_saved_and_an_incomplete_entry_is_refused_with_the_values_kept(
    team: Client, case: Case, member: Any
) -> None:
    assessment = start(case, member, instrument_id=THEMES)
    base = {"revision": "0", "version": "1", "theme-motives-rows": "1"}
    bad = {
        **base,
        "theme-motives-finding": "concern",
        "theme-motives-0-text": "Wrote about a grudge",
        "theme-motives-0-source": "",
        "theme-motives-0-date": "2025-02-30",
    }
    response = team.post(url("save", case, assessment), bad)
    body = response.content.decode()
    assert response.status_code == 400 and "Say where it comes from." in body and "is not a date" in body
    assert "Wrote about a grudge" in body
    good = {**bad, "theme-motives-0-source": "Journal seen by a teacher", "theme-motives-0-date": "2025-02-03"}
    assert team.post(url("save", case, assessment), good).status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {
        "motives": {
            "finding": "concern",
            "evidence": [{"text": "Wrote about a grudge", "source": "Journal seen by a teacher", "date": "2025-02-03"}],
        }
    }
    body = team.get(url("detail", case, assessment)).content.decode()
    assert 'name="theme-motives-1-text"' in body  # a new empty row for more evidence
    assert "Concern: Motives and goals" in body


def test_the_checklist_saves_dates_and_text_and_refuses_a_future_date(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member, instrument_id=CHECKLIST)
    data = {"revision": "0", "version": "1", "item-immediate-danger": "no", "item-first-known-on": "2999-01-01"}
    response = team.post(url("save", case, assessment), data)
    assert response.status_code == 400 and "The date cannot be in the future." in response.content.decode()
    data.update({"item-first-known-on": "2025-01-06", "item-exact-words": "You'll see on Friday."})
    assert team.post(url("save", case, assessment), data).status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {
        "immediate-danger": "no",
        "first-known-on": "2025-01-06",
        "exact-words": "You'll see on Friday.",
    }


def test_the_live_suggestion_shows_the_path_without_saving_or_auditing(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    before = len(views_of(case))
    response = team.post(url("preview", case, assessment), tree_form(assessment, TRANSIENT), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<section id="assess-evaluation"')
    assert 'data-testid="preview-note"' in body and "Transient" in body and "Low" in body
    assert len(views_of(case)) == before
    assessment.refresh_from_db()
    assert assessment.answers == {} and assessment.revision == 0
    plain = team.post(url("preview", case, assessment), tree_form(assessment, TRANSIENT))
    assert plain.status_code == 200 and "Not saved yet" in plain.content.decode()
    assert checked(plain.content.decode(), "step-step-2-resolve") == "resolved"


def test_a_bad_preview_shows_the_message(team: Client, case: Case, member: Any) -> None:
    assessment = start(case, member)
    response = team.post(
        url("preview", case, assessment), tree_form(assessment, {"step-1-evaluate": "sideways"}), headers=HTMX
    )
    assert response.status_code == 200 and "is not one of the answers" in response.content.decode()


# The decision ------------------------------------------------------------------------------------
NO_REVISION = "The form is incomplete (its revision is missing): reload the page."


def decision(level: str, rationale: str = RATIONALE, override: str = "", revision: int | None = 1) -> dict[str, str]:
    """A decision form's fields (``revision`` 1: the page of an assessment answered once; None: left out)."""
    data = {"level": level, "rationale": rationale, "override_reason": override}
    if revision is not None:
        data["revision"] = str(revision)
    return data


def test_recording_a_decision_shows_it_on_the_page(team: Client, case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    response = team.post(url("decide", case, assessment), decision("moderate", revision=1))
    assert response.status_code == 302
    body = team.get(url("detail", case, assessment)).content.decode()
    assert "Decision recorded: the case&#x27;s level is now Moderate." in body
    assert 'data-testid="decided-level"' in body and RATIONALE in body
    assert "Suggestion when the decision was recorded" in body and 'name="step-' not in body
    assert "Intent" in body or "intent" in body  # the answers, read-only


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (decision("low"), "differs from the suggested level (Moderate): give the reason"),
        (decision("moderate", rationale=""), "Write the rationale of the decision."),
        (decision("purple"), "“purple” is not a level of your district&#x27;s scheme"),
        (decision(""), "Choose a level."),
        (decision("moderate", revision=0), "The answers changed after you opened the page"),
        (decision("moderate", revision=None), NO_REVISION),
        ({**decision("moderate"), "revision": ""}, NO_REVISION),
        ({**decision("moderate"), "revision": "x"}, NO_REVISION),
    ],
)
def test_a_bad_decision_is_a_400_and_the_form_keeps_what_was_typed(
    team: Client, case: Case, member: Any, data: dict[str, str], message: str
) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    data = {**data, "override_reason": data.get("override_reason") or "Typed before the refusal"}
    if "differs" in message:
        data["override_reason"] = ""
    response = team.post(url("decide", case, assessment), data)
    body = response.content.decode()
    assert response.status_code == 400 and message in body
    if data["rationale"]:
        assert RATIONALE in body
    assessment.refresh_from_db()
    assert assessment.status == S.DRAFT and not LevelChange.objects.exists()


def test_approval_by_a_leader_through_the_page(case: Case, member: Any, leader: Any) -> None:
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    member_page = signed_in(member).get(url("detail", case, assessment)).content.decode()
    assert "Waiting for a team leader" in member_page and 'data-testid="approval-forms"' not in member_page
    refused = signed_in(member).post(url("approve", case, assessment))
    assert refused.status_code == 400 and "Only a team leader" in refused.content.decode()
    boss = signed_in(leader)
    assert 'data-testid="approval-forms"' in boss.get(url("detail", case, assessment)).content.decode()
    assert boss.post(url("approve", case, assessment)).status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == S.DECIDED and Case.objects.get(pk=case.pk).risk_level == "high"
    twice = boss.post(url("approve", case, assessment))
    assert twice.status_code == 400 and "already decided" in twice.content.decode()


def test_declining_needs_a_reason(case: Case, member: Any, leader: Any) -> None:
    assessment = decide(answer(start(case, member), member, VERY_SERIOUS), member, "high")
    boss = signed_in(leader)
    empty = boss.post(url("decline", case, assessment), {"reason": " "})
    assert empty.status_code == 400 and "Write the reason for declining." in empty.content.decode()
    assert boss.post(url("decline", case, assessment), {"reason": "Talk to the parents first."}).status_code == 302
    body = signed_in(member).get(url("detail", case, assessment)).content.decode()
    assert 'data-testid="declined"' in body and "Talk to the parents first." in body
    assert 'name="step-step-1-evaluate"' in body  # in progress again


def test_dissent_through_the_page(world: Any, case: Case, member: Any) -> None:
    draft = answer(start(case, member), member, SERIOUS)
    colleague = signed_in(world.users[Role.RAPID_RESPONSE])
    refused = colleague.post(url("dissent", case, draft), {"text": "Too early."})
    assert refused.status_code == 400 and "no decision to disagree with" in refused.content.decode()
    decide(draft, member, "moderate")
    empty = colleague.post(url("dissent", case, draft), {"text": ""})
    assert empty.status_code == 400 and "Write what you disagree with." in empty.content.decode()
    assert colleague.post(url("dissent", case, draft), {"text": "The level is too low."}).status_code == 302
    body = colleague.get(url("detail", case, draft)).content.decode()
    assert "The level is too low." in body and Dissent.objects.count() == 1
    assert "1 dissent" in colleague.get(url("case", case)).content.decode()


def test_discarding_through_the_page(team: Client, case: Case, member: Any) -> None:
    draft = start(case, member)
    response = team.post(url("discard", case, draft))
    assert response.status_code == 302 and response["Location"] == url("case", case)
    draft.refresh_from_db()
    assert draft.status == S.DISCARDED
    again = team.post(url("discard", case, draft))
    assert again.status_code == 400 and "was discarded" in again.content.decode()


def test_a_reassessment_that_changes_the_level_is_highlighted_on_its_page(
    team: Client, case: Case, member: Any, leader: Any
) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    second = decided(case, leader, TRANSIENT, "low", previous=first)
    body = team.get(url("detail", case, second)).content.decode()
    assert 'data-testid="level-changed"' in body and "Level changed: Moderate → Low" in body
    assert "lower than the previous decision" in body
    same = decided(case, member, TRANSIENT, "low", previous=second)
    assert "Level changed" not in team.get(url("detail", case, same)).content.decode()


def test_a_decided_assessment_renders_with_its_own_version(world: Any, team: Client, case: Case, member: Any) -> None:
    old = decided(case, member, SERIOUS, "moderate")
    publish_tree_v2(world.district, member, step_text="Version two: evaluate the threat.")
    new = start(case, member, previous=old)
    assert new.instrument_version == 2
    old_page = team.get(url("detail", case, old)).content.decode()
    assert "Evaluate the threat. Given the exact words" in old_page and "Version two" not in old_page
    assert "version 1" in old_page
    new_page = team.get(url("detail", case, new)).content.decode()
    assert "Version two: evaluate the threat." in new_page and "version 2" in new_page
    # Answers posted for version 1 to the version 2 assessment are refused.
    response = team.post(url("save", case, new), {**tree_form(new, TRANSIENT), "version": "1"})
    assert response.status_code == 400 and "These answers are for version 1 of" in response.content.decode()


# Access ------------------------------------------------------------------------------------------
def test_a_read_only_school_reads_but_cannot_post(world: Any, case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    give_read_access(case, world.other_school, member)
    reader = signed_in(school_member(world, world.other_school))
    page = reader.get(url("detail", case, assessment))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="step-step-1-evaluate"' not in body and "Record the decision" not in body
    assert reader.get(url("case", case)).status_code == 200
    for name in ("save", "preview", "decide", "approve", "decline", "dissent", "discard"):
        assert reader.post(url(name, case, assessment), tree_form(assessment, TRANSIENT)).status_code == 403, name
    assert reader.post(url("start", case), {"instrument": TREE}).status_code == 403
    assessment.refresh_from_db()
    assert assessment.answers == SERIOUS


def test_another_schools_member_gets_404_everywhere(world: Any, case: Case, member: Any) -> None:
    assessment = start(case, member)
    stranger = signed_in(school_member(world, world.other_school))
    assert stranger.get(url("case", case)).status_code == 404
    assert stranger.get(url("detail", case, assessment)).status_code == 404
    for name in ("save", "preview", "decide", "approve", "decline", "dissent", "discard"):
        assert stranger.post(url(name, case, assessment), {}).status_code == 404, name
    assert stranger.post(url("start", case), {"instrument": TREE}).status_code == 404
    outsider = signed_in(world.outsider)
    assert outsider.get(url("detail", case, assessment)).status_code == 404


def test_an_assessment_of_another_case_is_a_404(world: Any, team: Client, case: Case, member: Any) -> None:
    other = open_case(world, actor=member)
    assessment = start(other, member)
    assert team.get(url("detail", case, assessment)).status_code == 404
    assert team.post(url("save", case, assessment), tree_form(assessment, TRANSIENT)).status_code == 404


def test_a_closed_case_shows_the_record_and_refuses_changes(world: Any, team: Client, case: Case, member: Any) -> None:
    assessment = answer(start(case, member), member, SERIOUS)
    close(case, world)
    body = team.get(url("detail", case, assessment)).content.decode()
    assert 'name="step-step-1-evaluate"' not in body and "Record the decision" not in body
    response = team.post(url("decide", case, assessment), decision("moderate"))
    body = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'data-testid="assess-error">This case is closed\. Reopen it to change it\.<', body)


# Query counts ------------------------------------------------------------------------------------
def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_tab_and_the_page_do_not_query_per_assessment_or_level_change(
    world: Any, team: Client, case: Case, member: Any, leader: Any
) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    draft = start(case, member, instrument_id=THEMES)
    queries(team, url("case", case))  # the session's first request costs a few queries of its own
    tab_few, page_few = queries(team, url("case", case)), queries(team, url("detail", case, draft))
    previous = first
    for answers, level in ((TRANSIENT, "low"), (SERIOUS, "moderate"), (VERY_SERIOUS, "high"), (TRANSIENT, "low")):
        previous = decided(case, leader, answers, level, previous=previous)
        decision_actions.do_record_dissent(actor=member, assessment=previous, text="Noted.")
    answer(draft, leader, {"motives": {"finding": "not_yet_known"}})
    answer(draft, member, {"capacity": {"finding": "no_concern"}})
    assert LevelChange.objects.count() == 5
    assert queries(team, url("case", case)) == tab_few
    assert queries(team, url("detail", case, draft)) == page_few
    assert queries(team, url("detail", case, previous)) <= page_few + 2
