"""The risk-level history of a case and its chart: rows in the order the levels took effect, with
the level each replaced; a step line over time with the scheme's levels on the y axis by rank; the
same data in words (the chart's <desc> and the table)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from btam.accounts.models import Role
from btam.assessments import history, levels
from btam.assessments.decision_actions import apply_level
from btam.assessments.models import AssessmentSettings, CustomDefinition
from btam.assessments.tests.decision_helpers import SERIOUS, TRANSIENT, VERY_SERIOUS, decided
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import close, open_case
from btam.lib import clock as clock_module

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


def set_level(case: Case, actor: Any, level: str, *, scheme_id: str = "virginia") -> None:
    scheme = levels.registry_for(case.district_id).scheme(scheme_id)
    with transaction.atomic():
        apply_level(
            actor=actor, case=case, assessment=None, scheme=scheme, level_id=level, rationale="x", at=clock_module.now()
        )


def test_the_history_lists_levels_in_order_with_what_they_replaced(
    case: Case, member: Any, leader: Any, clock: Any
) -> None:
    first = decided(case, member, SERIOUS, "moderate")
    clock.advance(days=3)
    second = decided(case, leader, VERY_SERIOUS, "high", previous=first)
    clock.advance(days=10)
    third = decided(case, member, TRANSIENT, "low", previous=second)
    clock.advance(days=1)
    decided(case, member, TRANSIENT, "low", previous=third)
    rows = history.level_history(case)
    assert [(r.label, r.previous_label, r.direction, r.changed) for r in rows] == [
        ("Moderate", "", "first", False),
        ("High", "Moderate", "up", True),
        ("Low", "High", "down", True),
        ("Low", "Low", "same", False),
    ]
    assert [r.change.assessment_id for r in rows[:2]] == [first.pk, second.pk]


def test_the_chart_steps_over_time_with_the_levels_by_rank(case: Case, member: Any, clock: Any) -> None:
    set_level(case, member, "moderate")
    clock.advance(days=10)
    set_level(case, member, "imminent")
    clock.advance(days=10)
    labels = history.Labels(case.district_id)
    rows = history.level_history(case, labels)
    chart = history.chart(case, rows, labels)
    assert chart is not None
    assert [t.label for t in chart.y_ticks] == ["Low", "Moderate", "High", "Imminent"]
    y = {t.label: t.position for t in chart.y_ticks}
    assert y["Imminent"] < y["High"] < y["Moderate"] < y["Low"]  # higher levels higher up
    first, second = chart.points
    assert (first.y, second.y) == (y["Moderate"], y["Imminent"])
    assert first.x == chart.plot_left and chart.plot_left < second.x < chart.plot_right
    assert abs((second.x - first.x) - (chart.plot_right - chart.plot_left) / 2) < 1  # halfway in time
    assert chart.path == f"M {first.x} {first.y} H {second.x} V {second.y} H {chart.plot_right}"
    assert chart.title == f"Risk level of case {case.number} over time"
    assert chart.desc.startswith("2 level decisions: Moderate from ") and "Imminent from" in chart.desc


def test_no_level_no_chart(case: Case) -> None:
    assert history.chart(case, [], history.Labels(case.district_id)) is None


def test_a_closed_cases_chart_ends_when_it_closed(world: Any, case: Case, member: Any, clock: Any) -> None:
    set_level(case, member, "low")
    clock.advance(days=5)
    closed = close(case, world)
    clock.advance(days=100)
    labels = history.Labels(case.district_id)
    chart = history.chart(closed, history.level_history(closed, labels), labels)
    assert chart is not None and closed.closed_at is not None
    assert chart.x_ticks[-1].label == history._day(closed.closed_at)


def test_a_change_of_scheme_keeps_each_rows_own_label(world: Any, case: Case, member: Any) -> None:
    set_level(case, member, "high")
    AssessmentSettings.objects.create(district=world.district, level_scheme="florida")
    set_level(case, member, "medium", scheme_id="florida")
    labels = history.Labels(case.district_id)
    rows = history.level_history(case, labels)
    assert [(r.label, r.previous_label) for r in rows] == [
        ("High", ""),
        ("Medium level of concern", "High"),  # each level named in its own scheme
    ]
    assert rows[1].direction == "down"  # rank 2 → 1, whatever the names
    chart = history.chart(case, rows, labels)
    assert chart is not None
    assert [t.label for t in chart.y_ticks] == [
        "Low level of concern",
        "Medium level of concern",
        "High level of concern",
    ]


def test_a_districts_own_scheme_is_named_from_its_file(world: Any, case: Case, member: Any) -> None:
    content = {
        "id": "district-colours",
        "version": 1,
        "kind": "level_scheme",
        "title": "Colours",
        "description": "A district's own scheme.",
        "levels": [
            {
                "id": "green",
                "label": "Green",
                "approval": False,
                "reassess_days": 60,
                "interventions": {"required": [], "suggested": []},
            },
            {
                "id": "red",
                "label": "Red",
                "approval": True,
                "reassess_days": 7,
                "interventions": {"required": [], "suggested": []},
            },
        ],
    }
    CustomDefinition.objects.create(
        district=world.district,
        definition_id="district-colours",
        version=1,
        kind="level_scheme",
        content=content,
        file_name="district-colours.v1.json",
        uploaded_by=member,
        uploaded_at=clock_module.now(),
    )
    set_level(case, member, "red", scheme_id="district-colours")
    labels = history.Labels(case.district_id)
    (row,) = history.level_history(case, labels)
    assert row.label == "Red"
    assert labels.label("no-such-scheme", "very-high") == "Very high"


def test_the_history_reads_in_one_query_whatever_its_length(case: Case, member: Any) -> None:
    for level in ("low", "moderate", "high", "imminent", "low", "moderate"):
        set_level(case, member, level)
    labels = history.Labels(case.district_id)
    _ = labels.registry  # the district's definitions: one query, once per page
    with CaptureQueriesContext(connection) as captured:
        rows = history.level_history(case, labels)
        history.chart(case, rows, labels)
    assert len(rows) == 6 and len(captured) == 1


def test_dates_on_the_chart_are_the_sites_days(case: Case, member: Any, settings: Any, clock: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    late = dt.datetime(2026, 3, 2, 3, 30, tzinfo=dt.UTC)  # 10:30 pm on March 1 in New York
    clock.freeze(late)
    set_level(case, member, "low")
    labels = history.Labels(case.district_id)
    chart = history.chart(case, history.level_history(case, labels), labels, until=late + dt.timedelta(days=2))
    assert chart is not None and chart.points[0].when == "March 1, 2026"
