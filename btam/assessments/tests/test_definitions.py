"""The definition files: the shipped ones validate and say what the domain says; every validation rule
refuses a broken file with the file, the field and the reason; the registry and the start-up check."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import checks as django_checks
from django.utils import translation

from btam.assessments import checks, definitions, schema
from btam.assessments.definitions import (
    INSTRUMENTS_DIR,
    KNOWN_INTERVENTION_KINDS,
    DefinitionError,
    Instrument,
    LevelScheme,
    Registry,
    Text,
    load_definition,
    parse_file,
    parse_json,
)

TREE = "cstag-decision-tree.v1.json"
CHECKLIST = "screening-checklist.v1.json"
THEMES = "ntac-themes.v1.json"
VIRGINIA = "virginia.v1.json"
SCHEMES = ("virginia", "florida", "college", "salem-keizer")
NTAC_THEMES = (
    "motives",
    "communications",
    "interest-in-weapons-attacks",
    "weapon-access",
    "stressors",
    "emotional-developmental",
    "desperation-suicidality",
    "violence-acceptable",
    "concern-by-others",
    "capacity",
    "consistency",
)


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((INSTRUMENTS_DIR / name).read_text(encoding="utf-8"))
    return data


def refused(data: object, source: str, **kwargs: Any) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load_definition(data, source=source, **kwargs)
    return caught.value


def text_fields(value: object, path: str = "") -> list[tuple[str, object]]:
    """Every language object ({"en": ...}) of a file, with its path."""
    found: list[tuple[str, object]] = []
    if isinstance(value, dict):
        if "en" in value:
            return [(path, value)]
        for key, child in value.items():
            found += text_fields(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += text_fields(child, f"{path}[{index}]")
    return found


# ---------------------------------------------------------------------------------------------
# The shipped files
# ---------------------------------------------------------------------------------------------


def test_every_shipped_definition_validates() -> None:
    assert definitions.check_all() == []
    registry = definitions.builtin()
    assert sorted(i.id for i in registry.instruments()) == ["cstag-decision-tree", "ntac-themes", "screening-checklist"]
    assert sorted(s.id for s in registry.schemes()) == sorted(SCHEMES)


@pytest.mark.parametrize("path", sorted(INSTRUMENTS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_each_shipped_file_is_named_after_its_id_and_version(path: Path) -> None:
    definition = parse_file(path)
    assert path.name == f"{definition.id}.v{definition.version}.json"


@pytest.mark.parametrize("path", sorted(INSTRUMENTS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_each_shipped_text_has_english_and_spanish(path: Path) -> None:
    fields = text_fields(json.loads(path.read_text(encoding="utf-8")))
    assert fields
    missing = [where for where, value in fields if not isinstance(value, dict) or not value.get("es")]
    assert missing == []


@pytest.mark.parametrize("path", sorted(INSTRUMENTS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_no_shipped_file_scores_anyone(path: Path) -> None:
    keys: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(json.loads(path.read_text(encoding="utf-8")))
    assert not {key for key in keys if "score" in key or "weight" in key or "points" in key}


def test_the_tree_has_five_steps_and_three_outcomes() -> None:
    tree = definitions.builtin().instrument("cstag-decision-tree")
    assert tree.kind == "decision_tree"
    assert [step.step for step in tree.steps] == [1, 2, 3, 4, 5]
    assert [o.id for o in tree.outcomes] == ["transient", "substantive-serious", "substantive-very-serious"]
    assert tree.start == "step-1-evaluate"


def test_the_themes_are_ntacs_eleven_plus_protective_factors() -> None:
    themes = definitions.builtin().instrument("ntac-themes")
    assert tuple(t.id for t in themes.themes if not t.protective) == NTAC_THEMES
    protective = [t for t in themes.themes if t.protective]
    assert len(protective) >= 2
    assert all(theme.prompts for theme in themes.themes)
    assert {o.id for o in themes.outcomes} == {"information_complete", "information_gaps"}
    assert protective[0].finding_choices()[1] == ("no_concern", "In place")


def test_the_screening_checklist_suggests_evaluate_or_no_further_action() -> None:
    checklist = definitions.builtin().instrument("screening-checklist")
    assert {o.id for o in checklist.outcomes} == {"evaluate", "no_further_action"}
    assert checklist.default_outcome == "no_further_action"
    assert {rule.outcome for rule in checklist.rules} == {"evaluate"}
    assert checklist.item("weapon-access").choices() == [("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")]
    assert checklist.item("exact-words").choices() == []


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_each_shipped_scheme_needs_approval_for_its_two_highest_levels(scheme_id: str) -> None:
    scheme = definitions.builtin().scheme(scheme_id)
    approvals = [level.approval for level in scheme.levels]
    assert approvals == [False] * (len(approvals) - 2) + [True, True]
    days = [level.reassess_days for level in scheme.levels]
    assert days == sorted(days, reverse=True)
    for level in scheme.levels:
        assert set(level.required) | set(level.suggested) <= KNOWN_INTERVENTION_KINDS
    for lower, higher in zip(scheme.levels, scheme.levels[1:], strict=False):
        assert set(lower.required) <= set(higher.required), f"{higher.id} drops a requirement of {lower.id}"


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_each_shipped_scheme_maps_every_tree_outcome_to_a_level(scheme_id: str) -> None:
    scheme = definitions.builtin().scheme(scheme_id)
    tree = definitions.builtin().instrument("cstag-decision-tree")
    mapping = scheme.outcome_map["cstag-decision-tree"]
    assert set(mapping) == {o.id for o in tree.outcomes}
    ranks = [scheme.rank(mapping[o.id]) for o in tree.outcomes]
    assert ranks == sorted(ranks)
    assert scheme.rank(mapping["substantive-very-serious"]) < len(scheme.levels) or scheme_id == "salem-keizer"


def test_virginia_levels_intervals_and_interventions() -> None:
    virginia = definitions.builtin().scheme("virginia")
    assert [level.id for level in virginia.levels] == ["low", "moderate", "high", "imminent"]
    assert {level.id: level.reassess_days for level in virginia.levels} == {
        "low": 90,
        "moderate": 30,
        "high": 7,
        "imminent": 1,
    }
    imminent, high = virginia.level("imminent"), virginia.level("high")
    assert {"law-enforcement-referral", "target-protection-plan"} <= set(imminent.required)
    assert {"law-enforcement-referral", "target-protection-plan"} <= set(high.suggested)
    assert virginia.rank("low") == 0
    assert virginia.rank("imminent") == 3
    assert virginia.outcome_map["cstag-decision-tree"] == {
        "transient": "low",
        "substantive-serious": "moderate",
        "substantive-very-serious": "high",
    }
    suggested = virginia.suggested_level("cstag-decision-tree", "substantive-serious")
    assert suggested is not None
    assert suggested.id == "moderate"
    assert virginia.suggested_level("ntac-themes", "information_complete") is None
    assert virginia.suggested_level("cstag-decision-tree", None) is None


def test_other_schemes_level_names() -> None:
    registry = definitions.builtin()
    assert [lv.id for lv in registry.scheme("florida").levels] == ["low", "medium", "high"]
    assert [lv.id for lv in registry.scheme("college").levels] == ["mild", "moderate", "elevated", "critical"]
    assert [lv.id for lv in registry.scheme("salem-keizer").levels] == ["level-1", "level-2"]
    college = registry.scheme("college")
    assert all(not level.required and not level.suggested for level in college.levels)


def test_unknown_level_is_a_key_error() -> None:
    virginia = definitions.builtin().scheme("virginia")
    with pytest.raises(KeyError):
        virginia.level("severe")
    with pytest.raises(KeyError):
        virginia.rank("severe")


def test_definitions_are_frozen() -> None:
    tree = definitions.builtin().instrument("cstag-decision-tree")
    with pytest.raises(AttributeError):
        tree.version = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        tree.title._values = {}  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def test_text_follows_the_active_language_and_falls_back_to_english() -> None:
    text = Text({"en": "Low", "es": "Bajo"})
    assert text.get("en") == "Low"
    assert text.get("es") == "Bajo"
    assert text.get("es-mx") == "Bajo"
    assert text.get("fr") == "Low"
    with translation.override("es"):
        assert str(text) == "Bajo"
    with translation.override("en"):
        assert str(text) == "Low"
    assert str(Text("Only English")) == "Only English"
    assert Text({"en": "a"}) == Text("a")
    assert hash(Text({"en": "a"})) == hash(Text("a"))
    with pytest.raises(ValueError, match="English"):
        Text({"es": "Bajo"})


def test_shipped_labels_read_in_spanish() -> None:
    virginia = definitions.builtin().scheme("virginia")
    with translation.override("es"):
        assert str(virginia.level("imminent").label) == "Inminente"


# ---------------------------------------------------------------------------------------------
# Validation: each rule refuses a broken file, naming file and field
# ---------------------------------------------------------------------------------------------


def test_the_message_names_file_field_and_problem() -> None:
    data = shipped(TREE)
    data["steps"][3]["options"][1]["next"] = "step-9"
    error = refused(data, TREE)
    assert (
        str(error) == 'cstag-decision-tree.v1.json: steps[3].options[1].next: "step-9" is not a step of this instrument'
    )
    assert (error.source, error.field) == (TREE, "steps[3].options[1].next")


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _append(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path:
            target = target[key]
        target.append(copy.deepcopy(value))

    return change


ORPHAN_STEP = {
    "id": "step-orphan",
    "step": 2,
    "text": "Orphan",
    "options": [{"value": "x", "label": "X", "outcome": "transient", "reason": "R"}],
}

TREE_CASES = [
    # (name, change, field, message fragment)
    ("loop", _set(("steps", 3, "options", 1, "next"), "step-3-respond"), "steps[3].options[1].next", "loop"),
    ("loop-to-start", _set(("steps", 1, "options", 1, "next"), "step-1-evaluate"), "steps[1].options[1].next", "loop"),
    ("dangling next", _set(("steps", 0, "options", 0, "next"), "nowhere"), "steps[0].options[0].next", "not a step"),
    (
        "dangling outcome",
        _set(("steps", 1, "options", 0, "outcome"), "maybe"),
        "steps[1].options[0].outcome",
        "not an outcome",
    ),
    ("unreachable step", _append(("steps",), ORPHAN_STEP), "steps[5]", "cannot be reached"),
    (
        "unreachable outcome",
        _append(("outcomes",), {"id": "not-a-threat", "label": "Not a threat"}),
        "outcomes[3].id",
        "can never be reached",
    ),
    ("option leads nowhere", _delete(("steps", 0, "options", 0, "next")), "steps[0].options[0]", "must lead somewhere"),
    ("next and outcome", _set(("steps", 0, "options", 0, "outcome"), "transient"), "steps[0].options[0]", "not both"),
    ("start not a step", _set(("start",), "step-0"), "start", "not a step"),
    ("duplicate step id", _set(("steps", 4, "id"), "step-4-safety-evaluation"), "steps[4].id", "duplicate step id"),
    (
        "duplicate option",
        _set(("steps", 0, "options", 1, "value"), "expression-only"),
        "steps[0].options[1].value",
        "duplicate",
    ),
    ("duplicate outcome", _set(("outcomes", 2, "id"), "transient"), "outcomes[2].id", "duplicate outcome id"),
    ("unknown field", _set(("steps", 2, "optoins"), []), "steps[2].optoins", 'did you mean "options"'),
    ("unknown top-level field", _set(("author",), "me"), "author", "unknown field"),
    ("missing field", _delete(("steps", 2, "text")), "steps[2].text", "required"),
    ("missing English", _set(("title",), {"es": "Árbol"}), "title", "no English"),
    ("empty English", _set(("steps", 0, "text"), {"en": " ", "es": "x"}), "steps[0].text.en", "must not be empty"),
    ("bad language", _set(("title",), {"en": "Tree", "Spanish": "Árbol"}), "title.Spanish", "not a language code"),
    ("text of a wrong type", _set(("description",), 3), "description", "must be a string or an object"),
    ("empty list", _set(("steps",), []), "steps", "must not be empty"),
    ("list of a wrong type", _set(("steps",), {}), "steps", "must be a list"),
    ("step number", _set(("steps", 0, "step"), "1"), "steps[0].step", "whole number"),
    ("bad step id", _set(("steps", 0, "id"), "Step 1"), "steps[0].id", "is not an id"),
    ("version as text", _set(("version",), "1"), "version", "whole number"),
    ("version true", _set(("version",), True), "version", "whole number"),
    ("version zero", _set(("version",), 0), "version", "at least 1"),
    ("unknown kind", _set(("kind",), "tree"), "kind", "not a kind"),
    ("missing kind", _delete(("kind",)), "kind", "required"),
    ("id does not match the file", _set(("id",), "cstag-tree"), "id", "does not match the file name"),
    ("version does not match the file", _set(("version",), 2), "version", "the file name says version 1"),
    ("bad id", _set(("id",), "CSTAG"), "id", "not a valid definition id"),
    ("id with newline", _set(("id",), "cstag-decision-tree\n"), "id", "not a valid definition id"),
]


@pytest.mark.parametrize(("name", "change", "field", "fragment"), TREE_CASES, ids=[case[0] for case in TREE_CASES])
def test_a_broken_tree_is_refused(
    name: str, change: Callable[[dict[str, Any]], None], field: str, fragment: str
) -> None:
    data = shipped(TREE)
    change(data)
    error = refused(data, TREE)
    assert error.source == TREE
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)
    assert str(error).startswith(f"{TREE}: {field}: ")


def test_a_loop_names_the_cycle() -> None:
    data = shipped(TREE)
    data["steps"][3]["options"][1]["next"] = "step-1-evaluate"
    message = refused(data, TREE).message
    assert (
        "(step-1-evaluate -> step-2-resolve -> step-3-respond -> step-4-safety-evaluation -> step-1-evaluate)"
        in message
    )


CHECKLIST_CASES = [
    (
        "rule on unknown item",
        _set(("rules", 0, "conditions", 0, "item"), "gun"),
        "rules[0].conditions[0].item",
        "not an item",
    ),
    (
        "rule answer",
        _set(("rules", 0, "conditions", 0, "answers"), ["maybe"]),
        "rules[0].conditions[0].answers[0]",
        "not an answer",
    ),
    (
        "rule on a text item",
        _set(("rules", 0, "conditions", 0, "item"), "exact-words"),
        "rules[0].conditions[0].item",
        "text item",
    ),
    ("rule outcome", _set(("rules", 0, "outcome"), "call-911"), "rules[0].outcome", "not an outcome"),
    ("rule match", _set(("rules", 0, "match"), "some"), "rules[0].match", '"any" or "all"'),
    ("duplicate rule", _set(("rules", 1, "id"), "danger-now"), "rules[1].id", "duplicate rule id"),
    (
        "duplicate item",
        _set(("sections", 1, "items", 0, "id"), "immediate-danger"),
        "sections[1].items[0].id",
        "duplicate item id",
    ),
    ("duplicate section", _set(("sections", 1, "id"), "safety-now"), "sections[1].id", "duplicate section id"),
    (
        "answer type",
        _set(("sections", 0, "items", 0, "answer"), "boolean"),
        "sections[0].items[0].answer",
        "not an answer type",
    ),
    (
        "choice without options",
        _delete(("sections", 1, "items", 4, "options")),
        "sections[1].items[4].options",
        "needs its options",
    ),
    (
        "choice with one option",
        _set(("sections", 1, "items", 4, "options"), [{"value": "a", "label": "A"}]),
        "sections[1].items[4].options",
        "at least two",
    ),
    (
        "options on a yes/no item",
        _set(("sections", 0, "items", 0, "options"), []),
        "sections[0].items[0].options",
        "only a",
    ),
    (
        "required not a boolean",
        _set(("sections", 0, "items", 0, "required"), "yes"),
        "sections[0].items[0].required",
        "true or false",
    ),
    ("default outcome", _set(("default", "outcome"), "close"), "default.outcome", "not an outcome"),
    ("unreachable outcome", _set(("default", "outcome"), "evaluate"), "outcomes[1].id", "can never be reached"),
    ("missing default", _delete(("default",)), "default", "required"),
]


@pytest.mark.parametrize(("name", "change", "field", "fragment"), CHECKLIST_CASES, ids=[c[0] for c in CHECKLIST_CASES])
def test_a_broken_checklist_is_refused(
    name: str, change: Callable[[dict[str, Any]], None], field: str, fragment: str
) -> None:
    data = shipped(CHECKLIST)
    change(data)
    error = refused(data, CHECKLIST)
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)


THEMES_CASES = [
    ("outcomes", _set(("outcomes", 1, "id"), "done"), "outcomes", "exactly the outcomes"),
    ("duplicate theme", _set(("themes", 1, "id"), "motives"), "themes[1].id", "duplicate theme id"),
    ("no prompts", _set(("themes", 0, "prompts"), []), "themes[0].prompts", "must not be empty"),
    (
        "prompt without English",
        _set(("themes", 0, "prompts", 0), {"es": "¿Qué?"}),
        "themes[0].prompts[0]",
        "no English",
    ),
    ("protective not a boolean", _set(("themes", 0, "protective"), 1), "themes[0].protective", "true or false"),
    ("a score", _set(("themes", 0, "score"), 3), "themes[0].score", "unknown field"),
]


@pytest.mark.parametrize(("name", "change", "field", "fragment"), THEMES_CASES, ids=[c[0] for c in THEMES_CASES])
def test_broken_themes_are_refused(
    name: str, change: Callable[[dict[str, Any]], None], field: str, fragment: str
) -> None:
    data = shipped(THEMES)
    change(data)
    error = refused(data, THEMES)
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)


SCHEME_CASES = [
    ("duplicate level", _set(("levels", 1, "id"), "low"), "levels[1].id", "duplicate level id"),
    (
        "unknown intervention",
        _set(("levels", 1, "interventions", "required", 0), "safety-plans"),
        "levels[1].interventions.required[0]",
        'did you mean "safety-plan"',
    ),
    (
        "intervention listed twice",
        _set(("levels", 1, "interventions", "required"), ["safety-plan", "safety-plan"]),
        "levels[1].interventions.required[1]",
        "listed twice",
    ),
    (
        "required and suggested",
        _set(("levels", 1, "interventions", "suggested"), ["safety-plan"]),
        "levels[1].interventions.suggested",
        "already required",
    ),
    ("reassess days zero", _set(("levels", 0, "reassess_days"), 0), "levels[0].reassess_days", "at least 1"),
    ("approval as text", _set(("levels", 2, "approval"), "yes"), "levels[2].approval", "true or false"),
    ("approval dropped", _set(("levels", 3, "approval"), False), "levels[3].approval", "lowest first"),
    ("levels highest first", _set(("levels", 1, "reassess_days"), 120), "levels[1].reassess_days", "lowest first"),
    (
        "map to unknown level",
        _set(("outcome_map", "cstag-decision-tree", "transient"), "minimal"),
        "outcome_map.cstag-decision-tree.transient",
        "not a level",
    ),
    (
        "map of a wrong type",
        _set(("outcome_map", "cstag-decision-tree"), ["low"]),
        "outcome_map.cstag-decision-tree",
        "must be an object",
    ),
    (
        "interventions typo",
        _set(("levels", 0, "interventions", "sugested"), []),
        "levels[0].interventions.sugested",
        'did you mean "suggested"',
    ),
    ("no levels", _set(("levels",), []), "levels", "must not be empty"),
]


@pytest.mark.parametrize(("name", "change", "field", "fragment"), SCHEME_CASES, ids=[c[0] for c in SCHEME_CASES])
def test_a_broken_scheme_is_refused(
    name: str, change: Callable[[dict[str, Any]], None], field: str, fragment: str
) -> None:
    data = shipped(VIRGINIA)
    change(data)
    error = refused(data, VIRGINIA)
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)


def test_a_district_intervention_kind_is_accepted_when_declared() -> None:
    data = shipped(VIRGINIA)
    data["levels"][1]["interventions"]["suggested"].append("restorative-circle")
    assert "restorative-circle" in refused(data, VIRGINIA).message
    scheme = load_definition(data, source=VIRGINIA, extra_interventions=["restorative-circle"])
    assert isinstance(scheme, LevelScheme)
    assert "restorative-circle" in scheme.level("moderate").suggested


def test_a_definition_built_in_code_needs_no_file_name() -> None:
    data = shipped(TREE)
    data["version"] = 7
    instrument = load_definition(data, source="district upload")
    assert isinstance(instrument, Instrument)
    assert instrument.version == 7


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ('{"id": "x",}', "line 1 column 12", "invalid JSON"),
        ("", "line 1 column 1", "invalid JSON"),
        ('{"id": "a", "id": "b"}', "", 'the key "id" appears twice'),
        ('{"version": NaN}', "", "NaN is not allowed"),
        ("[1, 2]", "", "must be a JSON object"),
        ('"just text"', "", "must be a JSON object"),
    ],
)
def test_bad_json_is_a_definition_error(text: str, field: str, fragment: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_json(text, source="broken.v1.json")
    assert caught.value.source == "broken.v1.json"
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_parse_file_reports_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.v1.json"
    with pytest.raises(DefinitionError, match="missing.v1.json: cannot be read"):
        parse_file(missing)
    latin = tmp_path / "latin.v1.json"
    latin.write_bytes('{"title": "Árbol"}'.encode("latin-1"))
    with pytest.raises(DefinitionError, match="latin.v1.json: is not UTF-8 text"):
        parse_file(latin)
    huge = tmp_path / "huge.v1.json"
    huge.write_bytes(b" " * (definitions.MAX_FILE_BYTES + 1))
    with pytest.raises(DefinitionError, match="larger than"):
        parse_file(huge)


# ---------------------------------------------------------------------------------------------
# Characters, numbers and ids that cannot be stored (review findings 3 and 4)
# ---------------------------------------------------------------------------------------------

BAD_CHARACTER_CASES = [
    # (name, file, where, the bad value's path, fragment of the message)
    ("nul in a description", VIRGINIA, ("levels", 0, "description"), "a\u0000b", "a control character (U+0000)"),
    ("surrogate in a label", VIRGINIA, ("levels", 1, "label"), "Gr\ud800een", "an unpaired surrogate (U+D800)"),
    ("bell in a title", TREE, ("title",), {"en": "Tree\u0007", "es": "Árbol"}, "a control character (U+0007)"),
    ("escape in a reason", CHECKLIST, ("default", "reason"), "x\u001by", "a control character (U+001B)"),
    ("c1 control in help", TREE, ("steps", 0, "help"), "a\u0085b", "a control character (U+0085)"),
    ("carriage return in a prompt", THEMES, ("themes", 0, "prompts", 0), "a\rb", "U+000D"),
    ("surrogate in an id", TREE, ("steps", 0, "id"), "s\udfff", "an unpaired surrogate (U+DFFF)"),
]


@pytest.mark.parametrize(
    ("name", "source", "where", "value", "fragment"), BAD_CHARACTER_CASES, ids=[c[0] for c in BAD_CHARACTER_CASES]
)
def test_characters_that_cannot_be_stored_are_refused_naming_the_field(
    name: str, source: str, where: tuple[Any, ...], value: object, fragment: str
) -> None:
    data = shipped(source)
    _set(where, value)(data)
    error = refused(data, source)
    path = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in where).lstrip(".")
    assert error.field.startswith(path), str(error)
    assert fragment in error.message
    assert error.source == source
    str(error).encode("utf-8")  # the message itself can be written out (no lone surrogate in it)


def test_a_bad_character_in_a_field_name_is_refused_and_shown_escaped() -> None:
    data = shipped(VIRGINIA)
    data["levels"][0]["not\ud800ok"] = 1
    error = refused(data, VIRGINIA)
    assert error.field == "levels[0].not\\ud800ok"
    assert "the field name holds an unpaired surrogate" in error.message
    str(error).encode("utf-8")


def test_the_characters_are_checked_in_json_escapes_too() -> None:
    text = json.dumps(shipped(VIRGINIA)).replace('"Low"', '"Lo\\u0000w"', 1)
    with pytest.raises(DefinitionError) as caught:
        parse_json(text, source=VIRGINIA)
    assert caught.value.field == "levels[0].label.en"
    assert "U+0000" in caught.value.message


def test_line_breaks_and_tabs_are_allowed_in_long_texts_only() -> None:
    data = shipped(TREE)
    data["description"] = {"en": "First line.\n\tSecond line.", "es": "Primera.\nSegunda."}
    data["steps"][0]["help"] = "One.\nTwo."
    assert isinstance(load_definition(data, source=TREE), Instrument)
    data["title"] = {"en": "Two\nlines", "es": "Árbol"}
    error = refused(data, TREE)
    assert (error.field, error.message) == ("title.en", "must be on one line (no line break or tab)")
    data = shipped(VIRGINIA)
    data["levels"][0]["label"] = "Low\tconcern"
    error = refused(data, VIRGINIA)
    assert (error.field, error.message) == ("levels[0].label", "must be on one line (no line break or tab)")


def test_other_scripts_and_joiners_are_allowed() -> None:
    data = shipped(VIRGINIA)
    data["levels"][0]["label"] = {"en": "Low", "fa": "کم\u200cخطر", "ar": "منخفض"}
    scheme = load_definition(data, source=VIRGINIA)
    assert isinstance(scheme, LevelScheme)
    assert scheme.level("low").label.get("fa") == "کم\u200cخطر"


@pytest.mark.parametrize(
    ("source", "where", "value", "fragment"),
    [
        (VIRGINIA, ("version",), 1_000_001, "must be at most 1,000,000"),
        (VIRGINIA, ("version",), 99_999_999_999, "must be at most 1,000,000"),
        (VIRGINIA, ("version",), 2.0, "without a decimal point (2, not 2.0)"),
        (VIRGINIA, ("levels", 0, "reassess_days"), 10**30, "must be at most 365"),
        (VIRGINIA, ("levels", 0, "reassess_days"), 7.0, "without a decimal point (7, not 7.0)"),
        (VIRGINIA, ("levels", 0, "reassess_days"), 7.5, "must be a whole number, not a number"),
        (TREE, ("steps", 0, "step"), 100, "must be at most 99"),
    ],
)
def test_numbers_are_capped(source: str, where: tuple[Any, ...], value: object, fragment: str) -> None:
    data = shipped(source)
    _set(where, value)(data)
    error = refused(data, "district upload")
    assert error.field == ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in where).replace(".[", "[")
    assert fragment in error.message


def test_the_highest_version_is_accepted() -> None:
    data = shipped(VIRGINIA)
    data["version"] = 1_000_000
    assert load_definition(data, source="virginia.v1000000.json").version == 1_000_000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"version": 1e400}', "is a number too large to be stored"),
        ('{"version": ' + "9" * 5000 + "}", "a number is too long"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"kind": "level_scheme", "x": ' + "[" * 40 + "]" * 40 + "}", "nested too deeply"),
    ],
    ids=["infinite", "5000 digits", "deeper than python", "deeper than a definition"],
)
def test_numbers_and_nesting_json_allows_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_json(text, source="broken.v1.json")
    assert fragment in caught.value.message


LENGTH_CASES = [
    # (name, file, change, field, fragment)
    ("level id of 41", VIRGINIA, _set(("levels", 0, "id"), "l" * 41), "levels[0].id", "a level id: use 1 to 40"),
    (
        "outcome id of 61",
        CHECKLIST,
        _set(("outcomes", 0, "id"), "o" * 61),
        "outcomes[0].id",
        "an outcome id: use 1 to 60",
    ),
    (
        "item id of 64",
        CHECKLIST,
        _set(("sections", 0, "items", 0, "id"), "i" * 64),
        "sections[0].items[0].id",
        "1 to 63",
    ),
    ("instrument id of 60", TREE, _set(("id",), "t" * 60), "id", "2 to 59"),
]


@pytest.mark.parametrize(
    ("name", "source", "change", "field", "fragment"), LENGTH_CASES, ids=[c[0] for c in LENGTH_CASES]
)
def test_ids_fit_their_columns(
    name: str, source: str, change: Callable[[dict[str, Any]], None], field: str, fragment: str
) -> None:
    data = shipped(source)
    change(data)
    error = refused(data, "district upload")
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)


def test_the_id_limits_are_the_column_sizes() -> None:
    from btam.assessments.models import Assessment, LevelChange
    from btam.cases.models import Case

    level_columns = [
        Case._meta.get_field("risk_level"),
        LevelChange._meta.get_field("level"),
        LevelChange._meta.get_field("previous_level"),
        Assessment._meta.get_field("level"),
        Assessment._meta.get_field("suggested_level"),
    ]
    assert {getattr(column, "max_length", None) for column in level_columns} == {schema.MAX_LEVEL_ID}
    outcome_column = Assessment._meta.get_field("suggested_outcome")
    assert getattr(outcome_column, "max_length", None) == schema.MAX_OUTCOME_ID
    id_columns = [
        Case._meta.get_field("risk_scheme"),
        Assessment._meta.get_field("instrument_id"),
        Assessment._meta.get_field("scheme_id"),
        LevelChange._meta.get_field("scheme_id"),
    ]
    assert all(getattr(column, "max_length", 0) >= 59 for column in id_columns)


def test_ids_at_the_column_sizes_are_accepted() -> None:
    data = shipped(VIRGINIA)
    long_level = "l" * schema.MAX_LEVEL_ID
    text = json.dumps(data).replace('"low"', f'"{long_level}"')
    scheme = parse_json(text, source=VIRGINIA)
    assert isinstance(scheme, LevelScheme) and scheme.levels[0].id == long_level
    outcome = shipped(CHECKLIST)["outcomes"][0]["id"]
    long_outcome = "o" * schema.MAX_OUTCOME_ID
    text = json.dumps(shipped(CHECKLIST)).replace(f'"{outcome}"', f'"{long_outcome}"')
    instrument = parse_json(text, source=CHECKLIST)
    assert isinstance(instrument, Instrument) and instrument.outcomes[0].id == long_outcome


def test_an_outcome_map_key_must_be_an_outcome_id() -> None:
    data = shipped(VIRGINIA)
    data["outcome_map"]["cstag-decision-tree"]["o" * 61] = "low"
    error = refused(data, VIRGINIA)
    assert error.field.startswith("outcome_map.cstag-decision-tree.ooo")
    assert "is not a valid outcome id" in error.message


def test_a_long_unknown_value_is_shortened_in_the_message() -> None:
    data = shipped(VIRGINIA)
    data["kind"] = "k" * 5000
    error = refused(data, VIRGINIA)
    assert len(error.message) < 200


def test_a_byte_order_mark_is_accepted_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / VIRGINIA
    path.write_bytes(b"\xef\xbb\xbf" + (INSTRUMENTS_DIR / VIRGINIA).read_bytes())
    assert parse_file(path).id == "virginia"


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


def _version_2_of_the_checklist() -> Instrument:
    data = shipped(CHECKLIST)
    data["version"] = 2
    instrument = load_definition(data, source="screening-checklist.v2.json")
    assert isinstance(instrument, Instrument)
    return instrument


def test_builtin_is_loaded_once() -> None:
    assert definitions.builtin() is definitions.builtin()


def test_the_latest_version_unless_one_is_asked() -> None:
    registry = definitions.builtin().with_extra([_version_2_of_the_checklist()])
    assert registry.instrument("screening-checklist").version == 2
    assert registry.instrument("screening-checklist", 1).version == 1
    assert registry.versions("screening-checklist") == [1, 2]
    assert [i.version for i in registry.instruments() if i.id == "screening-checklist"] == [2]
    assert definitions.builtin().instrument("screening-checklist").version == 1  # the shipped registry is untouched


def test_unknown_ids_and_versions_are_key_errors() -> None:
    registry = definitions.builtin()
    with pytest.raises(KeyError):
        registry.instrument("nabita-rubric")
    with pytest.raises(KeyError):
        registry.instrument("cstag-decision-tree", 2)
    with pytest.raises(KeyError):
        registry.scheme("texas")
    with pytest.raises(KeyError):
        registry.instrument("virginia")  # a scheme, not an instrument
    assert registry.versions("texas") == []


def test_a_published_version_cannot_be_redefined() -> None:
    data = shipped(TREE)
    data["title"] = "A changed tree"
    changed = load_definition(data, source="district/" + TREE)
    with pytest.raises(DefinitionError) as caught:
        definitions.builtin().with_extra([changed])
    assert caught.value.field == "version"
    assert "already defined in cstag-decision-tree.v1.json" in caught.value.message
    assert "publish version 2" in caught.value.message


def test_one_id_cannot_be_two_kinds() -> None:
    data = shipped(VIRGINIA)
    data["id"] = "ntac-themes"
    data["version"] = 2
    scheme = load_definition(data, source="ntac-themes.v2.json")
    with pytest.raises(DefinitionError, match='"ntac-themes" is a themes'):
        definitions.builtin().with_extra([scheme])


@pytest.mark.parametrize(
    ("mapping", "field", "fragment"),
    [
        ({"threat-tree": {"transient": "low"}}, "outcome_map.threat-tree", 'no instrument "threat-tree"'),
        ({"cstag-decision-tree": {"harmless": "low"}}, "outcome_map.cstag-decision-tree.harmless", "not an outcome"),
        ({"ntac-themes": {"information_complete": "low"}}, "outcome_map.ntac-themes", "never suggests a level"),
    ],
)
def test_an_outcome_map_must_name_known_instruments_and_outcomes(
    mapping: dict[str, dict[str, str]], field: str, fragment: str
) -> None:
    data = shipped(VIRGINIA)
    data["id"] = "district-levels"
    data["outcome_map"] = mapping
    scheme = load_definition(data, source="district-levels.v1.json")
    with pytest.raises(DefinitionError) as caught:
        definitions.builtin().with_extra([scheme])
    assert (caught.value.source, caught.value.field) == ("district-levels.v1.json", field)
    assert fragment in caught.value.message


def test_a_district_scheme_may_map_its_own_instrument() -> None:
    tree = shipped(TREE)
    tree["id"] = "district-tree"
    scheme = shipped(VIRGINIA)
    scheme["id"] = "district-levels"
    scheme["outcome_map"] = {"district-tree": {"transient": "low"}}
    registry = definitions.builtin().with_extra(
        [
            load_definition(tree, source="district-tree.v1.json"),
            load_definition(scheme, source="district-levels.v1.json"),
        ]
    )
    assert registry.scheme("district-levels").outcome_map == {"district-tree": {"transient": "low"}}


def test_an_empty_registry_is_allowed() -> None:
    assert Registry([]).instruments() == []


# ---------------------------------------------------------------------------------------------
# check_all and the start-up check
# ---------------------------------------------------------------------------------------------


def _broken_folder(tmp_path: Path) -> Path:
    for name in (TREE, VIRGINIA):
        (tmp_path / name).write_text((INSTRUMENTS_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    data = shipped(TREE)
    data["steps"][3]["options"][1]["next"] = "step-9"
    data["version"] = 2
    (tmp_path / "cstag-decision-tree.v2.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "florida.v1.json").write_text("{not json", encoding="utf-8")
    copy_of_virginia = shipped(VIRGINIA)
    (tmp_path / "renamed.v1.json").write_text(json.dumps(copy_of_virginia), encoding="utf-8")
    return tmp_path


def test_check_all_reports_every_broken_file(tmp_path: Path) -> None:
    errors = [str(error) for error in definitions.check_all(_broken_folder(tmp_path))]
    assert errors == [
        'cstag-decision-tree.v2.json: steps[3].options[1].next: "step-9" is not a step of this instrument',
        "florida.v1.json: line 1 column 2: invalid JSON: Expecting property name enclosed in double quotes",
        'renamed.v1.json: id: "virginia" does not match the file name: name the file virginia.v1.json',
    ]


def test_check_all_reports_a_version_defined_twice(tmp_path: Path) -> None:
    (tmp_path / VIRGINIA).write_text((INSTRUMENTS_DIR / VIRGINIA).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / TREE).write_text((INSTRUMENTS_DIR / TREE).read_text(encoding="utf-8"), encoding="utf-8")
    sub = tmp_path / "district"
    sub.mkdir()
    twice = load_definition(shipped(VIRGINIA), source="virginia.v1.json")
    loaded, errors = definitions.load_directory(tmp_path)
    assert errors == []
    assert [str(e) for e in definitions._registry_errors([*loaded, twice])] == [
        'virginia.v1.json: version: version 1 of "virginia" is already defined in virginia.v1.json: '
        "a published definition never changes; publish version 2 instead"
    ]


def test_check_all_reports_a_missing_folder(tmp_path: Path) -> None:
    errors = definitions.check_all(tmp_path / "nowhere")
    assert len(errors) == 1
    assert "does not exist" in str(errors[0])


def test_the_system_check_reports_a_broken_file_by_name_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(definitions, "INSTRUMENTS_DIR", _broken_folder(tmp_path))
    errors = checks.definition_files_are_valid(None)
    assert {error.id for error in errors} == {"assessments.E001"}
    assert any(
        "cstag-decision-tree.v2.json: steps[3].options[1].next" in error.msg and "step-9" in error.msg
        for error in errors
    )
    assert len(errors) == 3
    # Registered with Django: `manage.py check` runs it.
    found = django_checks.run_checks(tags=["assessments"])
    assert [error.msg for error in found] == [error.msg for error in errors]


def test_the_system_check_is_quiet_on_the_shipped_files() -> None:
    assert checks.definition_files_are_valid(None) == []
    assert django_checks.run_checks(tags=["assessments"]) == []
