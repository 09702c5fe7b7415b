"""Migration cases/0005: a level recorded before level schemes existed becomes a Virginia level with
its rank and a first row of level history (the migration's function, run on today's models)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from btam.assessments.models import LevelChange
from btam.cases.models import Case
from btam.cases.tests.access_helpers import open_case
from btam.lib import clock

migration = importlib.import_module("btam.cases.migrations.0005_levels_of_the_virginia_scheme")


@pytest.mark.django_db
def test_a_level_without_a_scheme_becomes_a_virginia_level_with_its_history(world: Any) -> None:
    leader = world.users["team_leader"]
    legacy, other, unknown = open_case(world), open_case(world), open_case(world)
    Case.objects.filter(pk=legacy.pk).update(risk_level="high", risk_set_at=clock.now(), risk_set_by=leader)
    Case.objects.filter(pk=unknown.pk).update(risk_level="extreme")  # not a Virginia level: left alone

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # running twice adds nothing

    legacy.refresh_from_db()
    other.refresh_from_db()
    assert (legacy.risk_scheme, legacy.risk_rank) == ("virginia", 2)
    assert legacy.risk_level_label == "High"
    history = list(LevelChange.objects.filter(case=legacy).values_list("level", "rank", "set_by_id"))
    assert history == [("high", 2, leader.pk)]
    assert (other.risk_scheme, other.risk_rank) == ("", None) and not LevelChange.objects.filter(case=other).exists()
    assert Case.objects.get(pk=unknown.pk).risk_scheme == ""
