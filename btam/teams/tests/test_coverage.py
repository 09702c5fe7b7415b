"""The coverage check per preset and for the district's own list, and the size guidance."""

from __future__ import annotations

import pytest

from btam.accounts.models import User
from btam.teams import actions, coverage, disciplines
from btam.teams.models import TeamMember
from btam.teams.tests.conftest import Staff


def members(*spec: tuple[list[str], str]) -> list[TeamMember]:
    return [
        TeamMember(user=User(full_name=f"Person {n}"), disciplines=codes, membership=membership)
        for n, (codes, membership) in enumerate(spec)
    ]


FLORIDA_TEAM = members(
    (["counseling"], "core"), (["instruction"], "core"), (["public_safety"], "core"), (["administration"], "core")
)


def test_florida_is_covered_by_its_four_roles() -> None:
    check = coverage.check(FLORIDA_TEAM, coverage.rule_for_preset("florida"))

    assert check.complete
    assert [i.discipline for i in check.items] == ["counseling", "instruction", "public_safety", "administration"]
    assert check.rule.source.startswith("Florida State Board of Education Rule 6A-1.0019")
    assert any("knows the student" in note for note in check.rule.notes)


def test_florida_without_law_enforcement_shows_it_missing() -> None:
    check = coverage.check(FLORIDA_TEAM[:2] + FLORIDA_TEAM[3:], coverage.rule_for_preset("florida"))

    assert [i.label for i in check.missing] == ["Law enforcement"]


def test_texas_needs_nine_kinds_of_expertise() -> None:
    check = coverage.check(FLORIDA_TEAM, coverage.rule_for_preset("texas"))

    assert len(check.items) == 9
    assert {i.discipline for i in check.missing} == {
        "behavior_management",
        "mental_health",
        "special_education",
        "school_safety",
        "emergency_management",
    }
    assert "37.115" in check.rule.source


def test_the_guidance_names_nine_disciplines() -> None:
    check = coverage.check(FLORIDA_TEAM, coverage.rule_for_preset("guidance"))

    assert len(check.items) == 9
    assert {i.discipline for i in check.items} - {i.discipline for i in check.missing} == {
        "public_safety",
        "administration",
    }


def test_a_discipline_held_only_by_extended_members_is_marked_so() -> None:
    team = members((["counseling"], "extended"), (["instruction"], "core"))

    check = coverage.check(team, coverage.rule_for_preset("florida"))

    statuses = {i.discipline: i.status for i in check.items}
    assert statuses["counseling"] == coverage.EXTENDED
    assert statuses["instruction"] == coverage.CORE
    assert [i.discipline for i in check.extended_only] == ["counseling"]


def test_the_districts_rule_is_read_from_its_settings(staff: Staff) -> None:
    assert coverage.rule_for(staff.district.pk).id == "guidance"  # the default
    own = actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="Family liaison")
    actions.do_save_settings(actor=staff.dbm, district=staff.district, rule="own", required=["counseling", own.code])

    rule = coverage.rule_for(staff.district.pk)

    assert rule.requirements == [("counseling", "Counseling"), (own.code, "Family liaison")]
    assert [i.label for i in coverage.check(members((["counseling"], "core")), rule).missing] == ["Family liaison"]


@pytest.mark.parametrize(
    ("core", "too_few", "too_many"),
    [(0, True, False), (3, True, False), (4, False, False), (12, False, False), (13, False, True)],
)
def test_size_guidance_warns_under_four_or_over_twelve_core_members(core: int, too_few: bool, too_many: bool) -> None:
    team = members(*([(["counseling"], "core")] * core), (["healthcare"], "extended"))

    size = coverage.size_check(team)

    assert (size.core, size.extended) == (core, 1)
    assert (size.too_few, size.too_many) == (too_few, too_many)
    assert bool(size.warning) == (too_few or too_many)


def test_every_preset_names_its_source_and_only_known_disciplines() -> None:
    for preset in disciplines.PRESETS.values():
        assert str(preset.source)
        assert all(r.discipline in disciplines.BUILTIN for r in preset.requirements)
