"""Assessment instruments and level schemes as versioned data: the typed model, the validator, the registry.

A definition is a JSON file in ``instruments/`` named ``<id>.v<version>.json`` (docs/assessments.md,
"Instrument and level-scheme files", describes the format field by field). This module is the schema:
``load_definition`` checks a decoded file and returns a frozen ``Instrument`` or ``LevelScheme``, or raises
a ``DefinitionError`` naming the file, the field and what is wrong. ``builtin()`` is the registry of the
shipped files; ``Registry.with_extra`` puts a district's own files on top. A published version never
changes: a change is a new version (the registry refuses two files with the same id and version).

There is no score anywhere: instruments record answers and evidence and suggest an outcome with its
reasons; the team decides the level.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias

from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

INSTRUMENTS_DIR: Path = Path(__file__).resolve().parent / "instruments"
MAX_FILE_BYTES: Final = 1_000_000

INSTRUMENT_KINDS: Final = ("checklist", "themes", "decision_tree")
KINDS: Final = (*INSTRUMENT_KINDS, "level_scheme")

# The intervention catalogue's kind ids (the management plan ships these); districts add their own.
KNOWN_INTERVENTION_KINDS: Final = frozenset(
    {
        "resource-connection",
        "wellness-check",
        "crisis-intervention",
        "community-protection",
        "support-coordination",
        "safety-plan",
        "supervision-check-in",
        "schedule-change",
        "parent-conference",
        "mental-health-evaluation",
        "law-enforcement-referral",
        "target-protection-plan",
    }
)

# Checklist answer types.
YES_NO_UNKNOWN: Final = "yes_no_unknown"
CHOICE: Final = "choice"
TEXT: Final = "text"
DATE: Final = "date"
ANSWER_TYPES: Final = (YES_NO_UNKNOWN, CHOICE, TEXT, DATE)
YES_NO_UNKNOWN_CHOICES: Final = (("yes", _("Yes")), ("no", _("No")), ("unknown", _("Unknown")))

# Themes: the finding recorded for each theme (never a score), and the two outcomes of the engine.
CONCERN: Final = "concern"
NO_CONCERN: Final = "no_concern"
NOT_YET_KNOWN: Final = "not_yet_known"
FINDINGS: Final = (CONCERN, NO_CONCERN, NOT_YET_KNOWN)
FINDING_LABELS: Final = {CONCERN: _("Concern"), NO_CONCERN: _("No concern"), NOT_YET_KNOWN: _("Not yet known")}
# For a protective factor the same values read: is there a concern about this protection?
PROTECTIVE_FINDING_LABELS: Final = {
    NO_CONCERN: pgettext_lazy("protective factor", "In place"),
    CONCERN: _("Missing or weak"),
    NOT_YET_KNOWN: _("Not yet known"),
}
INFORMATION_COMPLETE: Final = "information_complete"
INFORMATION_GAPS: Final = "information_gaps"
THEMES_OUTCOMES: Final = (INFORMATION_COMPLETE, INFORMATION_GAPS)

DEFINITION_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}$")
LOCAL_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # items, steps, options, outcomes, levels...
LANGUAGE_RE: Final = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
FILE_NAME_RE: Final = re.compile(r"^(?P<id>.+)\.v(?P<version>[0-9]+)\.json$")


class DefinitionError(Exception):
    """A definition file that cannot be used: ``source`` (file name), ``field`` (a path such as
    ``steps[3].options[1].next``, empty for the whole file) and a plain-English ``message``."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.message}"


