"""Break-glass access: a reason, an audit event, the leaders told, an expiry (access_actions.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from btam.accounts.models import Membership, Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import access
from btam.cases.access_actions import do_break_glass, do_set_restricted
from btam.cases.actions import CaseError
from btam.cases.models import BreakGlassGrant, Case
from btam.cases.tests.access_helpers import fresh, open_case, school_user
from btam.notifications.models import Notification

REASON = "Police called about an imminent threat; the leader cannot be reached."


@pytest.fixture
def leader(world: Any) -> Any:
    return school_user(world, Role.TEAM_LEADER, world.school)


@pytest.fixture
def case(world: Any, leader: Any) -> Case:
    return open_case(world, actor=leader)


def _sees(user: Any, case: Case) -> bool:
    return Case.objects.visible_to(fresh(user)).filter(pk=case.pk).exists()


def _stored_reason(grant: BreakGlassGrant) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM cases_breakglassgrant WHERE id = %s", [grant.pk])
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize("role", [Role.DATABASE_MANAGER, Role.BACKUP_ADMIN])
def test_a_district_data_role_breaks_the_glass_and_works_the_case(world: Any, case: Case, role: str) -> None:
    user = world.users[role]
    assert not _sees(user, case)

    grant = do_break_glass(actor=user, case=case, reason=REASON)

    assert _sees(user, case) and access.can_write(fresh(user), case)
    assert grant.expires_at - grant.created_at == dt.timedelta(hours=access.BREAK_GLASS_HOURS)


def test_break_glass_is_audited_with_the_reason_kept_encrypted_on_the_grant(world: Any, case: Case) -> None:
    grant = do_break_glass(actor=world.users[Role.DATABASE_MANAGER], case=case, reason=f"  {REASON}  ")

    event = AuditEvent.objects.get(verb=Verb.BREAK_GLASS)
    assert event.actor_id == world.users[Role.DATABASE_MANAGER].pk
    assert (event.target_type, event.target_id, event.district_id) == ("cases.case", str(case.pk), world.district.pk)
    assert event.detail["grant"] == grant.pk and event.detail["reason_given"] is True
    assert REASON not in event.reason + str(event.detail) + str(event.after)
    assert BreakGlassGrant.objects.get(pk=grant.pk).reason == REASON
    assert "Police" not in _stored_reason(grant)


def test_break_glass_tells_the_leaders_urgently(world: Any, case: Case, leader: Any) -> None:
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    do_break_glass(actor=world.users[Role.DATABASE_MANAGER], case=case, reason=REASON)

    items = Notification.objects.filter(kind=Notification.Kind.BREAK_GLASS)
    assert set(items.values_list("recipient_id", flat=True)) == {leader.pk, world.users[Role.TEAM_LEADER].pk}
    item = items.get(recipient=leader)
    assert item.urgent and item.link == f"/cases/{case.pk}/" and case.number in item.title
    assert "Police" not in item.title and south_leader.pk not in items.values_list("recipient_id", flat=True)


def test_break_glass_on_a_restricted_case_also_tells_its_manager(world: Any, leader: Any) -> None:
    manager = school_user(world, Role.TEAM_MEMBER, world.school)
    case = open_case(world, actor=manager)
    do_set_restricted(actor=manager, case=case, restricted=True, reason="A staff member is involved.")
    district_member = world.users[Role.TEAM_MEMBER]
    assert not _sees(district_member, case)

    do_break_glass(actor=district_member, case=case, reason=REASON)

    assert _sees(district_member, case)
    recipients = set(Notification.objects.filter(kind="break_glass").values_list("recipient_id", flat=True))
    assert manager.pk in recipients and leader.pk in recipients


def test_break_glass_access_expires(world: Any, case: Case, clock: Any) -> None:
    user = world.users[Role.DATABASE_MANAGER]
    do_break_glass(actor=user, case=case, reason=REASON)
    clock.advance(hours=access.BREAK_GLASS_HOURS - 1)
    assert _sees(user, case)
    clock.advance(hours=1, seconds=1)
    assert not _sees(user, case)


def test_a_grant_stops_counting_when_the_role_is_taken_away(world: Any, case: Case) -> None:
    user = world.users[Role.BACKUP_ADMIN]
    do_break_glass(actor=user, case=case, reason=REASON)
    Membership.objects.filter(user=user).update(is_active=False)
    Membership.objects.create(user=user, district=world.other_district, role=Role.BACKUP_ADMIN)
    assert not _sees(user, case)


@pytest.mark.parametrize("reason", ["", "urgent", "x" * 19, " " * 30])
def test_a_reason_of_fewer_than_20_characters_is_refused(world: Any, case: Case, reason: str) -> None:
    with pytest.raises(CaseError):
        do_break_glass(actor=world.users[Role.DATABASE_MANAGER], case=case, reason=reason)
    assert not BreakGlassGrant.objects.exists() and not AuditEvent.objects.filter(verb=Verb.BREAK_GLASS).exists()
    assert not Notification.objects.filter(kind="break_glass").exists()


def test_roles_that_may_not_break_the_glass_are_refused(world: Any, case: Case) -> None:
    for user in [
        world.outsider,
        world.users[Role.AUDITOR],
        world.users[Role.DISTRICT_VIEWER],
        world.users[Role.SYSTEM_ADMIN],
        world.users[Role.REFERRING_STAFF],
        school_user(world, Role.TEAM_LEADER, world.other_school),
    ]:
        with pytest.raises(CaseError, match="district-wide"):
            do_break_glass(actor=user, case=case, reason=REASON)
        assert not _sees(user, case)
    assert not BreakGlassGrant.objects.exists()


def test_someone_who_already_sees_the_case_gets_no_grant(world: Any, case: Case) -> None:
    with pytest.raises(CaseError, match="already see"):
        do_break_glass(actor=world.users[Role.TEAM_MEMBER], case=case, reason=REASON)
    assert not BreakGlassGrant.objects.exists()
