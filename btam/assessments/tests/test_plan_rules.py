"""The intervention catalogue, a district's own kinds, the rules of the case's level, and the guard
that keeps a case out of monitoring while a required intervention is missing."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from btam.accounts.models import Role
from btam.assessments import definitions, plan, plan_actions
from btam.assessments.models import AssessmentSettings, InterventionKind
from btam.assessments.tests.plan_helpers import intervention, set_level, to_management
from btam.cases import actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, Status, StatusChange
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.lib import clock

pytestmark = pytest.mark.django_db

IMMINENT_REQUIRED = [
    "law-enforcement-referral",
    "target-protection-plan",
    "crisis-intervention",
    "safety-plan",
    "parent-conference",
    "supervision-check-in",
    "mental-health-evaluation",
]


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def own_kind(district: Any, code: str, label: str, *, by: Any, active: bool = True) -> InterventionKind:
    return InterventionKind.objects.create(
        district=district, code=code, label=label, active=active, created_by=by, created_at=clock.now()
    )


# The catalogue -----------------------------------------------------------------------------------------------
def test_the_catalogue_holds_exactly_the_kinds_the_level_schemes_name() -> None:
    assert set(plan.CATALOGUE) == set(definitions.KNOWN_INTERVENTION_KINDS)
    assert len(plan.CATALOGUE) == 12
    for code, kind in plan.CATALOGUE.items():
        assert kind.code == code and kind.builtin
        assert str(kind.label) and str(kind.description)
        assert "\n" not in str(kind.description) and len(str(kind.description)) <= 120


def test_every_kind_a_shipped_scheme_requires_or_suggests_is_in_the_catalogue() -> None:
    for scheme in definitions.builtin().schemes():
        for level in scheme.levels:
            assert set(level.required) | set(level.suggested) <= set(plan.CATALOGUE), (scheme.id, level.id)


def test_labels_are_translatable() -> None:
    with translation.override("en"):
        assert str(plan.CATALOGUE["law-enforcement-referral"].label) == "Law-enforcement referral"
    assert plan.CATALOGUE["law-enforcement-referral"].label_in_sentence == "law-enforcement referral"


def test_kinds_for_adds_the_districts_active_own_kinds_after_the_catalogue(world: Any, member: Any) -> None:
    own_kind(world.district, "weapons-counseling", "Weapons-access counseling", by=member)
    own_kind(world.district, "restorative-circle", "Restorative circle", by=member, active=False)
    own_kind(world.other_district, "elsewhere-only", "Another district's kind", by=world.outsider)
    # A district code that repeats a built-in one stays the built-in kind.
    own_kind(world.district, "wellness-check", "Our wellness check", by=member)
    kinds = plan.kinds_for(world.district.pk)
    codes = [k.code for k in kinds]
    assert codes[:12] == list(plan.CATALOGUE)
    assert codes[12:] == ["weapons-counseling"]
    assert str(kinds[codes.index("wellness-check")].label) == "Wellness check"
    own = kinds[-1]
    assert not own.builtin and own.label_in_sentence == "Weapons-access counseling"
    # A retired kind is still known, for the interventions that carry it.
    assert "restorative-circle" in plan.all_kinds(world.district.pk)
    assert "elsewhere-only" not in plan.all_kinds(world.district.pk)


# The rules of the level -----------------------------------------------------------------------------------------------
def test_a_case_without_a_level_has_no_rules_and_nothing_missing(case: Case) -> None:
    assert plan.level_rules(case) == ((), ())
    assert plan.required_missing(case) == []
    assert plan.required_interventions_guard(case) is None


def test_the_rules_come_from_the_cases_scheme_and_level(case: Case) -> None:
    set_level(case, "imminent")
    required, suggested = plan.level_rules(case)
    assert list(required) == IMMINENT_REQUIRED
    assert "community-protection" in suggested and not set(required) & set(suggested)
    set_level(case, "level-2", scheme_id="salem-keizer")
    scheme = definitions.builtin().scheme("salem-keizer")
    assert plan.level_rules(case) == (scheme.level("level-2").required, scheme.level("level-2").suggested)


def test_the_districts_rules_override_the_schemes(world: Any, case: Case) -> None:
    AssessmentSettings.objects.create(
        district=world.district,
        intervention_rules={"high": {"required": ["law-enforcement-referral"], "suggested": ["wellness-check"]}},
    )
    set_level(case, "high")
    assert plan.level_rules(case) == (("law-enforcement-referral",), ("wellness-check",))


def test_an_unknown_scheme_or_level_on_the_case_gives_no_rules(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(risk_level="extreme", risk_scheme="virginia")
    case.refresh_from_db()
    assert plan.level_rules(case) == ((), ())
    Case.objects.filter(pk=case.pk).update(risk_level="high", risk_scheme="no-such-scheme")
    case.refresh_from_db()
    assert plan.required_missing(case) == []


def test_required_missing_counts_planned_active_and_completed_interventions_not_stopped_ones(
    case: Case, member: Any
) -> None:
    set_level(case, "imminent")
    assert plan.required_missing(case) == IMMINENT_REQUIRED
    intervention(case, member, "law-enforcement-referral")  # planned
    active = intervention(case, member, "crisis-intervention")
    plan_actions.do_set_intervention_status(actor=member, intervention=active, status="active")
    done = intervention(case, member, "parent-conference")
    plan_actions.do_set_intervention_status(actor=member, intervention=done, status="completed", outcome="Met both.")
    stopped = intervention(case, member, "target-protection-plan")
    plan_actions.do_set_intervention_status(
        actor=member, intervention=stopped, status="stopped", outcome="Added by mistake."
    )
    assert plan.required_missing(case) == [
        "target-protection-plan",
        "safety-plan",
        "supervision-check-in",
        "mental-health-evaluation",
    ]


def test_rule_rows_mark_each_kind_in_the_plan_or_missing(case: Case, member: Any) -> None:
    set_level(case, "imminent")
    item = intervention(case, member, "safety-plan")
    rows = plan.rule_rows(case, [item], plan.all_kinds(case.district_id))
    by_code = {r.kind.code: r for r in rows}
    assert [r.kind.code for r in rows if r.required] == IMMINENT_REQUIRED
    assert by_code["safety-plan"].in_plan and by_code["safety-plan"].interventions == [item]
    assert not by_code["law-enforcement-referral"].in_plan
    assert not by_code["community-protection"].required


# The guard -----------------------------------------------------------------------------------------------
def test_the_guard_names_the_missing_required_interventions(case: Case, member: Any) -> None:
    AssessmentSettings.objects.create(
        district=case.district,
        intervention_rules={"imminent": {"required": ["law-enforcement-referral", "target-protection-plan"]}},
    )
    set_level(case, "imminent")
    with translation.override("en"):
        assert plan.required_interventions_guard(case) == (
            "Add the required interventions first: law-enforcement referral, target protection plan."
        )
    intervention(case, member, "law-enforcement-referral")
    intervention(case, member, "target-protection-plan")
    assert plan.required_interventions_guard(case) is None


def test_the_case_cannot_move_to_monitoring_while_a_required_intervention_is_missing(
    world: Any, case: Case, member: Any
) -> None:
    AssessmentSettings.objects.create(
        district=world.district,
        intervention_rules={"imminent": {"required": ["law-enforcement-referral", "target-protection-plan"]}},
    )
    case = to_management(case, member, "imminent")
    intervention(case, member, "law-enforcement-referral")
    moves = StatusChange.objects.count()
    with translation.override("en"), pytest.raises(CaseError) as refused:
        actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)
    assert "Add the required interventions first: target protection plan." in str(refused.value)
    case.refresh_from_db()
    assert case.status == Status.MANAGEMENT and StatusChange.objects.count() == moves

    intervention(case, member, "target-protection-plan")
    case = actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)
    assert case.status == Status.MONITORING


def test_a_district_kind_required_by_its_rules_is_named_as_written(world: Any, case: Case, member: Any) -> None:
    own_kind(world.district, "weapons-counseling", "Weapons-access counseling", by=member)
    AssessmentSettings.objects.create(
        district=world.district, intervention_rules={"moderate": {"required": ["weapons-counseling"]}}
    )
    case = to_management(case, member, "moderate")
    with pytest.raises(CaseError, match="Weapons-access counseling"):
        actions.do_transition(actor=member, case=case, to_status=Status.MONITORING)
    intervention(case, member, "weapons-counseling")
    assert actions.do_transition(actor=member, case=case, to_status=Status.MONITORING).status == Status.MONITORING


def test_a_rule_naming_a_kind_nobody_defines_is_named_by_its_code(world: Any, case: Case) -> None:
    AssessmentSettings.objects.create(district=world.district, intervention_rules={"low": {"required": ["home-visit"]}})
    set_level(case, "low")
    with translation.override("en"):
        assert plan.required_interventions_guard(case) == "Add the required interventions first: Home visit."
