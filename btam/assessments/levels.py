"""Level schemes as the rest of the system sees them: a district's scheme, a level's name, the
interval and the rules of a level (the district's settings over the scheme's defaults).

``registry_for`` builds a district's registry (the shipped files plus its own, validated with its
own intervention kinds). A district's files are immutable once stored, so the built registry is
kept per process and district with a fingerprint of the files' contents and the district's kind
codes (a query for those on each call; no parsing or validation when nothing changed), for up to
MAX_CACHED_DISTRICTS districts. A stored file that no longer validates
(for example a shipped file of the same id and version arrived later) is left out and reported by
``district_files``, never a 500 on every page of the district.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
            # Once per process and set of files (the result is kept): the file's name, not its content.
            logger.warning("A district's definition file %s is left out: it does not validate", name)
    return registry, tuple(problems)


# The built registries, by district: one entry each (the shipped registry, a fingerprint of the
# district's files and kinds, and what was built). A district's new file or kind replaces its own
# entry (old sets of files never pile up); the least recently used district is dropped only beyond
# MAX_CACHED_DISTRICTS, far more than the districts of a large install.
MAX_CACHED_DISTRICTS = 1024
_built: OrderedDict[int, tuple[definitions.Registry, str, tuple[definitions.Registry, tuple[str, ...]]]] = OrderedDict()
_built_lock = threading.Lock()


def _fingerprint(files: tuple[tuple[str, str], ...], kinds: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for part in (*kinds, "", *(piece for pair in files for piece in pair)):
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def _cached_build(
    district_id: int, base: definitions.Registry, files: tuple[tuple[str, str], ...], kinds: tuple[str, ...]
) -> tuple[definitions.Registry, tuple[str, ...]]:
    """``_build`` of the district's files, kept while its files, its kinds and the shipped registry
    (its own object: a new one builds anew) stay the same."""
    fingerprint = _fingerprint(files, kinds)
    with _built_lock:
        found = _built.get(district_id)
        if found is not None and found[0] is base and found[1] == fingerprint:
            _built.move_to_end(district_id)
            return found[2]
    result = _build(base, files, kinds)
    with _built_lock:
        _built[district_id] = (base, fingerprint, result)
        _built.move_to_end(district_id)
        while len(_built) > MAX_CACHED_DISTRICTS:
            _built.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget the built registries (tests)."""
    with _built_lock:
        _built.clear()


def _registry_and_problems(district_id: int) -> tuple[list[CustomDefinition], definitions.Registry, tuple[str, ...]]:
    rows = _rows(district_id)
    if not rows:
        return rows, definitions.builtin(), ()
    files = tuple((row.file_name, _canonical(row)) for row in rows)
    registry, problems = _cached_build(district_id, definitions.builtin(), files, district_kind_codes(district_id))
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


# The district's overrides of a scheme's intervals and rules are stored by scheme:
# ``reassess_days`` {scheme id: {level id: days}}, ``intervention_rules`` {scheme id: {level id:
# {"required": [codes], "suggested": [codes]}}}, so that a case decided with another scheme keeps
# that scheme's own. Settings saved before were flat ({level id: days}, {level id: rule}): they are
# read as the overrides of the district's current scheme.


def _by_scheme(stored: object, current_scheme: str, *, flat: bool) -> dict[str, dict[str, Any]]:
    if not isinstance(stored, Mapping) or not stored:
        return {}
    if flat:
        return {current_scheme: dict(stored)}
    return {str(scheme): dict(value) for scheme, value in stored.items() if isinstance(value, Mapping)}


def _is_flat_days(stored: object) -> bool:
    # Flat: {level: days}; by scheme: {scheme: {level: days}}.
    return isinstance(stored, Mapping) and any(not isinstance(value, Mapping) for value in stored.values())


def _is_flat_rules(stored: object) -> bool:
    # Flat: {level: {"required": [...], "suggested": [...]}}; by scheme: {scheme: {level: {...}}}.
    return isinstance(stored, Mapping) and any(
        isinstance(value, Mapping) and any(not isinstance(inner, Mapping) for inner in value.values())
        for value in stored.values()
    )


