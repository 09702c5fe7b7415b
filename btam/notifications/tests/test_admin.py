"""Escalations in /admin/: read-only, the administrator's own district only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.notifications.models import Escalation
from btam.notifications.tests.helpers import T0, Team
from btam.testing import make_member

pytestmark = pytest.mark.django_db


def admin_client(team: Team, district: Any) -> Client:
    client = Client()
    client.force_login(make_member(Role.DATABASE_MANAGER, district))
    return client


def test_escalations_are_shown_read_only_to_their_districts_administrators(team: Team) -> None:
    esc = Escalation.objects.create(
        district=team.district, target_type="intake.report", target_id="1", started_at=T0, next_step_at=T0
    )
    change = reverse("admin:notifications_escalation_change", args=[esc.pk])
    mine = admin_client(team, team.district)
    assert mine.get(reverse("admin:notifications_escalation_changelist")).status_code == 200
    page = mine.get(change)
    assert page.status_code == 200
    assert 'name="state"' not in page.content.decode()  # nothing to edit
    response = mine.post(change, {"state": "acknowledged"})
    assert response.status_code == 403
    esc.refresh_from_db()
    assert esc.state == Escalation.State.ACTIVE
    other = admin_client(team, team.other_district)
    assert other.get(change).status_code in (302, 404)
