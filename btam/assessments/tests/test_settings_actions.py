"""The settings actions: scheme, instruments, intervals and rules; what levels.py reads from them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from btam.accounts.models import Role
from btam.assessments import levels
from btam.assessments.models import AssessmentSettings
from btam.assessments.settings_actions import SettingsError, do_update_assessment_settings, kinds_for
from btam.assessments.tests.settings_helpers import leader, manager
from btam.audit.models import AuditEvent, Verb
from btam.testing import make_member

ALL_INSTRUMENTS = ["cstag-decision-tree", "ntac-themes", "screening-checklist"]


def update(world: Any, **changes: Any) -> AssessmentSettings:
    values: dict[str, Any] = {
        "actor": manager(world),
        "district_id": world.district.pk,
        "level_scheme": "virginia",
        "instruments": ALL_INSTRUMENTS,
        "reassess_days": {},
        "intervention_rules": {},
    }
    values.update(changes)
    return do_update_assessment_settings(**values)


@pytest.mark.django_db
def test_it_saves_the_scheme_instruments_intervals_and_rules(world: Any) -> None:
    row = update(
        world,
        level_scheme="florida",
        instruments=["cstag-decision-tree"],
        reassess_days={"low": 60, "medium": None, "high": 3},
        intervention_rules={"high": {"required": ["safety-plan"], "suggested": ["wellness-check"]}},
    )
    assert row.level_scheme == "florida"
    assert row.instruments == ["cstag-decision-tree"]
    # Stored by scheme: a case decided with another scheme keeps that scheme's own (finding 14).
    assert row.reassess_days == {"florida": {"low": 60, "high": 3}}
    assert row.intervention_rules == {
        "florida": {"high": {"required": ["safety-plan"], "suggested": ["wellness-check"]}}
    }
    assert row.updated_by == manager(world)
    scheme = levels.scheme_for(world.district.pk)
    assert scheme.id == "florida"
    assert levels.reassess_days(world.district.pk, scheme, "low") == 60
    assert levels.reassess_days(world.district.pk, scheme, "medium") == scheme.level("medium").reassess_days
    assert levels.rules(world.district.pk, scheme, "high") == (("safety-plan",), ("wellness-check",))
    assert levels.rules(world.district.pk, scheme, "low") == (
        scheme.level("low").required,
        scheme.level("low").suggested,
    )


@pytest.mark.django_db
def test_a_district_wide_leader_manages_the_settings_too(world: Any) -> None:
    row = update(world, actor=leader(world), level_scheme="college")
    assert row.level_scheme == "college"


@pytest.mark.django_db
def test_it_audits_before_and_after_as_codes(world: Any) -> None:
    update(world, reassess_days={"high": 5})
    update(world, level_scheme="florida", reassess_days={"high": 4})
    events = list(AuditEvent.objects.filter(target_type="assessments.assessmentsettings").order_by("id"))
    assert [e.verb for e in events] == [Verb.UPDATED, Verb.UPDATED]
    last = events[-1]
    assert last.district_id == world.district.pk
    assert last.before["level_scheme"] == "virginia" and last.before["reassess_days"] == {"virginia": {"high": 5}}
    assert last.after["level_scheme"] == "florida"
    assert last.after["reassess_days"] == {"florida": {"high": 4}, "virginia": {"high": 5}}
    assert last.detail == {"scheme_changed": True}


@pytest.mark.django_db
def test_saving_the_same_settings_again_writes_nothing(world: Any) -> None:
    update(world, reassess_days={"high": 5})
    update(world, reassess_days={"high": 5})
    assert AuditEvent.objects.filter(target_type="assessments.assessmentsettings").count() == 1


@pytest.mark.django_db
def test_rules_equal_to_the_schemes_are_not_stored(world: Any) -> None:
    scheme = levels.scheme_for(world.district.pk)
    imminent = scheme.level("imminent")
    rules = {
        "imminent": {"required": list(reversed(imminent.required)), "suggested": list(imminent.suggested)},
        "low": {"required": ["wellness-check"], "suggested": []},
    }
    row = update(world, intervention_rules=rules)
    assert row.intervention_rules == {"virginia": {"low": {"required": ["wellness-check"], "suggested": []}}}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"level_scheme": "no-such-scheme"}, "Choose one of the level schemes"),
        ({"instruments": []}, "Choose at least one instrument"),
        ({"instruments": ["no-such-instrument"]}, "“no-such-instrument” is not an instrument available"),
        ({"reassess_days": {"high": 0}}, "from 1 to 365"),
        ({"reassess_days": {"high": 999}}, "from 1 to 365"),
        ({"reassess_days": {"high": True}}, "from 1 to 365"),
        ({"reassess_days": {"high": "7"}}, "from 1 to 365"),
        ({"reassess_days": {"medium": 7}}, "“medium” is not a level of the scheme"),
        (
            {"intervention_rules": {"high": {"required": ["no-such-kind"]}}},
            "“no-such-kind” (at High) is not an intervention",
        ),
        ({"intervention_rules": {"purple": {"required": []}}}, "“purple” is not a level"),
        (
            {"intervention_rules": {"high": {"required": ["safety-plan"], "suggested": ["safety-plan"]}}},
            "cannot be both required and suggested at High",
        ),
        ({"intervention_rules": {"high": {"forbidden": ["safety-plan"]}}}, "only which interventions are required"),
    ],
)
def test_it_refuses_bad_settings_and_saves_nothing(world: Any, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        update(world, **changes)
    assert message in str(exc.value)
    assert not AssessmentSettings.objects.filter(district=world.district).exists()
    assert not AuditEvent.objects.filter(target_type="assessments.assessmentsettings").exists()


@pytest.mark.django_db
def test_a_bad_change_keeps_the_settings_as_they_were(world: Any) -> None:
    update(world, reassess_days={"high": 5})
    with pytest.raises(SettingsError):
        update(world, level_scheme="florida", reassess_days={"high": 999})
    row = AssessmentSettings.objects.get(district=world.district)
    assert (row.level_scheme, row.reassess_days) == ("virginia", {"virginia": {"high": 5}})


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN])
def test_other_roles_cannot_change_the_settings(world: Any, role: str) -> None:
    with pytest.raises(PermissionDenied):
        update(world, actor=world.users[role])


@pytest.mark.django_db
def test_a_leader_of_named_schools_cannot_change_the_settings(world: Any) -> None:
    school_leader = make_member(Role.TEAM_LEADER, world.district, schools=[world.school])
    with pytest.raises(PermissionDenied):
        update(world, actor=school_leader)


@pytest.mark.django_db
def test_another_districts_manager_cannot_change_these_settings(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        update(world, actor=world.outsider)
    assert not AssessmentSettings.objects.exists()


@pytest.mark.django_db
def test_rules_may_name_the_districts_own_active_kinds(world: Any) -> None:
    from btam.assessments.settings_actions import do_add_intervention_kind

    do_add_intervention_kind(
        actor=manager(world), district_id=world.district.pk, code="peer-mentoring", label="Peer mentoring"
    )
    assert "peer-mentoring" in {k.code for k in kinds_for(world.district.pk)}
    row = update(world, intervention_rules={"low": {"required": [], "suggested": ["peer-mentoring"]}})
    assert row.intervention_rules["virginia"]["low"]["suggested"] == ["peer-mentoring"]
    # Another district's kind is not in this district's catalogue.
    do_add_intervention_kind(
        actor=world.outsider, district_id=world.other_district.pk, code="their-kind", label="Theirs"
    )
    with pytest.raises(SettingsError, match="their-kind"):
        update(world, intervention_rules={"low": {"required": ["their-kind"], "suggested": []}})


@pytest.mark.django_db
def test_a_districts_settings_do_not_touch_another_districts(world: Any) -> None:
    update(world, level_scheme="florida", reassess_days={"high": 3})
    assert levels.scheme_for(world.other_district.pk).id == levels.DEFAULT_SCHEME
    other = levels.scheme_for(world.other_district.pk)
    assert levels.reassess_days(world.other_district.pk, other, "high") == other.level("high").reassess_days
