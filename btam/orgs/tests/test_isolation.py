"""Districts are isolated: no page or query shows one district's data to another district's user."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District, School
from btam.testing import SchoolFactory, make_member

pytestmark = pytest.mark.django_db


def test_schools_visible_to_a_district_wide_member_are_all_of_their_district(world: Any) -> None:
    user = world.users[Role.TEAM_LEADER]
    assert set(School.objects.visible_to(user)) == {world.school, world.other_school}
    assert set(District.objects.visible_to(user)) == {world.district}


def test_a_member_named_to_one_school_sees_only_that_school(world: Any) -> None:
    user = make_member(Role.TEAM_MEMBER, world.district, [world.school])
    assert list(School.objects.visible_to(user)) == [world.school]


def test_a_user_of_another_district_sees_none_of_this_district(world: Any) -> None:
    visible = School.objects.visible_to(world.outsider)
    assert world.school not in visible and world.other_school not in visible
    assert world.district not in District.objects.visible_to(world.outsider)


def test_inactive_memberships_and_accounts_see_nothing(world: Any) -> None:
    user = world.users[Role.TEAM_MEMBER]
    user.memberships.update(is_active=False)
    user.__dict__.pop("active_memberships", None)
    assert not School.objects.visible_to(user).exists()
    leader = world.users[Role.TEAM_LEADER]
    leader.is_active = False
    assert not School.objects.visible_to(leader).exists()


def test_the_workspace_lists_only_the_users_district_schools(world: Any) -> None:
    elsewhere = SchoolFactory.create(district=world.other_district, name="Hidden Valley High")
    client = Client()
    client.force_login(world.users[Role.TEAM_LEADER])
    page = client.get("/").content.decode()
    assert world.school.name in page and world.other_school.name in page
    assert elsewhere.name not in page and world.other_district.name not in page
    assert "0 open cases you manage" in page


def _admin(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_database_manager_administers_only_their_own_district(world: Any) -> None:
    elsewhere = SchoolFactory.create(district=world.other_district, name="Hidden Valley High")
    client = _admin(world.users[Role.DATABASE_MANAGER])
    listing = client.get("/admin/orgs/school/").content.decode()
    assert world.school.name in listing
    assert elsewhere.name not in listing
    # Another district's school cannot be opened: the admin treats it as missing.
    response = client.get(f"/admin/orgs/school/{elsewhere.pk}/change/")
    assert response.status_code == 302
    assert elsewhere.name not in client.get(response["Location"]).content.decode()
    users = client.get("/admin/accounts/user/").content.decode()
    assert world.outsider.email not in users
    assert world.users[Role.TEAM_MEMBER].email in users


def test_admin_changes_and_views_are_audited(world: Any) -> None:
    client = _admin(world.users[Role.DATABASE_MANAGER])
    client.get(f"/admin/orgs/school/{world.school.pk}/change/")
    assert AuditEvent.objects.filter(
        verb=Verb.VIEWED, target_type="orgs.school", target_id=str(world.school.pk)
    ).exists()
    response = client.post(
        f"/admin/orgs/school/{world.school.pk}/change/",
        {
            "district": world.district.pk,
            "slug": world.school.slug,
            "name": "Renamed High",
            "level": "high",
            "identifier": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(verb=Verb.UPDATED, target_type="orgs.school")
    assert event.district_id == world.district.pk
    assert event.actor_id == world.users[Role.DATABASE_MANAGER].pk


def test_third_party_admins_that_would_leak_other_districts_are_not_registered(world: Any) -> None:
    client = _admin(world.users[Role.SYSTEM_ADMIN])
    for path in ("/admin/mfa/authenticator/", "/admin/account/emailaddress/", "/admin/auth/group/"):
        assert client.get(path).status_code == 404, path
