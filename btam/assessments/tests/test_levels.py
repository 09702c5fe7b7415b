"""levels.py: a level's name from the case's own district (never another district's file), the
district's intervals and rules by scheme (a case decided with another scheme keeps that scheme's),
and the per-district cache of built registries (review findings 6, 14 and 16)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from btam.assessments import definitions, levels
from btam.assessments.models import Assessment, AssessmentSettings
from btam.assessments.monitoring_views import level_labels
from btam.assessments.settings_actions import do_update_assessment_settings, do_upload_definition
from btam.assessments.tests.settings_helpers import file_bytes, file_name, manager, scheme_json
from btam.cases.list_views import _risk_label
from btam.cases.models import Case
from btam.cases.timeline import _level_name

ALL_INSTRUMENTS = ["cstag-decision-tree", "ntac-themes", "screening-checklist"]


def store(world: Any, data: dict[str, Any], *, other: bool = False) -> None:
    district = world.other_district if other else world.district
    actor = world.outsider if other else manager(world)
    do_upload_definition(actor=actor, district_id=district.pk, file_name=file_name(data), data=file_bytes(data))


def with_red(label: Any, **changes: Any) -> dict[str, Any]:
    data = scheme_json(**changes)
    data["levels"][2]["label"] = label
    return data


# Labels (finding 6) ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_districts_with_a_same_id_scheme_show_their_own_labels(world: Any) -> None:
    store(world, with_red("Red (district A wording)", version=2), other=False)
    store(world, with_red("Crimson (district B)"), other=True)
    a, b = world.district.pk, world.other_district.pk
    assert levels.level_label("district-scheme", "red", district_id=a) == "Red (district A wording)"
    assert levels.level_label("district-scheme", "red", district_id=b) == "Crimson (district B)"
    # The case's property, the case list, the due list and the timeline read the case's district.
    case_a = Case(district_id=a, risk_scheme="district-scheme", risk_level="red")
    case_b = Case(district_id=b, risk_scheme="district-scheme", risk_level="red")
    assert (case_a.risk_level_label, case_b.risk_level_label) == ("Red (district A wording)", "Crimson (district B)")
    labels = levels.LevelLabels()
    assert _risk_label(labels, b, "district-scheme", "red") == "Crimson (district B)"
    assert _risk_label(labels, a, "district-scheme", "red") == "Red (district A wording)"
    assert labels(b, "district-scheme", "red", 1) == "Crimson (district B)"
    assert labels(a, "district-scheme", "red", 1) == "Red (district A wording)"  # A has no version 1: its latest
    assert level_labels([case_a, case_b]) == {
        (a, "district-scheme", "red"): "Red (district A wording)",
        (b, "district-scheme", "red"): "Crimson (district B)",
    }
    decided = Assessment(district_id=b, scheme_id="district-scheme", scheme_version=1, level="red")
    assert _level_name(decided) == "Crimson (district B)"


@pytest.mark.django_db
def test_without_a_district_no_districts_file_is_read(world: Any) -> None:
    store(world, with_red("Our own red"))
    assert levels.level_label("district-scheme", "red") == "Red"  # the id, not district A's wording
    assert levels.level_label("virginia", "imminent") == "Imminent"
    assert levels.level_label("", "moderate") == "Moderate"  # the default scheme
    assert levels.level_label("virginia", "") == ""


@pytest.mark.django_db
def test_the_version_decided_with_names_the_level(world: Any) -> None:
    store(world, with_red("Red"))
    store(world, with_red("Crimson", version=2))
    d = world.district.pk
    assert levels.level_label("district-scheme", "red", district_id=d, version=1) == "Red"
    assert levels.level_label("district-scheme", "red", district_id=d, version=2) == "Crimson"
    assert levels.level_label("district-scheme", "red", district_id=d) == "Crimson"  # the latest
    assert levels.level_label("district-scheme", "red", district_id=d, version=9) == "Crimson"  # no such version
    assert levels.level_label("district-scheme", "purple-ish", district_id=d) == "Purple ish"
    assert levels.level_label("no-such-scheme", "red", district_id=d) == "Red"


@pytest.mark.django_db
def test_labels_are_in_the_active_language(world: Any) -> None:
    store(world, with_red({"en": "Red", "es": "Rojo"}))
    d = world.district.pk
    with translation.override("es"):
        assert levels.level_label("district-scheme", "red", district_id=d) == "Rojo"
        assert levels.level_label("virginia", "low", district_id=d) == str(
            definitions.builtin().scheme("virginia").level("low").label.get("es")
        )
    with translation.override("en"):
        assert levels.level_label("district-scheme", "red", district_id=d) == "Red"


# Overrides by scheme (finding 14) ----------------------------------------------------------------


def update(world: Any, scheme: str, **changes: Any) -> AssessmentSettings:
    values: dict[str, Any] = {
        "actor": manager(world),
        "district_id": world.district.pk,
        "level_scheme": scheme,
        "instruments": ALL_INSTRUMENTS,
        "reassess_days": {},
        "intervention_rules": {},
    }
    values.update(changes)
    return do_update_assessment_settings(**values)


@pytest.mark.django_db
def test_a_case_of_the_old_scheme_keeps_its_schemes_overrides(world: Any) -> None:
    d = world.district.pk
    registry = definitions.builtin()
    virginia, florida = registry.scheme("virginia"), registry.scheme("florida")
    update(
        world,
        "virginia",
        reassess_days={"high": 5},
        intervention_rules={"high": {"required": ["safety-plan"], "suggested": []}},
    )
    update(
        world,
        "florida",
        reassess_days={"high": 2},
        intervention_rules={"high": {"required": ["parent-conference"], "suggested": []}},
    )
    # Both have a level "high": each scheme's cases read their own scheme's overrides.
    assert levels.reassess_days(d, virginia, "high") == 5
    assert levels.reassess_days(d, florida, "high") == 2
    assert levels.rules(d, virginia, "high") == (("safety-plan",), ())
    assert levels.rules(d, florida, "high") == (("parent-conference",), ())
    # A level without an override: the scheme's own.
    assert levels.reassess_days(d, virginia, "low") == virginia.level("low").reassess_days
    assert levels.rules(d, florida, "low") == (florida.level("low").required, florida.level("low").suggested)


@pytest.mark.django_db
def test_switching_back_keeps_the_other_schemes_overrides(world: Any) -> None:
    update(world, "virginia", reassess_days={"high": 5})
    update(world, "florida", reassess_days={"high": 2})
    row = update(world, "virginia", reassess_days={"high": 4})
    assert row.reassess_days == {"florida": {"high": 2}, "virginia": {"high": 4}}
    row = update(world, "virginia", reassess_days={"high": None})  # back to the scheme's default
    assert row.reassess_days == {"florida": {"high": 2}}


@pytest.mark.django_db
def test_old_flat_settings_are_the_current_schemes(world: Any) -> None:
    d = world.district.pk
    registry = definitions.builtin()
    virginia, florida = registry.scheme("virginia"), registry.scheme("florida")
    AssessmentSettings.objects.create(
        district=world.district,
        level_scheme="florida",
        reassess_days={"high": 3},
        intervention_rules={"high": {"required": ["wellness-check"], "suggested": []}},
    )
    assert levels.reassess_days(d, florida, "high") == 3
    assert levels.rules(d, florida, "high") == (("wellness-check",), ())
    # Not Virginia's "high" (a case decided with Virginia before the switch).
    assert levels.reassess_days(d, virginia, "high") == virginia.level("high").reassess_days
    assert levels.rules(d, virginia, "high") == (virginia.level("high").required, virginia.level("high").suggested)
    # Saving writes the new shape, the flat overrides kept as Florida's.
    row = update(world, "virginia", reassess_days={"high": 6})
    assert row.reassess_days == {"florida": {"high": 3}, "virginia": {"high": 6}}
    assert row.intervention_rules == {"florida": {"high": {"required": ["wellness-check"], "suggested": []}}}
    assert levels.reassess_days(d, florida, "high") == 3


@pytest.mark.django_db
def test_the_settings_form_shows_the_current_schemes_overrides(world: Any) -> None:
    AssessmentSettings.objects.create(district=world.district, level_scheme="florida", reassess_days={"high": 3})
    row = levels.settings_for(world.district.pk)
    assert levels.day_overrides(row, "florida") == {"high": 3}
    assert levels.day_overrides(row, "virginia") == {}
    row.reassess_days = {"virginia": {"high": 4, "low": True, "moderate": 0}, "florida": {"high": 3}}
    assert levels.day_overrides(row, "virginia") == {"high": 4}  # only valid numbers of days


def test_overrides_read_any_stored_shape() -> None:
    row = AssessmentSettings(level_scheme="virginia", reassess_days={}, intervention_rules={})
    assert levels.day_overrides_by_scheme(row) == {} and levels.rule_overrides_by_scheme(row) == {}
    row.intervention_rules = {"imminent": {"required": ["safety-plan"]}}  # flat, "suggested" left out
    assert levels.rule_overrides(row, "virginia") == {"imminent": {"required": ["safety-plan"], "suggested": []}}
    row.intervention_rules = {"virginia": {"imminent": {"required": ["safety-plan"], "suggested": []}}}
    assert levels.rule_overrides(row, "virginia") == {"imminent": {"required": ["safety-plan"], "suggested": []}}
    assert levels.rule_overrides(row, "florida") == {}
    row.reassess_days = None  # type: ignore[assignment]
    assert levels.day_overrides(row, "virginia") == {}


# The cache of built registries (finding 16) -------------------------------------------------------


def _files(label: str) -> tuple[tuple[str, str], ...]:
    import json

    data = scheme_json()
    data["levels"][0]["label"] = label
    return (("district-scheme.v1.json", json.dumps(data, sort_keys=True)),)


def test_many_districts_do_not_push_each_other_out(monkeypatch: pytest.MonkeyPatch) -> None:
    levels.clear_cache()
    built: list[int] = []
    real = levels._build

    def counting(*args: Any) -> Any:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(levels, "_build", counting)
    base = definitions.builtin()
    files = _files("Green")
    for district_id in range(1, 61):  # more than the old cache's 32
        levels._cached_build(district_id, base, files, ())
    assert len(built) == 60
    for district_id in range(1, 61):
        registry, problems = levels._cached_build(district_id, base, files, ())
        assert problems == ("",)
        assert str(registry.scheme("district-scheme").level("green").label) == "Green"
    assert len(built) == 60  # nothing built again
    levels.clear_cache()


def test_a_change_of_files_or_kinds_rebuilds_and_replaces_the_districts_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    levels.clear_cache()
    base = definitions.builtin()
    first, _ = levels._cached_build(7, base, _files("Green"), ())
    second, _ = levels._cached_build(7, base, _files("Olive"), ())
    assert str(second.scheme("district-scheme").level("green").label) == "Olive"
    assert first is not second
    third, _ = levels._cached_build(7, base, _files("Olive"), ("peer-mentoring",))
    assert third is not second
    assert len(levels._built) == 1  # one entry per district, not one per set of files
    levels.clear_cache()


def test_the_cache_is_bounded_dropping_the_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    levels.clear_cache()
    monkeypatch.setattr(levels, "MAX_CACHED_DISTRICTS", 3)
    base = definitions.builtin()
    files = _files("Green")
    for district_id in (1, 2, 3):
        levels._cached_build(district_id, base, files, ())
    levels._cached_build(1, base, files, ())  # used again: now the most recent
    levels._cached_build(4, base, files, ())
    assert list(levels._built) == [3, 1, 4]
    levels.clear_cache()


def test_a_new_shipped_registry_builds_anew() -> None:
    levels.clear_cache()
    files = _files("Green")
    first, _ = levels._cached_build(1, definitions.builtin(), files, ())
    other_base = definitions.Registry(definitions.builtin().definitions())
    second, _ = levels._cached_build(1, other_base, files, ())
    assert first is not second
    levels.clear_cache()
