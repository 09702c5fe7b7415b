"""Level schemes as the rest of the system sees them: a district's scheme, a level's name, the
interval and the rules of a level (the district's settings over the scheme's defaults).

``registry_for`` builds a district's registry (the shipped files plus its own, validated with its
own intervention kinds). A district's files are immutable once stored, so the built registry is
kept per process, keyed by the files' contents and the district's kind codes (a query for those on
each call; no parsing or validation when nothing changed). A stored file that no longer validates
(for example a shipped file of the same id and version arrived later) is left out and reported by
``district_files``, never a 500 on every page of the district.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import get_language

from btam.assessments import definitions
from btam.assessments.models import AssessmentSettings, CustomDefinition, InterventionKind

logger = logging.getLogger(__name__)

DEFAULT_SCHEME = "virginia"


@dataclass(frozen=True)
class DistrictFile:
    """One of a district's own definition files, with why it is not in use ("" when it is)."""

    row: CustomDefinition
    problem: str = ""


def district_kind_codes(district_id: int, *, active_only: bool = False) -> tuple[str, ...]:
    """The codes of the district's own intervention kinds (deactivated ones too, unless asked):
    a stored scheme file may name a kind deactivated since."""
    kinds = InterventionKind.objects.filter(district_id=district_id)
    if active_only:
        kinds = kinds.filter(active=True)
    return tuple(sorted(kinds.values_list("code", flat=True)))


def _rows(district_id: int) -> list[CustomDefinition]:
    return list(CustomDefinition.objects.filter(district_id=district_id).order_by("definition_id", "version", "pk"))


def _canonical(row: CustomDefinition) -> str:
    return json.dumps(row.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=32)
def _build(
    base: definitions.Registry, files: tuple[tuple[str, str], ...], kinds: tuple[str, ...]
) -> tuple[definitions.Registry, tuple[str, ...]]:
    """The registry of ``base`` (the shipped files) plus ``files`` ((file name, JSON), in order) and
    the problem of each file ("" when it is in). All at once first; file by file when that fails."""
    loaded: list[definitions.Definition | None] = []
    problems: list[str] = []
    for name, text in files:
        try:
            loaded.append(definitions.load_definition(json.loads(text), source=name, extra_interventions=kinds))
            problems.append("")
        except definitions.DefinitionError as exc:
            loaded.append(None)
            problems.append(str(exc))
    good = [d for d in loaded if d is not None]
    if all(d is not None for d in loaded):
        try:
            return base.with_extra(good), tuple(problems)
        except definitions.DefinitionError:
            pass  # find the file(s) at fault below
    # One at a time, in passes (a scheme may name an instrument that comes later), until no file
    # is added any more: those left are at fault.
    registry = base
    pending = [index for index, definition in enumerate(loaded) if definition is not None]
    while pending:
        left: list[int] = []
        for index in pending:
            definition = loaded[index]
            if definition is None:
                continue
            try:
                registry = registry.with_extra([definition])
            except definitions.DefinitionError as exc:
                problems[index] = str(exc)
                left.append(index)
            else:
                problems[index] = ""
        if len(left) == len(pending):
            break
        pending = left
    for (name, _text), problem in zip(files, problems, strict=True):
        if problem:
            # Once per process and set of files (this is cached): the file's name, not its content.
            logger.warning("A district's definition file %s is left out: it does not validate", name)
    return registry, tuple(problems)


def _registry_and_problems(district_id: int) -> tuple[list[CustomDefinition], definitions.Registry, tuple[str, ...]]:
    rows = _rows(district_id)
    if not rows:
        return rows, definitions.builtin(), ()
    files = tuple((row.file_name, _canonical(row)) for row in rows)
    # The shipped registry is part of the key: a new one (its cache cleared) builds anew.
    registry, problems = _build(definitions.builtin(), files, district_kind_codes(district_id))
    return rows, registry, problems


def registry_for(district_id: int) -> definitions.Registry:
    """The shipped definitions plus the district's own files (those that still validate)."""
    return _registry_and_problems(district_id)[1]


def district_files(district_id: int) -> list[DistrictFile]:
    """The district's own files (by id, then version) and what is wrong with each, if anything."""
    rows, _registry, problems = _registry_and_problems(district_id)
    return [DistrictFile(row=row, problem=problem) for row, problem in zip(rows, problems, strict=True)]


def settings_for(district_id: int) -> AssessmentSettings:
    """The district's settings (unsaved defaults when it has none)."""
    found = AssessmentSettings.objects.filter(district_id=district_id).first()
    return found or AssessmentSettings(district_id=district_id, level_scheme=DEFAULT_SCHEME)


def scheme_for(district_id: int) -> definitions.LevelScheme:
    """The district's current level scheme (latest version)."""
    chosen = settings_for(district_id).level_scheme or DEFAULT_SCHEME
    registry = registry_for(district_id)
    try:
        return registry.scheme(chosen)
    except KeyError:
        return registry.scheme(DEFAULT_SCHEME)


def reassess_days(district_id: int, scheme: definitions.LevelScheme, level_id: str) -> int:
    """Days until the next reassessment at ``level_id``: the district's setting, else the scheme's."""
    override = settings_for(district_id).reassess_days or {}
    value = override.get(level_id)
    if isinstance(value, int) and value > 0:
        return value
    return scheme.level(level_id).reassess_days


def rules(district_id: int, scheme: definitions.LevelScheme, level_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, suggested) intervention kind codes at ``level_id``."""
    override = (settings_for(district_id).intervention_rules or {}).get(level_id)
    if isinstance(override, dict):
        return tuple(override.get("required", ())), tuple(override.get("suggested", ()))
    level = scheme.level(level_id)
    return level.required, level.suggested


@lru_cache(maxsize=256)
def _builtin_label(scheme_id: str, level_id: str, language: str) -> str | None:
    # ``language`` is part of the cache key: the label is read in the active language.
    try:
        return str(definitions.builtin().scheme(scheme_id).level(level_id).label)
    except KeyError:
        return None


def level_label(scheme_id: str, level_id: str) -> str:
    """A level's name (in the active language for shipped schemes); a district's own scheme's
    label is looked up in its files; the id itself as a last resort."""
    label = _builtin_label(scheme_id or DEFAULT_SCHEME, level_id, get_language() or "en")
    if label is not None:
        return label
    for row in CustomDefinition.objects.filter(definition_id=scheme_id).order_by("-version").only("content"):
        for level in (row.content or {}).get("levels", []):
            if isinstance(level, dict) and level.get("id") == level_id:
                text = level.get("label")
                return str(text.get("en", level_id) if isinstance(text, dict) else text)
    return level_id.replace("-", " ").capitalize()
