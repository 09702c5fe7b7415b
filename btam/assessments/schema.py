"""The schema of definition files: the checks behind ``definitions.load_definition``.

Each check raises a ``DefinitionError`` naming the file, the field's path (``steps[3].options[1].next``)
and the problem in plain words. Unknown fields are errors (a typo must not pass silently); every text
needs English; ids are unique; a decision tree has no loop, no dangling ``next``, no unreachable step
and no unreachable outcome; a level scheme lists its levels lowest first with known intervention kinds.
Checks between files (a version defined twice, an outcome map naming an unknown instrument) are the
registry's (``definitions._registry_errors``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from btam.assessments.definitions import (
    ANSWER_TYPES,
    CHOICE,
    DEFINITION_ID_RE,
    EMPTY_TEXT,
    FILE_NAME_RE,
    KINDS,
    KNOWN_INTERVENTION_KINDS,
    LANGUAGE_RE,
    LOCAL_ID_RE,
    THEMES_OUTCOMES,
    YES_NO_UNKNOWN,
    Condition,
    Definition,
    DefinitionError,
    Instrument,
    Item,
    Level,
    LevelScheme,
    Option,
    Outcome,
    Rule,
    Section,
    Step,
    StepOption,
    Text,
    Theme,
)

# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

# The columns ids are stored in (btam/assessments/models.py, cases.Case): a level id goes to
# Case.risk_level, Assessment.level/suggested_level and LevelChange.level (40 characters); an
# outcome id to Assessment.suggested_outcome (60); a definition id (instrument or scheme) to
# CustomDefinition.definition_id, Assessment.instrument_id/scheme_id and Case.risk_scheme (60,
# DEFINITION_ID_RE allows 59).
MAX_LEVEL_ID: Final = 40
MAX_OUTCOME_ID: Final = 60
MAX_LOCAL_ID: Final = 63  # items, steps, options, sections, rules, themes: stored only inside JSON
# Versions are stored in PositiveIntegerField columns (at most 2**31 - 1): a far lower cap.
MAX_VERSION: Final = 1_000_000
MAX_REASSESS_DAYS: Final = 365  # the settings' own limit for an interval (settings_actions.MAX_DAYS)
MAX_STEP: Final = 99
# A definition is at most a few levels deep (a level's interventions, a tree's step options...).
MAX_DEPTH: Final = 32
# NUL, the other C0/C1 control characters and unpaired surrogates: none can be stored (PostgreSQL
# refuses \u0000 in JSON; a lone surrogate cannot be written out as UTF-8). \n and \t are allowed in
# long texts (descriptions, help, questions, reasons), not in ids, titles or labels.
_BAD_CHARACTER_RE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAK_RE: Final = re.compile("[\n\t]")
_SHORT_TEXTS: Final = frozenset({"title", "label"})


def _shown(value: str, limit: int = 60) -> str:
    """``value`` as it may appear in a message: escaped when it holds a character that cannot be
    printed, shortened when long."""
    if _BAD_CHARACTER_RE.search(value) or _LINE_BREAK_RE.search(value):
        value = json.dumps(value)[1:-1]
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def _character_problem(value: str) -> str:
    """What is wrong with the characters of a string ("" when nothing is)."""
    found = _BAD_CHARACTER_RE.search(value)
    if found is None:
        return ""
    char = found.group()
    what = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return (
        f"holds {what} (U+{ord(char):04X}) at character {found.start() + 1}, which cannot be stored: "
        "remove it (only line breaks and tabs are allowed, and only in long texts)"
    )


def _check_characters(data: object, source: str) -> None:
    """Every string and every key of the decoded file: no NUL, control character or unpaired
    surrogate; numbers finite; nesting within MAX_DEPTH. Iterative: no recursion on deep input."""
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DefinitionError(source, path, f"is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, dict):
            children: list[tuple[object, str, int]] = []
            for key, item in value.items():
                key_path = f"{path}.{_shown(key)}" if path else _shown(key)
                problem = _character_problem(key)
                if problem:
                    raise DefinitionError(source, key_path, f"the field name {problem}")
                children.append((item, key_path, depth + 1))
            stack.extend(reversed(children))  # report the first problem in the file's order
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]))
        elif isinstance(value, str):
            problem = _character_problem(value)
            if problem:
                raise DefinitionError(source, path, problem)
        elif isinstance(value, float) and not math.isfinite(value):
            raise DefinitionError(source, path, "is a number too large to be stored")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


class _Obj:
    """A JSON object being read: knows its path in the file, reports errors with it, refuses unknown keys."""

    def __init__(self, data: object, path: str, source: str, *, required: Iterable[str], optional: Iterable[str] = ()):
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            raise DefinitionError(source, path, f"must be an object, not {_type_name(data)}")
        self.data: dict[str, Any] = data
        required = tuple(required)
        allowed = (*required, *optional)
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else f" (allowed: {', '.join(allowed)})"
                raise DefinitionError(source, self.at(key), f"unknown field{hint}")
        for key in required:
            if key not in data:
                raise DefinitionError(source, self.at(key), "this field is required")

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{_shown(key)}" if self.path else _shown(key)

    def error(self, key: str, message: str) -> DefinitionError:
        return DefinitionError(self.source, self.at(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def string(
        self, key: str, *, pattern: re.Pattern[str] | None = None, what: str = "an id", max_length: int = MAX_LOCAL_ID
    ) -> str:
        value = self.data[key]
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_type_name(value)}")
        if pattern is not None and not (pattern.fullmatch(value) and len(value) <= max_length):
            if pattern is LOCAL_ID_RE:
                rule = f"1 to {max_length} lowercase letters, digits, hyphens or underscores"
            else:
                rule = "2 to 59 lowercase letters, digits or hyphens"
            raise self.error(key, f'"{_shown(value)}" is not {what}: use {rule}, starting with a letter or a digit')
        return value

    def local_id(self, key: str, *, max_length: int = MAX_LOCAL_ID, what: str = "an id") -> str:
        return self.string(key, pattern=LOCAL_ID_RE, max_length=max_length, what=what)

    def integer(self, key: str, *, minimum: int, maximum: int) -> int:
        value = self.data[key]
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            raise self.error(key, f"must be a whole number without a decimal point ({int(value)}, not {value})")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_type_name(value)}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        if value > maximum:
            raise self.error(key, f"must be at most {maximum:,}")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_type_name(value)}")
        return value

    def array(self, key: str, *, non_empty: bool = True) -> list[Any]:
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, not {_type_name(value)}")
        if non_empty and not value:
            raise self.error(key, "must not be empty")
        return value

    def text(self, key: str, *, optional: bool = False) -> Text:
        if key not in self.data and optional:
            return EMPTY_TEXT
        return _text(self.data[key], self.at(key), self.source, allow_empty=optional, one_line=key in _SHORT_TEXTS)


def _text(value: object, path: str, source: str, *, allow_empty: bool = False, one_line: bool = False) -> Text:
    """A text field: a string (English) or {"en": ..., "es": ...} with English required. A title or a
    label (``one_line``) has no line break or tab."""
    if isinstance(value, str):
        if not value.strip() and not allow_empty:
            raise DefinitionError(source, path, "must not be empty")
        if one_line and _LINE_BREAK_RE.search(value):
            raise DefinitionError(source, path, "must be on one line (no line break or tab)")
        return Text(value)
    if not isinstance(value, dict):
        raise DefinitionError(
            source, path, f'must be a string or an object of languages ({{"en": ...}}), not {_type_name(value)}'
        )
    if "en" not in value:
        raise DefinitionError(source, path, 'has no English text: add "en"')
    for lang, text in value.items():
        if not LANGUAGE_RE.fullmatch(lang):
            shown = _shown(lang)
            raise DefinitionError(source, f"{path}.{shown}", f'"{shown}" is not a language code (such as "en", "es")')
        if not isinstance(text, str):
            raise DefinitionError(source, f"{path}.{lang}", f"must be a string, not {_type_name(text)}")
        if not text.strip() and not (allow_empty and lang == "en"):
            raise DefinitionError(source, f"{path}.{lang}", "must not be empty")
        if one_line and _LINE_BREAK_RE.search(text):
            raise DefinitionError(source, f"{path}.{lang}", "must be on one line (no line break or tab)")
    return Text(value)


def _unique(obj: _Obj, key: str, seen: dict[str, str], value: str, what: str) -> None:
    if value in seen:
        raise obj.error(key, f'duplicate {what} "{value}" (already used at {seen[value]})')
    seen[value] = obj.at(key)


def _objects(parent: _Obj, key: str, *, non_empty: bool = True) -> Iterator[tuple[int, str, object]]:
    for index, value in enumerate(parent.array(key, non_empty=non_empty)):
        yield index, f"{parent.at(key)}[{index}]", value


def _outcomes(top: _Obj) -> tuple[Outcome, ...]:
    outcomes: list[Outcome] = []
    seen: dict[str, str] = {}
    for _index, path, raw in _objects(top, "outcomes"):
        obj = _Obj(raw, path, top.source, required=("id", "label"), optional=("description",))
        outcome_id = obj.local_id("id", max_length=MAX_OUTCOME_ID, what="an outcome id")
        _unique(obj, "id", seen, outcome_id, "outcome id")
        outcomes.append(Outcome(outcome_id, obj.text("label"), obj.text("description", optional=True)))
    return tuple(outcomes)


def _check_file_name(top: _Obj, definition_id: str, version: int) -> None:
    name = top.source.replace("\\", "/").rsplit("/", 1)[-1]
    if not name.endswith(".json"):
        return  # not a file (e.g. a definition built in code): nothing to match
    expected = f"{definition_id}.v{version}.json"
    if name != expected:
        match = FILE_NAME_RE.match(name)
        if match and match["id"] == definition_id:
            raise top.error(
                "version", f"is {version} but the file name says version {match['version']}: name the file {expected}"
            )
        raise top.error("id", f'"{definition_id}" does not match the file name: name the file {expected}')


_COMMON = ("id", "version", "kind", "title", "description")
_KIND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required, optional)
    "checklist": (("outcomes", "sections", "rules", "default"), ()),
    "themes": (("outcomes", "themes"), ()),
    "decision_tree": (("outcomes", "start", "steps"), ()),
    "level_scheme": (("levels",), ("outcome_map",)),
}


def load(data: object, *, source: str, extra_interventions: Iterable[str] = ()) -> Definition:
    """The typed model of a decoded definition file (``definitions.load_definition`` is the public name)."""
    if not isinstance(data, dict):
        raise DefinitionError(source, "", f"a definition must be a JSON object, not {_type_name(data)}")
    _check_characters(data, source)
    kind = data.get("kind")
    if kind not in KINDS:
        if "kind" not in data:
            raise DefinitionError(source, "kind", "this field is required")
        shown = _shown(kind) if isinstance(kind, str) else _type_name(kind)
        raise DefinitionError(source, "kind", f'"{shown}" is not a kind of definition (one of: {", ".join(KINDS)})')
    required, optional = _KIND_FIELDS[kind]
    top = _Obj(data, "", source, required=(*_COMMON, *required), optional=optional)
    definition_id = top.string("id", pattern=DEFINITION_ID_RE, what="a valid definition id")
    version = top.integer("version", minimum=1, maximum=MAX_VERSION)
    _check_file_name(top, definition_id, version)
    title = top.text("title")
    description = top.text("description")
    if kind == "level_scheme":
        return _level_scheme(top, definition_id, version, title, description, extra_interventions)
    outcomes = _outcomes(top)
    common: dict[str, Any] = {
        "id": definition_id,
        "version": version,
        "kind": kind,
        "title": title,
        "description": description,
        "outcomes": outcomes,
        "source": source,
    }
    if kind == "checklist":
        return _checklist(top, common)
    if kind == "themes":
        return _themes(top, common)
    return _decision_tree(top, common)


# -- checklist --------------------------------------------------------------------------------


def _checklist(top: _Obj, common: dict[str, Any]) -> Instrument:
    outcome_ids = {outcome.id for outcome in common["outcomes"]}
    sections: list[Section] = []
    seen_sections: dict[str, str] = {}
    seen_items: dict[str, str] = {}
    for _index, path, raw in _objects(top, "sections"):
        obj = _Obj(raw, path, top.source, required=("id", "title", "items"), optional=("help",))
        section_id = obj.local_id("id")
        _unique(obj, "id", seen_sections, section_id, "section id")
        items = []
        for _i, item_path, raw_item in _objects(obj, "items"):
            items.append(_item(raw_item, item_path, top.source, seen_items))
        sections.append(Section(section_id, obj.text("title"), tuple(items), obj.text("help", optional=True)))
    by_id = {item.id: item for section in sections for item in section.items}

    rules: list[Rule] = []
    seen_rules: dict[str, str] = {}
    used_outcomes: set[str] = set()
    for _index, path, raw in _objects(top, "rules"):
        obj = _Obj(raw, path, top.source, required=("id", "outcome", "conditions", "reason"), optional=("match",))
        rule_id = obj.local_id("id")
        _unique(obj, "id", seen_rules, rule_id, "rule id")
        outcome = _outcome_ref(obj, "outcome", outcome_ids)
        match = obj.string("match") if obj.has("match") else "any"
        if match not in ("any", "all"):
            raise obj.error("match", f'must be "any" or "all", not "{match}"')
        conditions = []
        for _i, cond_path, raw_cond in _objects(obj, "conditions"):
            cond = _Obj(raw_cond, cond_path, top.source, required=("item", "answers"))
            item_id = cond.string("item")
            item = by_id.get(item_id)
            if item is None:
                raise cond.error("item", f'"{item_id}" is not an item of this instrument')
            if item.answer not in (YES_NO_UNKNOWN, CHOICE):
                raise cond.error(
                    "item", f'"{item_id}" is a {item.answer} item: rules can only test yes/no/unknown and choice items'
                )
            answers = []
            for j, value in enumerate(cond.array("answers")):
                if value not in item.values():
                    raise DefinitionError(
                        top.source,
                        cond.at("answers") + f"[{j}]",
                        f'"{value}" is not an answer of item "{item_id}" (one of: {", ".join(item.values())})',
                    )
                answers.append(value)
            conditions.append(Condition(item_id, tuple(answers)))
        used_outcomes.add(outcome)
        rules.append(Rule(rule_id, outcome, match, tuple(conditions), obj.text("reason")))

    default = _Obj(top.data["default"], "default", top.source, required=("outcome", "reason"))
    default_outcome = _outcome_ref(default, "outcome", outcome_ids)
    used_outcomes.add(default_outcome)
    _all_outcomes_reachable(top, common["outcomes"], used_outcomes)
    return Instrument(
        **common,
        sections=tuple(sections),
        rules=tuple(rules),
        default_outcome=default_outcome,
        default_reason=default.text("reason"),
    )


def _item(raw: object, path: str, source: str, seen: dict[str, str]) -> Item:
    obj = _Obj(raw, path, source, required=("id", "text", "answer"), optional=("help", "options", "required"))
    item_id = obj.local_id("id")
    _unique(obj, "id", seen, item_id, "item id")
    answer = obj.string("answer")
    if answer not in ANSWER_TYPES:
        raise obj.error("answer", f'"{answer}" is not an answer type (one of: {", ".join(ANSWER_TYPES)})')
    options: list[Option] = []
    if answer == CHOICE:
        if not obj.has("options"):
            raise obj.error("options", "a choice item needs its options")
        seen_values: dict[str, str] = {}
        for _index, option_path, raw_option in _objects(obj, "options"):
            option = _Obj(raw_option, option_path, source, required=("value", "label"))
            value = option.local_id("value")
            _unique(option, "value", seen_values, value, "option value")
            options.append(Option(value, option.text("label")))
        if len(options) < 2:
            raise obj.error("options", "a choice item needs at least two options")
    elif obj.has("options"):
        raise obj.error("options", f'only a "choice" item has options (this one is "{answer}")')
    return Item(
        id=item_id,
        text=obj.text("text"),
        help=obj.text("help", optional=True),
        answer=answer,
        options=tuple(options),
        required=obj.boolean("required", default=True),
    )


def _outcome_ref(obj: _Obj, key: str, outcome_ids: set[str]) -> str:
    value = obj.string(key)
    if value not in outcome_ids:
        raise obj.error(
            key, f'"{value}" is not an outcome of this instrument (one of: {", ".join(sorted(outcome_ids))})'
        )
    return value


def _all_outcomes_reachable(top: _Obj, outcomes: tuple[Outcome, ...], used: set[str]) -> None:
    for index, outcome in enumerate(outcomes):
        if outcome.id not in used:
            raise DefinitionError(top.source, f"outcomes[{index}].id", f'outcome "{outcome.id}" can never be reached')


# -- themes -----------------------------------------------------------------------------------


def _themes(top: _Obj, common: dict[str, Any]) -> Instrument:
    ids = [outcome.id for outcome in common["outcomes"]]
    if sorted(ids) != sorted(THEMES_OUTCOMES):
        raise top.error("outcomes", f"a themes instrument has exactly the outcomes {' and '.join(THEMES_OUTCOMES)}")
    themes: list[Theme] = []
    seen: dict[str, str] = {}
    for _index, path, raw in _objects(top, "themes"):
        obj = _Obj(raw, path, top.source, required=("id", "title", "prompts"), optional=("help", "protective"))
        theme_id = obj.local_id("id")
        _unique(obj, "id", seen, theme_id, "theme id")
        prompts = tuple(_text(value, prompt_path, top.source) for _i, prompt_path, value in _objects(obj, "prompts"))
        themes.append(
            Theme(theme_id, obj.text("title"), prompts, obj.text("help", optional=True), obj.boolean("protective"))
        )
    return Instrument(**common, themes=tuple(themes))


# -- decision tree ----------------------------------------------------------------------------


def _decision_tree(top: _Obj, common: dict[str, Any]) -> Instrument:
    outcome_ids = {outcome.id for outcome in common["outcomes"]}
    steps: list[Step] = []
    seen_steps: dict[str, str] = {}
    for _index, path, raw in _objects(top, "steps"):
        obj = _Obj(raw, path, top.source, required=("id", "step", "text", "options"), optional=("help",))
        step_id = obj.local_id("id")
        _unique(obj, "id", seen_steps, step_id, "step id")
        number = obj.integer("step", minimum=1, maximum=MAX_STEP)
        options: list[StepOption] = []
        seen_values: dict[str, str] = {}
        for _i, option_path, raw_option in _objects(obj, "options"):
            option = _Obj(
                raw_option, option_path, top.source, required=("value", "label", "reason"), optional=("next", "outcome")
            )
            value = option.local_id("value")
            _unique(option, "value", seen_values, value, "option value")
            if option.has("next") and option.has("outcome"):
                raise DefinitionError(top.source, option_path, 'give either "next" or "outcome", not both')
            if not option.has("next") and not option.has("outcome"):
                raise DefinitionError(
                    top.source, option_path, 'an option must lead somewhere: give "next" (a step id) or "outcome"'
                )
            next_id = option.string("next") if option.has("next") else None
            outcome = _outcome_ref(option, "outcome", outcome_ids) if option.has("outcome") else None
            options.append(StepOption(value, option.text("label"), option.text("reason"), next_id, outcome))
        steps.append(Step(step_id, number, obj.text("text"), obj.text("help", optional=True), tuple(options)))

    by_id = {step.id: step for step in steps}
    start = top.string("start")
    if start not in by_id:
        raise top.error("start", f'"{start}" is not a step of this instrument')
    for index, step in enumerate(steps):
        for j, choice in enumerate(step.options):
            if choice.next is not None and choice.next not in by_id:
                raise DefinitionError(
                    top.source, f"steps[{index}].options[{j}].next", f'"{choice.next}" is not a step of this instrument'
                )
    _check_tree(top, steps, by_id, start, common["outcomes"])
    return Instrument(**common, start=start, steps=tuple(steps))


def _check_tree(
    top: _Obj, steps: list[Step], by_id: dict[str, Step], start: str, outcomes: tuple[Outcome, ...]
) -> None:
    """No loops, every step reachable from ``start``, every outcome reachable."""
    index_of = {step.id: index for index, step in enumerate(steps)}
    state: dict[str, str] = {}  # "open" while on the current path, "done" once explored
    reached_outcomes: set[str] = set()

    def visit(step_id: str, trail: tuple[str, ...]) -> None:
        state[step_id] = "open"
        step = by_id[step_id]
        for j, option in enumerate(step.options):
            if option.outcome is not None:
                reached_outcomes.add(option.outcome)
                continue
            assert option.next is not None
            if state.get(option.next) == "open":
                loop = " -> ".join((*trail, step_id, option.next)[list((*trail, step_id)).index(option.next) :])
                raise DefinitionError(
                    top.source,
                    f"steps[{index_of[step_id]}].options[{j}].next",
                    f'"{option.next}" leads back to an earlier step: the tree has a loop ({loop})',
                )
            if option.next not in state:
                visit(option.next, (*trail, step_id))
        state[step_id] = "done"

    visit(start, ())
    for index, step in enumerate(steps):
        if step.id not in state:
            raise DefinitionError(
                top.source, f"steps[{index}]", f'step "{step.id}" cannot be reached from the start "{start}"'
            )
    _all_outcomes_reachable(top, outcomes, reached_outcomes)


# -- level scheme -----------------------------------------------------------------------------


def _level_scheme(
    top: _Obj, definition_id: str, version: int, title: Text, description: Text, extra_interventions: Iterable[str]
) -> LevelScheme:
    known = KNOWN_INTERVENTION_KINDS | set(extra_interventions)
    levels: list[Level] = []
    seen: dict[str, str] = {}
    for _index, path, raw in _objects(top, "levels"):
        obj = _Obj(
            raw,
            path,
            top.source,
            required=("id", "label", "approval", "reassess_days", "interventions"),
            optional=("description",),
        )
        level_id = obj.local_id("id", max_length=MAX_LEVEL_ID, what="a level id")
        _unique(obj, "id", seen, level_id, "level id")
        approval = obj.boolean("approval")
        reassess_days = obj.integer("reassess_days", minimum=1, maximum=MAX_REASSESS_DAYS)
        rules = _Obj(obj.data["interventions"], obj.at("interventions"), top.source, required=("required", "suggested"))
        kinds: dict[str, tuple[str, ...]] = {}
        for key in ("required", "suggested"):
            values: list[str] = []
            for j, value in enumerate(rules.array(key, non_empty=False)):
                where = rules.at(key) + f"[{j}]"
                if not isinstance(value, str):
                    raise DefinitionError(top.source, where, f"must be a string, not {_type_name(value)}")
                if value not in known:
                    close = difflib.get_close_matches(value, sorted(known), n=1)
                    hint = f' (did you mean "{close[0]}"?)' if close else ""
                    raise DefinitionError(top.source, where, f'"{value}" is not a known intervention kind{hint}')
                if value in values:
                    raise DefinitionError(top.source, where, f'"{value}" is listed twice')
                values.append(value)
            kinds[key] = tuple(values)
        both = set(kinds["required"]) & set(kinds["suggested"])
        if both:
            raise rules.error("suggested", f'"{sorted(both)[0]}" is already required at this level')
        if levels:
            below = levels[-1]
            if below.approval and not approval:
                raise obj.error(
                    "approval",
                    f'level "{level_id}" needs no approval but the lower level "{below.id}" does: '
                    "list the levels lowest first, and a higher level needs approval too",
                )
            if reassess_days > below.reassess_days:
                raise obj.error(
                    "reassess_days",
                    f'level "{level_id}" is reassessed less often ({reassess_days} days) than the lower level '
                    f'"{below.id}" ({below.reassess_days} days): list the levels lowest first',
                )
        levels.append(
            Level(
                id=level_id,
                label=obj.text("label"),
                description=obj.text("description", optional=True),
                approval=approval,
                reassess_days=reassess_days,
                required=kinds["required"],
                suggested=kinds["suggested"],
            )
        )
    level_ids = {level.id for level in levels}
    outcome_map: dict[str, dict[str, str]] = {}
    if top.has("outcome_map"):
        raw_map = top.data["outcome_map"]
        if not isinstance(raw_map, dict):
            raise top.error("outcome_map", f"must be an object, not {_type_name(raw_map)}")
        for instrument_id, mapping in raw_map.items():
            path = f"outcome_map.{instrument_id}"
            if not DEFINITION_ID_RE.fullmatch(instrument_id):
                shown = _shown(instrument_id)
                raise DefinitionError(top.source, f"outcome_map.{shown}", f'"{shown}" is not a valid instrument id')
            if not isinstance(mapping, dict):
                raise DefinitionError(
                    top.source, path, f"must be an object of outcome id: level id, not {_type_name(mapping)}"
                )
            for outcome_id, level_id in mapping.items():
                if not (LOCAL_ID_RE.fullmatch(outcome_id) and len(outcome_id) <= MAX_OUTCOME_ID):
                    raise DefinitionError(
                        top.source, f"{path}.{_shown(outcome_id)}", f'"{_shown(outcome_id)}" is not a valid outcome id'
                    )
                if not isinstance(level_id, str):
                    raise DefinitionError(
                        top.source, f"{path}.{outcome_id}", f"must be a level id, not {_type_name(level_id)}"
                    )
                if level_id not in level_ids:
                    raise DefinitionError(
                        top.source,
                        f"{path}.{outcome_id}",
                        f'"{level_id}" is not a level of this scheme (one of: {", ".join(sorted(level_ids))})',
                    )
            outcome_map[instrument_id] = dict(mapping)
    return LevelScheme(
        id=definition_id,
        version=version,
        title=title,
        description=description,
        levels=tuple(levels),
        outcome_map=outcome_map,
        source=top.source,
    )
