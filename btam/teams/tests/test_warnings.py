"""The warning when a district has no active database manager or no backup administrator."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Membership, Role
from btam.teams.tests.conftest import Staff
from btam.teams.warnings import data_role_warnings
from btam.testing import make_member


def home(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("core:home")).content.decode()


def test_no_warning_when_both_data_roles_are_held(staff: Staff) -> None:
    assert data_role_warnings(staff.dbm) == []
    assert 'data-testid="data-role-warnings"' not in home(staff.dbm)


def test_no_backup_administrator_is_shown_to_managers_leaders_and_system_administrators(staff: Staff) -> None:
    Membership.objects.filter(user=staff.backup_admin).update(is_active=False)
    sysadmin = make_member(Role.SYSTEM_ADMIN, staff.district)

    for user in (staff.dbm, staff.leader, staff.district_leader, sysadmin):
        [warning] = data_role_warnings(user)
        assert "has no backup administrator" in warning.message
        assert "has no backup administrator" in home(user)
    for user in (staff.counselor, staff.sro, staff.referring):
        assert data_role_warnings(user) == []
        assert 'data-testid="data-role-warnings"' not in home(user)
    # A leader elsewhere is warned about their own district only (it has neither role).
    assert {w.district_id for w in data_role_warnings(staff.other_district_leader)} == {staff.other_district.pk}


def test_an_inactive_database_manager_account_does_not_count(staff: Staff) -> None:
    staff.dbm.is_active = False
    staff.dbm.save(update_fields=["is_active"])

    messages = [w.message for w in data_role_warnings(staff.leader)]

    assert messages == [
        "Cedar Test District (fictitious) has no active database manager: nobody can manage its accounts and "
        "records. A system administrator should give someone the access level."
    ]


@pytest.mark.parametrize("url", ["teams:list", "teams:settings"])
def test_the_team_pages_show_it_too(staff: Staff, url: str) -> None:
    Membership.objects.filter(user=staff.dbm).update(is_active=False)
    client = Client()
    client.force_login(staff.district_leader)

    page = client.get(reverse(url))

    assert page.status_code == 200
    assert "has no active database manager" in page.content.decode()