class Text:
    """A text of a definition in one or more languages (English always present).

    ``str(text)`` is the active language's version (``django.utils.translation.get_language()``),
    falling back to the base language (``es`` for ``es-mx``) and then to English.
    """

    __slots__ = ("_values",)
    _values: dict[str, str]

    def __init__(self, values: Mapping[str, str] | str) -> None:
        if isinstance(values, str):
            values = {"en": values}
        if "en" not in values:
            raise ValueError("A Text needs an English version")
        object.__setattr__(self, "_values", dict(values))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Text is immutable")

    def get(self, lang: str | None = None) -> str:
        lang = (lang or get_language() or "en").lower()
        values: dict[str, str] = self._values
        if lang in values:
            return values[lang]
        base = lang.split("-")[0]
        return values.get(base, values["en"])

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._values)

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def __str__(self) -> str:
        return self.get()

    def __bool__(self) -> bool:
        return bool(self._values["en"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and other._values == self._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"Text({self._values!r})"


EMPTY_TEXT: Final = Text("")


# ---------------------------------------------------------------------------------------------
# The typed model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    id: str
    label: Text
    description: Text = EMPTY_TEXT


@dataclass(frozen=True)
class Option:
    """A choice of a checklist item."""

    value: str
    label: Text


@dataclass(frozen=True)
class Item:
    """A checklist question."""

    id: str
    text: Text
    help: Text
    answer: str  # one of ANSWER_TYPES
    options: tuple[Option, ...] = ()
    required: bool = True

    def choices(self) -> list[tuple[str, str]]:
        """(value, label) pairs in the active language; [] for text and date items."""
        if self.answer == YES_NO_UNKNOWN:
            return [(value, str(label)) for value, label in YES_NO_UNKNOWN_CHOICES]
        return [(option.value, str(option.label)) for option in self.options]

    def values(self) -> tuple[str, ...]:
        if self.answer == YES_NO_UNKNOWN:
            return tuple(value for value, _label in YES_NO_UNKNOWN_CHOICES)
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    items: tuple[Item, ...]
    help: Text = EMPTY_TEXT


@dataclass(frozen=True)
class Condition:
    item: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A checklist rule: when any (or all) of its conditions hold, it suggests ``outcome`` for ``reason``."""

    id: str
    outcome: str
    match: str  # "any" or "all"
    conditions: tuple[Condition, ...]
    reason: Text


@dataclass(frozen=True)
class Theme:
    id: str
    title: Text
    prompts: tuple[Text, ...]
    help: Text = EMPTY_TEXT
    protective: bool = False

    def finding_choices(self) -> list[tuple[str, str]]:
        labels = PROTECTIVE_FINDING_LABELS if self.protective else FINDING_LABELS
        return [(value, str(labels[value])) for value in FINDINGS]


@dataclass(frozen=True)
class StepOption:
    """An answer to a decision-tree step: it leads to the ``next`` step or ends at an ``outcome``."""

    value: str
    label: Text
    reason: Text
    next: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    step: int  # the protocol's step number (1-5 for the CSTAG-style tree)
    text: Text
    help: Text
    options: tuple[StepOption, ...]

    def option(self, value: str) -> StepOption:
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(value)


@dataclass(frozen=True)
class Instrument:
    """An assessment instrument of one ``kind``; only the fields of that kind are filled."""

    id: str
    version: int
    kind: str  # one of INSTRUMENT_KINDS
    title: Text
    description: Text
    outcomes: tuple[Outcome, ...]
    # checklist
    sections: tuple[Section, ...] = ()
    rules: tuple[Rule, ...] = ()
    default_outcome: str | None = None
    default_reason: Text = EMPTY_TEXT
    # themes
    themes: tuple[Theme, ...] = ()
    # decision_tree
    start: str | None = None
    steps: tuple[Step, ...] = ()
    source: str = field(default="", compare=False)

    def outcome(self, outcome_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.id == outcome_id:
                return outcome
        raise KeyError(outcome_id)

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def theme(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


@dataclass(frozen=True)
class Level:
    id: str
    label: Text
    description: Text
    approval: bool  # deciding this level needs a team leader's approval
    reassess_days: int
    required: tuple[str, ...]  # intervention kind ids a plan at this level must have
    suggested: tuple[str, ...]


@dataclass(frozen=True)
class LevelScheme:
    id: str
    version: int
    title: Text
    description: Text
    levels: tuple[Level, ...]  # lowest first
    # {instrument id: {outcome id: level id}}: a suggested outcome maps to a suggested level.
    outcome_map: dict[str, dict[str, str]]
    kind: str = "level_scheme"
    source: str = field(default="", compare=False)

    def level(self, level_id: str) -> Level:
        for level in self.levels:
            if level.id == level_id:
                return level
        raise KeyError(level_id)

    def rank(self, level_id: str) -> int:
        for index, level in enumerate(self.levels):
            if level.id == level_id:
                return index
        raise KeyError(level_id)

    def suggested_level(self, instrument_id: str, outcome_id: str | None) -> Level | None:
        """The level this scheme suggests for an instrument's outcome, or None when it maps none."""
        level_id = self.outcome_map.get(instrument_id, {}).get(outcome_id or "")
        return self.level(level_id) if level_id else None


Definition: TypeAlias = Instrument | LevelScheme


# ---------------------------------------------------------------------------------------------
# Validation (the rules are in btam/assessments/schema.py)
# ---------------------------------------------------------------------------------------------


def load_definition(data: object, *, source: str, extra_interventions: Iterable[str] = ()) -> Definition:
    """Validate a decoded definition file and return its typed model; raise DefinitionError otherwise.

    ``source`` names the file in messages (a name ending in ``.json`` must be ``<id>.v<version>.json``);
    ``extra_interventions`` are intervention kind ids a district added to the catalogue.
    """
    from btam.assessments import schema

    return schema.load(data, source=source, extra_interventions=extra_interventions)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def parse_json(text: str, *, source: str, extra_interventions: Iterable[str] = ()) -> Definition:
    """Decode and validate a definition; invalid JSON (or a key given twice) is a DefinitionError too."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise DefinitionError(source, "", f'the key "{key}" appears twice in the same object')
            result[key] = value
        return result

    def no_constant(name: str) -> None:
        raise DefinitionError(source, "", f"invalid JSON: {name} is not allowed")

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise DefinitionError(source, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise DefinitionError(source, "", "invalid JSON: nested too deeply") from None
    except ValueError:  # a number of more than 4,300 digits (Python's limit for reading an integer)
        raise DefinitionError(source, "", "invalid JSON: a number is too long") from None
    return load_definition(data, source=source, extra_interventions=extra_interventions)


def parse_bytes(
    raw: bytes, *, source: str, extra_interventions: Iterable[str] = (), max_bytes: int = MAX_FILE_BYTES
) -> Definition:
    """Decode (UTF-8, with or without the byte-order mark some editors write) and validate a file's bytes."""
    if len(raw) > max_bytes:
        limit = f"{max_bytes // 1_000_000} MB" if max_bytes >= 1_000_000 else f"{max_bytes // 1024} KB"
        raise DefinitionError(source, "", f"is larger than {limit}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError(source, "", f"is not UTF-8 text (byte {exc.start + 1})") from None
    return parse_json(text, source=source, extra_interventions=extra_interventions)


def parse_file(
    path: str | Path, *, extra_interventions: Iterable[str] = (), max_bytes: int = MAX_FILE_BYTES
) -> Definition:
    path = Path(path)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DefinitionError(source, "", f"cannot be read ({exc.strerror or exc})") from None
    return parse_bytes(raw, source=source, extra_interventions=extra_interventions, max_bytes=max_bytes)


def _definition_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.json") if path.is_file())


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


def _registry_errors(definitions: list[Definition]) -> list[DefinitionError]:
    """What is wrong between files: a version defined twice, an id of two kinds, an outcome map
    naming an unknown instrument or outcome."""
    errors: list[DefinitionError] = []
    seen: dict[tuple[str, int], Definition] = {}
    kind_of: dict[str, Definition] = {}
    accepted: list[Definition] = []
    for definition in definitions:
        key = (definition.id, definition.version)
        if key in seen:
            first = seen[key]
            errors.append(
                DefinitionError(
                    definition.source or definition.id,
                    "version",
                    f'version {definition.version} of "{definition.id}" is already defined'
                    + (f" in {first.source}" if first.source else "")
                    + f": a published definition never changes; publish version {definition.version + 1} instead",
                )
            )
            continue
        other = kind_of.get(definition.id)
        if other is not None and other.kind != definition.kind:
            errors.append(
                DefinitionError(
                    definition.source or definition.id,
                    "kind",
                    f'"{definition.id}" is a {other.kind} in {other.source or "another file"}; '
                    f"one id cannot be a {definition.kind} too",
                )
            )
            continue
        seen[key] = definition
        kind_of.setdefault(definition.id, definition)
        accepted.append(definition)

    outcomes_of: dict[str, set[str]] = {}
    kinds: dict[str, str] = {}
    for definition in accepted:
        if isinstance(definition, Instrument):
            outcomes_of.setdefault(definition.id, set()).update(outcome.id for outcome in definition.outcomes)
            kinds[definition.id] = definition.kind
    for definition in accepted:
        if not isinstance(definition, LevelScheme):
            continue
        for instrument_id, mapping in definition.outcome_map.items():
            path = f"outcome_map.{instrument_id}"
            if instrument_id not in outcomes_of:
                errors.append(
                    DefinitionError(
                        definition.source or definition.id, path, f'no instrument "{instrument_id}" is defined'
                    )
                )
                continue
            if kinds[instrument_id] == "themes":
                errors.append(
                    DefinitionError(
                        definition.source or definition.id,
                        path,
                        f'"{instrument_id}" records themes and evidence: it never suggests a level',
                    )
                )
                continue
            for outcome_id in mapping:
                if outcome_id not in outcomes_of[instrument_id]:
                    errors.append(
                        DefinitionError(
                            definition.source or definition.id,
                            f"{path}.{outcome_id}",
                            f'"{outcome_id}" is not an outcome of "{instrument_id}" '
                            f"(one of: {', '.join(sorted(outcomes_of[instrument_id]))})",
                        )
                    )
    return errors


class Registry:
    """The definitions available to a district: the shipped ones, plus its own (``with_extra``)."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self._all: tuple[Definition, ...] = tuple(definitions)
        errors = _registry_errors(list(self._all))
        if errors:
            raise errors[0]
        self._instruments: dict[str, dict[int, Instrument]] = {}
        self._schemes: dict[str, dict[int, LevelScheme]] = {}
        for definition in self._all:
            if isinstance(definition, Instrument):
                self._instruments.setdefault(definition.id, {})[definition.version] = definition
            else:
                self._schemes.setdefault(definition.id, {})[definition.version] = definition

    @staticmethod
    def _get(table: Mapping[str, Mapping[int, Any]], what: str, definition_id: str, version: int | None) -> Any:
        versions = table.get(definition_id)
        if not versions:
            raise KeyError(f'no {what} "{definition_id}"')
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise KeyError(f'{what} "{definition_id}" has no version {version}')
        return versions[version]

    def instrument(self, id: str, version: int | None = None) -> Instrument:  # noqa: A002 (the contract's name)
        """An instrument by id: the given version, the latest when None; KeyError if unknown."""
        instrument: Instrument = self._get(self._instruments, "instrument", id, version)
        return instrument

    def scheme(self, id: str, version: int | None = None) -> LevelScheme:  # noqa: A002
        """A level scheme by id: the given version, the latest when None; KeyError if unknown."""
        scheme: LevelScheme = self._get(self._schemes, "level scheme", id, version)
        return scheme

    def instruments(self) -> list[Instrument]:
        """The latest version of each instrument, by id."""
        return [versions[max(versions)] for _id, versions in sorted(self._instruments.items())]

    def schemes(self) -> list[LevelScheme]:
        """The latest version of each level scheme, by id."""
        return [versions[max(versions)] for _id, versions in sorted(self._schemes.items())]

    def versions(self, id: str) -> list[int]:  # noqa: A002
        """The versions of an instrument or scheme, oldest first ([] if unknown)."""
        versions = self._instruments.get(id) or self._schemes.get(id) or {}
        return sorted(versions)

    def definitions(self) -> tuple[Definition, ...]:
        return self._all

    def with_extra(self, definitions: Iterable[Definition]) -> Registry:
        """A registry with ``definitions`` (a district's own files) on top of these; a file may add a new
        id or a new version, never replace a version that exists (DefinitionError)."""
        return Registry((*self._all, *definitions))


def load_directory(directory: Path) -> tuple[list[Definition], list[DefinitionError]]:
    """Every ``*.json`` file of ``directory`` (not its subfolders): the valid ones and the errors."""
    loaded: list[Definition] = []
    errors: list[DefinitionError] = []
    if not directory.is_dir():
        return loaded, [DefinitionError(str(directory), "", "the definitions folder does not exist")]
    for path in _definition_files(directory):
        try:
            loaded.append(parse_file(path))
        except DefinitionError as exc:
            errors.append(exc)
    return loaded, errors


@functools.cache
def builtin() -> Registry:
    """The shipped definitions, loaded and validated once; a broken file raises its DefinitionError."""
    loaded, errors = load_directory(INSTRUMENTS_DIR)
    if errors:
        raise errors[0]
    return Registry(loaded)


def check_all(directory: Path | None = None) -> list[DefinitionError]:
    """Every problem of the definition files (the shipped folder by default): each file on its own,
    then between files. Used by the start-up check (assessments.E001) and the tests."""
    loaded, errors = load_directory(directory or INSTRUMENTS_DIR)
    return errors + _registry_errors(loaded)