def day_overrides_by_scheme(row: AssessmentSettings) -> dict[str, dict[str, Any]]:
    """{scheme id: {level id: days}} (old flat settings as the current scheme's)."""
    current = row.level_scheme or DEFAULT_SCHEME
    return _by_scheme(row.reassess_days, current, flat=_is_flat_days(row.reassess_days))


def rule_overrides_by_scheme(row: AssessmentSettings) -> dict[str, dict[str, Any]]:
    """{scheme id: {level id: {"required": [...], "suggested": [...]}}} (old flat settings as the
    current scheme's)."""
    current = row.level_scheme or DEFAULT_SCHEME
    return _by_scheme(row.intervention_rules, current, flat=_is_flat_rules(row.intervention_rules))


def day_overrides(row: AssessmentSettings, scheme_id: str) -> dict[str, int]:
    """The district's intervals of ``scheme_id``'s levels: {level id: days} (only valid ones)."""
    found = day_overrides_by_scheme(row).get(scheme_id, {})
    return {level: days for level, days in found.items() if type(days) is int and days > 0}


def rule_overrides(row: AssessmentSettings, scheme_id: str) -> dict[str, dict[str, list[str]]]:
    """The district's rules of ``scheme_id``'s levels: {level id: {"required": [...], "suggested": [...]}}."""
    found = rule_overrides_by_scheme(row).get(scheme_id, {})
    return {
        level: {key: [str(code) for code in rule.get(key, ())] for key in ("required", "suggested")}
        for level, rule in found.items()
        if isinstance(rule, Mapping)
    }


def reassess_days(district_id: int, scheme: definitions.LevelScheme, level_id: str) -> int:
    """Days until the next reassessment at ``level_id`` of ``scheme`` (the case's own scheme): the
    district's setting for that scheme, else the scheme's."""
    value = day_overrides(settings_for(district_id), scheme.id).get(level_id)
    if value is not None:
        return value
    return scheme.level(level_id).reassess_days


def rules(district_id: int, scheme: definitions.LevelScheme, level_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, suggested) intervention kind codes at ``level_id`` of ``scheme`` (the case's own):
    the district's rule for that scheme's level, else the scheme's."""
    override = rule_overrides(settings_for(district_id), scheme.id).get(level_id)
    if override is not None:
        return tuple(override["required"]), tuple(override["suggested"])
    level = scheme.level(level_id)
    return level.required, level.suggested


def offered_instrument_ids(chosen: Iterable[object], registry: definitions.Registry) -> list[str]:
    """The instruments a district's teams are offered (ids, latest versions): those it chose that
    still exist, or every available one when it chose none (or none of its choices is left)."""
    available = [instrument.id for instrument in registry.instruments()]
    picked = [str(i) for i in chosen if str(i) in available]
    return picked or available


def level_label(scheme_id: str, level_id: str, *, district_id: int | None = None, version: int | None = None) -> str:
    """A level's name in the active language: from the district's registry (the shipped schemes and
    its own files, never another district's) when ``district_id`` is given, from the shipped
    schemes otherwise; ``version`` when known (a LevelChange, an assessment), else the latest; the
    id itself as a last resort."""
    if not level_id:
        return ""
    registry = definitions.builtin() if district_id is None else registry_for(district_id)
    return _label_in(registry, scheme_id, level_id, version)


def _label_in(registry: definitions.Registry, scheme_id: str, level_id: str, version: int | None) -> str:
    scheme_id = scheme_id or DEFAULT_SCHEME
    for wanted in (version, None) if version is not None else (None,):
        try:
            return str(registry.scheme(scheme_id, wanted).level(level_id).label)
        except KeyError:
            continue
    return level_id.replace("-", " ").capitalize()


class LevelLabels:
    """``level_label`` for many cases of a page: each district's registry is read once (the page's
    queries do not grow with its cases or levels), each name looked up once."""

    def __init__(self) -> None:
        self._registries: dict[int, definitions.Registry] = {}
        self._labels: dict[tuple[int, str, str, int | None], str] = {}

    def __call__(self, district_id: int, scheme_id: str, level_id: str, version: int | None = None) -> str:
        if not level_id:
            return ""
        key = (district_id, scheme_id, level_id, version)
        if key not in self._labels:
            if district_id not in self._registries:
                self._registries[district_id] = registry_for(district_id)
            self._labels[key] = _label_in(self._registries[district_id], scheme_id, level_id, version)
        return self._labels[key]
