"""load_demo's teams: one per demo school, through the real actions, once."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import User
from btam.audit.models import AuditEvent
from btam.core.demo import DEMO_DOMAIN, SCHOOLS, load_demo_district
from btam.teams import availability, coverage
from btam.teams.demo import load_demo_teams
from btam.teams.models import Absence, Team, TeamMember


@pytest.fixture
def district(db: None, settings: Any, clock: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district, _ = load_demo_district()
    return district


def test_every_demo_school_gets_a_team_once(district: Any) -> None:
    assert load_demo_teams(district) == len(SCHOOLS)
    assert load_demo_teams(district) == 0

    assert Team.objects.filter(district=district, school__isnull=False).count() == len(SCHOOLS)
    assert AuditEvent.objects.filter(target_type="teams.teammember").count() == TeamMember.objects.count()


def test_the_demo_leader_leads_cedar_ridge_with_a_deputy_and_the_sro_in_rapid_response(district: Any) -> None:
    load_demo_teams(district)
    cedar = Team.objects.get(school__slug="cedar-ridge-high")

    assert cedar.members.get(is_leader=True).user.email == f"leader@{DEMO_DOMAIN}"
    assert cedar.members.filter(is_deputy=True).exists()
    assert cedar.members.get(user__email=f"sro@{DEMO_DOMAIN}").rapid_response
    rule = coverage.rule_for(district.pk)
    assert coverage.check(list(cedar.members.select_related("user")), rule).complete


def test_one_school_misses_a_discipline_and_one_member_is_away_this_week(district: Any) -> None:
    load_demo_teams(district)
    rule = coverage.rule_for(district.pk)
    incomplete = [
        team.school.slug
        for team in Team.objects.filter(district=district, school__isnull=False).select_related("school")
        if team.school is not None
        if not coverage.check(list(team.members.select_related("user")), rule).complete
    ]
    assert "juniper-middle" in incomplete

    absence = Absence.objects.get(user__email=f"ray.okafor@{DEMO_DOMAIN}")
    assert absence.is_on(availability.today())
    assert [b.email for b in absence.backups.all()] == [f"counselor@{DEMO_DOMAIN}"]
    # The extra staff cannot sign in.
    assert not User.objects.get(email=f"ray.okafor@{DEMO_DOMAIN}").has_usable_password()
