"""The evaluation engine: every path through the decision tree, the screening rules, the themes (no
score, only gaps and findings), and clear messages for answers that do not fit."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.utils import translation

from btam.assessments import definitions, engine
from btam.assessments.definitions import Instrument, load_definition
from btam.assessments.engine import AnswersError, evaluate, load_answers, validate_answers


def instrument(instrument_id: str) -> Instrument:
    return definitions.builtin().instrument(instrument_id)


# ---------------------------------------------------------------------------------------------
# Decision tree
# ---------------------------------------------------------------------------------------------

TREE_ID = "cstag-decision-tree"
S1, S2, S3, S4, S5 = (
    "step-1-evaluate",
    "step-2-resolve",
    "step-3-respond",
    "step-4-safety-evaluation",
    "step-5-safety-plan",
)
TRANSIENT, SERIOUS, VERY_SERIOUS = "transient", "substantive-serious", "substantive-very-serious"

# The protocol, written out by hand: each path (step, answer)... and where it must end.
_TO_STEP_3 = [
    ((S1, "intent-or-unclear"),),
    ((S1, "expression-only"), (S2, "not-resolved")),
]
EXPECTED_PATHS: dict[tuple[tuple[str, str], ...], str] = {
    ((S1, "expression-only"), (S2, "resolved")): TRANSIENT,
    **{(*before, (S3, "hurt-without-weapon")): SERIOUS for before in _TO_STEP_3},
    **{
        (*before, (S3, harm), (S4, precautions), (S5, plan)): VERY_SERIOUS
        for before, harm, precautions, plan in itertools.product(
            _TO_STEP_3,
            ("kill-weapon-serious-injury", "not-sure"),
            ("precautions-taken", "precautions-pending"),
            ("plan-in-place", "plan-pending"),
        )
    },
}


def tree_paths(tree: Instrument) -> list[tuple[tuple[tuple[str, str], ...], str, list[str]]]:
    """Every path of the definition from its start: ((step, answer)...), the outcome, the reasons."""
    found: list[tuple[tuple[tuple[str, str], ...], str, list[str]]] = []

    def walk(step_id: str, path: tuple[tuple[str, str], ...], reasons: list[str]) -> None:
        for option in tree.step(step_id).options:
            here = (*path, (step_id, option.value))
            why = [*reasons, str(option.reason)]
            if option.outcome:
                found.append((here, option.outcome, why))
            else:
                assert option.next
                walk(option.next, here, why)

    assert tree.start
    walk(tree.start, (), [])
    return found


def test_the_tree_has_exactly_the_expected_paths() -> None:
    paths = tree_paths(instrument(TREE_ID))
    assert len(paths) == 19
    assert {path: outcome for path, outcome, _reasons in paths} == EXPECTED_PATHS


ALL_TREE_PATHS = [
    (tree.id, path, outcome, reasons)
    for tree in definitions.builtin().instruments()
    if tree.kind == "decision_tree"
    for path, outcome, reasons in tree_paths(tree)
]


@pytest.mark.parametrize(
    ("tree_id", "path", "outcome", "reasons"),
    ALL_TREE_PATHS,
    ids=[f"{tree_id}:" + "/".join(answer for _step, answer in path) for tree_id, path, _o, _r in ALL_TREE_PATHS],
)
def test_every_path_ends_at_its_outcome_with_its_reasons(
    tree_id: str, path: tuple[tuple[str, str], ...], outcome: str, reasons: list[str]
) -> None:
    tree = instrument(tree_id)
    result = evaluate(tree, dict(path))
    if tree_id == TREE_ID:
        assert EXPECTED_PATHS[path] == outcome
    assert result.complete
    assert result.outcome == outcome
    assert result.outcome_label == str(tree.outcome(outcome).label)
    assert [(step.step, step.answer) for step in result.path] == list(path)
    assert [step.number for step in result.path] == [tree.step(step_id).step for step_id, _ in path]
    assert result.reasons == reasons
    assert [step.reason for step in result.path] == reasons
    assert result.path[-1].outcome == outcome
    assert all(step.next == later[0] for step, later in zip(result.path, path[1:], strict=False))
    assert result.next_step is None
    assert result.missing == []


def test_when_in_doubt_it_is_substantive() -> None:
    for path, outcome, _reasons in tree_paths(instrument(TREE_ID)):
        answers = dict(path)
        if answers.get(S1) == "intent-or-unclear" or answers.get(S2) == "not-resolved":
            assert outcome != TRANSIENT
        if answers.get(S3) == "not-sure":
            assert outcome == VERY_SERIOUS


def test_an_unanswered_tree_asks_the_first_step() -> None:
    result = evaluate(instrument(TREE_ID), {})
    assert (result.complete, result.outcome, result.outcome_label) == (False, None, "")
    assert result.next_step == S1
    assert result.path == []
    assert result.missing == [S1]


@pytest.mark.parametrize(
    ("answers", "next_step"),
    [
        ({S1: "expression-only"}, S2),
        ({S1: "intent-or-unclear"}, S3),
        ({S1: "intent-or-unclear", S3: "not-sure"}, S4),
        ({S1: "intent-or-unclear", S3: "not-sure", S4: "precautions-pending"}, S5),
        ({S1: "intent-or-unclear", S3: "", S4: "precautions-pending"}, S3),  # "" is not answered yet
        ({S1: "intent-or-unclear", S3: None}, S3),
    ],
)
def test_a_partly_answered_tree_names_the_next_step(answers: dict[str, Any], next_step: str) -> None:
    result = evaluate(instrument(TREE_ID), answers)
    assert not result.complete
    assert result.outcome is None
    assert result.next_step == next_step
    assert [step.reason for step in result.path] == result.reasons


def test_answers_off_the_path_are_not_used() -> None:
    # Step 1 was changed after step 2 had been answered: step 2 no longer applies.
    result = evaluate(instrument(TREE_ID), {S1: "intent-or-unclear", S2: "resolved", S3: "hurt-without-weapon"})
    assert result.outcome == SERIOUS
    assert [step.step for step in result.path] == [S1, S3]


def test_the_tree_reads_in_spanish() -> None:
    with translation.override("es"):
        result = evaluate(instrument(TREE_ID), {S1: "expression-only", S2: "resolved"})
    assert result.outcome_label == "Amenaza transitoria"
    assert result.path[1].answer_label == "Sí, está resuelta"
    assert result.reasons[0].startswith("La amenaza no parece")


def test_bad_tree_answers_are_refused_with_clear_messages() -> None:
    tree = instrument(TREE_ID)
    answers = {S1: "maybe", "step-6": "yes", S2: 1}
    messages = validate_answers(tree, answers)
    assert messages == [
        '"step-1-evaluate": "maybe" is not one of the answers (expression-only, intent-or-unclear).',
        '"step-6" is not a step of version 1 of "cstag-decision-tree".',
        '"step-2-resolve": 1 is not one of the answers (resolved, not-resolved).',
    ]
    with pytest.raises(AnswersError) as caught:
        evaluate(tree, answers)
    assert caught.value.messages == messages


# ---------------------------------------------------------------------------------------------
# Screening checklist
# ---------------------------------------------------------------------------------------------

CHECKLIST_ID = "screening-checklist"
ALL_CLEAR: dict[str, Any] = {
    "immediate-danger": "no",
    "exact-words": "Synthetic: said it was a joke about a video game.",
    "threat-communicated": "no",
    "target-identified": "no",
    "resolved-on-the-spot": "resolved",
    "weapon-involved": "no",
    "weapon-access": "no",
    "plan-described": "no",
    "preparation-seen": "no",
    "self-harm-signs": "no",
    "others-worried": "no",
    "earlier-concerns": "no",
}


def test_all_clear_suggests_no_further_action() -> None:
    checklist = instrument(CHECKLIST_ID)
    result = evaluate(checklist, ALL_CLEAR)
    assert result.complete
    assert result.outcome == "no_further_action"
    assert result.outcome_label == "No further action"
    assert result.reasons == [str(checklist.default_reason)]
    assert result.path == []
    assert result.next_step is None


def test_the_optional_date_is_not_needed() -> None:
    assert "first-known-on" not in ALL_CLEAR
    assert evaluate(instrument(CHECKLIST_ID), ALL_CLEAR).complete


@pytest.mark.parametrize("rule", definitions.builtin().instrument(CHECKLIST_ID).rules, ids=lambda rule: rule.id)
def test_each_rule_calls_for_an_evaluation(rule: definitions.Rule) -> None:
    answers = dict(ALL_CLEAR)
    for condition in rule.conditions:
        answers[condition.item] = condition.answers[0]
    result = evaluate(instrument(CHECKLIST_ID), answers)
    assert result.outcome == rule.outcome == "evaluate"
    assert str(rule.reason) in result.reasons


@pytest.mark.parametrize(
    "item", ["weapon-involved", "weapon-access", "plan-described", "preparation-seen", "threat-communicated"]
)
def test_unknown_on_a_key_item_means_evaluate(item: str) -> None:
    result = evaluate(instrument(CHECKLIST_ID), {**ALL_CLEAR, item: "unknown"})
    assert result.outcome == "evaluate"
    assert any("When in doubt, evaluate" in reason for reason in result.reasons)


def test_a_threat_without_a_target_resolved_on_the_spot_needs_no_evaluation() -> None:
    result = evaluate(instrument(CHECKLIST_ID), {**ALL_CLEAR, "threat-communicated": "yes"})
    assert result.outcome == "no_further_action"


def test_a_threat_with_a_target_needs_an_evaluation() -> None:
    answers = {**ALL_CLEAR, "threat-communicated": "yes", "target-identified": "yes"}
    result = evaluate(instrument(CHECKLIST_ID), answers)
    assert result.outcome == "evaluate"
    assert result.reasons == ["A threat was made and it names, or may point to, a specific target."]


def test_every_matching_rule_gives_its_reason_in_order() -> None:
    answers = {**ALL_CLEAR, "immediate-danger": "yes", "weapon-access": "yes", "self-harm-signs": "unknown"}
    result = evaluate(instrument(CHECKLIST_ID), answers)
    assert [reason.split(":")[0].split(",")[0] for reason in result.reasons] == [
        "Someone may be in immediate danger",
        "A weapon",
        "There may be signs of suicidal thoughts or self-harm",
    ]


def test_a_weapon_calls_for_an_evaluation_before_the_rest_is_answered() -> None:
    result = evaluate(instrument(CHECKLIST_ID), {"weapon-access": "yes"})
    assert not result.complete
    assert result.outcome == "evaluate"
    assert result.reasons == ["A weapon, access to a weapon, a plan or preparation is involved."]
    assert "immediate-danger" in result.missing
    assert "first-known-on" not in result.missing  # optional


def test_no_further_action_is_never_suggested_before_everything_is_answered() -> None:
    answers = {key: value for key, value in ALL_CLEAR.items() if key != "earlier-concerns"}
    result = evaluate(instrument(CHECKLIST_ID), answers)
    assert (result.complete, result.outcome, result.reasons, result.missing) == (False, None, [], ["earlier-concerns"])
    blank = evaluate(instrument(CHECKLIST_ID), {**ALL_CLEAR, "exact-words": ""})
    assert (blank.complete, blank.outcome, blank.missing) == (False, None, ["exact-words"])


def _two_outcome_checklist() -> Instrument:
    """Rule order matters: "urgent" (on item a) comes before "review" (on item b)."""
    data = {
        "id": "two-rules",
        "version": 1,
        "kind": "checklist",
        "title": "Two rules",
        "description": "Test",
        "sections": [
            {
                "id": "s",
                "title": "S",
                "items": [
                    {"id": "a", "text": "A?", "answer": "yes_no_unknown"},
                    {"id": "b", "text": "B?", "answer": "yes_no_unknown"},
                ],
            }
        ],
        "rules": [
            {"id": "r1", "outcome": "urgent", "conditions": [{"item": "a", "answers": ["yes"]}], "reason": "A"},
            {"id": "r2", "outcome": "review", "conditions": [{"item": "b", "answers": ["yes"]}], "reason": "B"},
        ],
        "default": {"outcome": "none", "reason": "Nothing"},
        "outcomes": [
            {"id": "urgent", "label": "Urgent"},
            {"id": "review", "label": "Review"},
            {"id": "none", "label": "None"},
        ],
    }
    checklist = load_definition(data, source="test")
    assert isinstance(checklist, Instrument)
    return checklist


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ({"b": "yes"}, None),  # "a" could still make it urgent
        ({"a": "no", "b": "yes"}, "review"),
        ({"a": "yes"}, "urgent"),
        ({"a": "yes", "b": "yes"}, "urgent"),
        ({"a": "no", "b": "no"}, "none"),
        ({"a": "no"}, None),
    ],
)
def test_a_later_rule_waits_for_an_earlier_one_with_another_outcome(
    answers: dict[str, str], outcome: str | None
) -> None:
    assert evaluate(_two_outcome_checklist(), answers).outcome == outcome


def test_bad_checklist_answers_are_refused_with_clear_messages() -> None:
    checklist = instrument(CHECKLIST_ID)
    messages = validate_answers(
        checklist,
        {
            "weapon-access": "maybe",
            "resolved-on-the-spot": "yes",
            "gun-at-home": "yes",
            "first-known-on": "2025-02-30",
            "exact-words": ["not", "text"],
        },
    )
    assert messages == [
        '"weapon-access": "maybe" is not one of the answers (yes, no, unknown).',
        '"resolved-on-the-spot": "yes" is not one of the answers (resolved, partly, not-resolved).',
        '"gun-at-home" is not a question of version 1 of "screening-checklist".',
        '"first-known-on": "2025-02-30" is not a date (write it as YYYY-MM-DD).',
        '"exact-words": the answer must be text.',
    ]


def test_dates_and_texts_are_checked() -> None:
    checklist = instrument(CHECKLIST_ID)
    assert validate_answers(checklist, {"first-known-on": "2999-01-01"}) == [
        '"first-known-on": the date 2999-01-01 is in the future.'
    ]
    assert validate_answers(checklist, {"first-known-on": "20250301"}) == [
        '"first-known-on": "20250301" is not a date (write it as YYYY-MM-DD).'
    ]
    assert validate_answers(checklist, {"first-known-on": 20250301}) == [
        '"first-known-on": the date must be written as YYYY-MM-DD.'
    ]
    too_long = "x" * (engine.MAX_TEXT + 1)
    assert validate_answers(checklist, {"exact-words": too_long}) == ['"exact-words": at most 10,000 characters.']
    assert validate_answers(checklist, {"first-known-on": "2025-03-01", "exact-words": "ok"}) == []


def test_dates_follow_the_clock(clock: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate(clock.now())
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    checklist = instrument(CHECKLIST_ID)
    assert validate_answers(checklist, {"first-known-on": tomorrow})
    clock.advance(days=2)
    try:
        assert validate_answers(checklist, {"first-known-on": tomorrow}) == []
    finally:
        clock.reset()


@pytest.mark.parametrize("answers", [[], "yes", None, 3])
def test_answers_must_be_an_object(answers: Any) -> None:
    for instrument_id in (CHECKLIST_ID, TREE_ID, THEMES_ID):
        assert validate_answers(instrument(instrument_id), answers) == [
            "The answers must be an object that maps each question to its answer."
        ]


# ---------------------------------------------------------------------------------------------
# Themes
# ---------------------------------------------------------------------------------------------

THEMES_ID = "ntac-themes"


def _evidence(text: str = "Synthetic note.") -> list[dict[str, str]]:
    return [{"text": text, "source": "Interview with a teacher", "date": "2025-03-01"}]


def _all_themes(finding: str = "no_concern") -> dict[str, Any]:
    return {theme.id: {"finding": finding, "evidence": _evidence()} for theme in instrument(THEMES_ID).themes}


def test_every_theme_documented_is_complete_and_never_scored() -> None:
    result = evaluate(instrument(THEMES_ID), _all_themes())
    assert result.complete
    assert result.outcome == "information_complete"
    assert result.outcome_label == "Every theme looked at"
    assert result.missing == []
    assert result.reasons == [
        "Protective factor in place: A trusting relationship with an adult",
        "Protective factor in place: Connection and belonging",
        "Protective factor in place: Openness to help",
    ]
    flat = json.dumps(result.as_dict())
    assert "score" not in flat
    assert "level" not in flat


def test_the_reasons_list_concerns_protective_factors_and_gaps() -> None:
    answers = _all_themes()
    answers["weapon-access"] = {"finding": "concern", "evidence": _evidence()}
    answers["motives"] = {"finding": "not_yet_known", "evidence": []}
    answers["capacity"] = {"finding": "concern"}  # a finding without evidence is a gap
    del answers["consistency"]  # not looked at
    answers["trusted-adult"] = {"finding": "concern", "evidence": _evidence()}
    result = evaluate(instrument(THEMES_ID), answers)
    assert not result.complete
    assert result.outcome == "information_gaps"
    assert result.outcome_label == "Information gaps"
    assert result.reasons == [
        "Concern: Access to weapons",
        "Protective factor missing or weak: A trusting relationship with an adult",
        "Protective factor in place: Connection and belonging",
        "Protective factor in place: Openness to help",
        "Not yet looked at: Motives and goals",
        "A finding without evidence: Capacity to carry out an attack",
        "Not yet looked at: Consistency between statements and actions",
    ]
    assert result.missing == ["motives", "capacity", "consistency"]


def test_nothing_answered_is_all_gaps() -> None:
    themes = instrument(THEMES_ID)
    result = evaluate(themes, {})
    assert result.outcome == "information_gaps"
    assert result.missing == [theme.id for theme in themes.themes]
    assert evaluate(themes, {"motives": None}).missing == result.missing


def test_bad_theme_answers_are_refused_with_clear_messages() -> None:
    messages = validate_answers(
        instrument(THEMES_ID),
        {
            "motives": {"finding": "high", "evidence": [{"text": "x", "date": "2025-03-01"}], "score": 3},
            "grudges": {"finding": "concern"},
            "capacity": "concern",
            "stressors": {"evidence": "a note"},
            "consistency": {"evidence": [{"text": " ", "source": "Teacher", "date": "2999-01-01", "by": "me"}, "x"]},
        },
    )
    assert messages == [
        '"motives": unknown field "score".',
        '"motives": "high" is not a finding (concern, no_concern, not_yet_known).',
        '"motives" evidence 1: "source" is required.',
        '"grudges" is not a theme of version 1 of "ntac-themes".',
        '"capacity": the answer must be an object with "finding" and "evidence".',
        '"stressors": "evidence" must be a list.',
        '"consistency" evidence 1: unknown field "by".',
        '"consistency" evidence 1: "text" is required.',
        '"consistency" evidence 1 "date": the date 2999-01-01 is in the future.',
        '"consistency" evidence 2: must be an object with "text", "source" and "date".',
    ]


# ---------------------------------------------------------------------------------------------
# Answers files and the result
# ---------------------------------------------------------------------------------------------


def test_load_answers_checks_the_instrument_and_its_version() -> None:
    tree = instrument(TREE_ID)
    inner = {S1: "expression-only"}
    assert load_answers({"instrument": TREE_ID, "version": 1, "answers": inner}, tree) == inner
    cases: list[tuple[object, list[str]]] = [
        (
            {"instrument": TREE_ID, "version": 2, "answers": inner},
            ['These answers are for version 2 of "cstag-decision-tree"; this is version 1.'],
        ),
        (
            {"instrument": CHECKLIST_ID, "version": 1, "answers": inner},
            ['These answers are for "screening-checklist", not "cstag-decision-tree".'],
        ),
        ({"instrument": TREE_ID, "version": "1", "answers": inner}, ['"version" must be a whole number.']),
        ({"instrument": TREE_ID, "version": True, "answers": inner}, ['"version" must be a whole number.']),
        (
            {"instrument": TREE_ID, "answers": inner, "notes": "x"},
            ['Unknown field "notes" in the answers file.', 'The answers file has no "version".'],
        ),
        ([inner], ['An answers file is a JSON object with "instrument", "version" and "answers".']),
        (
            {"instrument": TREE_ID, "version": 1, "answers": {S1: "no"}},
            ['"step-1-evaluate": "no" is not one of the answers (expression-only, intent-or-unclear).'],
        ),
    ]
    for data, messages in cases:
        with pytest.raises(AnswersError) as caught:
            load_answers(data, tree)
        assert caught.value.messages == messages


def test_the_evaluation_is_json_ready() -> None:
    result = evaluate(instrument(TREE_ID), {S1: "expression-only", S2: "resolved"})
    data = json.loads(json.dumps(result.as_dict()))
    assert data["instrument_id"] == TREE_ID
    assert data["version"] == 1
    assert data["outcome"] == TRANSIENT
    assert data["path"][0]["step"] == S1
    assert data["path"][1]["outcome"] == TRANSIENT
    assert set(data) == {
        "instrument_id",
        "version",
        "complete",
        "outcome",
        "outcome_label",
        "reasons",
        "path",
        "next_step",
        "missing",
    }


# ---------------------------------------------------------------------------------------------
# Evidence notes on checklist items and tree steps
# ---------------------------------------------------------------------------------------------

NOTE = {"note": "Synthetic: heard by the teacher.", "source": "Teacher's statement", "date": "2025-03-04"}


def _with_notes(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: {"value": value, **NOTE} for key, value in answers.items()}


@pytest.mark.parametrize(
    ("instrument_id", "answers"),
    [
        (TREE_ID, {S1: "intent-or-unclear", S3: "hurt-without-weapon"}),
        (TREE_ID, {S1: "expression-only", S2: "resolved"}),
        (CHECKLIST_ID, ALL_CLEAR),
        (CHECKLIST_ID, {"immediate-danger": "no", "weapon-involved": "yes"}),
    ],
)
def test_answers_with_notes_evaluate_as_the_plain_values(instrument_id: str, answers: dict[str, Any]) -> None:
    plain = evaluate(instrument(instrument_id), answers)
    assert validate_answers(instrument(instrument_id), _with_notes(answers)) == []
    assert evaluate(instrument(instrument_id), _with_notes(answers)) == plain
    # Both forms mixed, and notes of only some of their fields.
    first, *_rest = answers
    mixed = {**answers, first: {"value": answers[first], "source": "Record"}}
    assert evaluate(instrument(instrument_id), mixed) == plain


def test_a_note_without_a_value_is_not_an_answer() -> None:
    tree = instrument(TREE_ID)
    result = evaluate(tree, {S1: {"value": None, **NOTE}})
    assert result.next_step == S1 and result.path == [] and not result.complete
    assert evaluate(tree, {S1: {"note": "Still asking the witnesses."}}).next_step == S1
    checklist = instrument(CHECKLIST_ID)
    notes_only = {**ALL_CLEAR, "weapon-access": {"value": "", "note": "Parents not reached yet."}}
    result = evaluate(checklist, notes_only)
    assert not result.complete and result.missing == ["weapon-access"]


def test_the_note_helpers() -> None:
    assert engine.answer_value("yes") == "yes"
    assert engine.answer_value({"value": "yes", "note": "n"}) == "yes"
    assert engine.answer_value({"note": "n"}) is None
    assert engine.answer_note("yes") == {}
    assert engine.answer_note({"value": "yes", **NOTE, "x": "y"}) == NOTE
    assert engine.answer_note({"value": "yes", "note": "", "source": None}) == {}
    empties: list[object] = [None, "", {}, {"value": None, "note": "", "source": ""}, {"finding": None, "evidence": []}]
    for empty in empties:
        assert engine.is_empty(empty)
    for given in ("no", {"note": "n"}, {"value": "no"}, {"finding": "concern"}, {"unknown": ""}):
        assert not engine.is_empty(given)


def test_bad_notes_are_refused_with_clear_messages() -> None:
    tree = instrument(TREE_ID)
    answers = {
        S1: {"value": "intent-or-unclear", "note": "x" * (engine.MAX_NOTE + 1)},
        S3: {"value": "hurt-without-weapon", "source": "s" * (engine.MAX_NOTE_SOURCE + 1), "date": "2999-01-01"},
        S4: {"value": "precautions-taken", "notes": "a typo", "by": "me"},
        S5: {"value": "plan-in-place", "note": 3, "source": ["a"], "date": "2025-02-30"},
    }
    messages = validate_answers(tree, answers)
    assert messages == [
        '"step-1-evaluate": the note is 2,001 characters long; at most 2,000.',
        '"step-3-respond": the source is 201 characters long; at most 200.',
        '"step-3-respond" date: the date 2999-01-01 is in the future.',
        '"step-4-safety-evaluation": unknown field "by" (an answer with evidence has "value", "note", "source" '
        'and "date").',
        '"step-4-safety-evaluation": unknown field "notes" (an answer with evidence has "value", "note", "source" '
        'and "date").',
        '"step-5-safety-plan": the note must be text.',
        '"step-5-safety-plan": the source must be text.',
        '"step-5-safety-plan" date: "2025-02-30" is not a date (write it as YYYY-MM-DD).',
    ]
    with pytest.raises(AnswersError) as caught:
        evaluate(tree, answers)
    assert caught.value.messages == messages
    # At the limits exactly: fine.
    at_limit = {"value": "intent-or-unclear", "note": "x" * engine.MAX_NOTE, "source": "s" * engine.MAX_NOTE_SOURCE}
    assert validate_answers(tree, {S1: at_limit}) == []


def test_the_value_inside_a_note_is_checked_as_a_plain_value() -> None:
    checklist = instrument(CHECKLIST_ID)
    assert validate_answers(
        checklist,
        {
            "weapon-involved": {"value": "perhaps", **NOTE},
            "exact-words": {"value": 3},
            "first-known-on": {"value": "2999-01-01"},
            "gun-at-home": {"value": "yes"},
        },
    ) == [
        '"weapon-involved": "perhaps" is not one of the answers (yes, no, unknown).',
        '"exact-words": the answer must be text.',
        '"first-known-on": the date 2999-01-01 is in the future.',
        '"gun-at-home" is not a question of version 1 of "screening-checklist".',
    ]


def test_a_note_date_follows_the_clock(clock: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    tomorrow = (timezone.localdate(clock.now()) + dt.timedelta(days=1)).isoformat()
    tree = instrument(TREE_ID)
    answers = {S1: {"value": "expression-only", "date": tomorrow}}
    assert validate_answers(tree, answers) == [f'"step-1-evaluate" date: the date {tomorrow} is in the future.']
    clock.advance(days=2)
    try:
        assert validate_answers(tree, answers) == []
    finally:
        clock.reset()


def test_themes_do_not_take_item_notes() -> None:
    themes = instrument(THEMES_ID)
    assert validate_answers(themes, {"motives": {"value": "concern", "note": "n"}}) == [
        '"motives": unknown field "note".',
        '"motives": unknown field "value".',
    ]


def test_load_answers_takes_notes() -> None:
    tree = instrument(TREE_ID)
    answers = _with_notes({S1: "expression-only", S2: "resolved"})
    data = {"instrument": TREE_ID, "version": 1, "answers": answers}
    assert evaluate(tree, load_answers(data, tree)).outcome == TRANSIENT
    answers[S2]["note"] = "x" * (engine.MAX_NOTE + 1)
    with pytest.raises(AnswersError) as caught:
        load_answers(data, tree)
    assert caught.value.messages == ['"step-2-resolve": the note is 2,001 characters long; at most 2,000.']
