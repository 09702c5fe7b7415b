"""Need to know: restricting a case to named members, naming and removing them (access_actions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from btam.accounts.models import Membership, Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import access
from btam.cases.access_actions import do_add_member, do_remove_member, do_set_restricted
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseMember, StatusChange
from btam.cases.tests.access_helpers import fresh, open_case, school_user

REASON = "A staff member is involved: need to know only."


@pytest.fixture
def manager(world: Any) -> Any:
    return school_user(world, Role.TEAM_MEMBER, world.school)


@pytest.fixture
def case(world: Any, manager: Any) -> Case:
    return open_case(world, actor=manager)


def _sees(user: Any, case: Case) -> bool:
    return Case.objects.visible_to(fresh(user)).filter(pk=case.pk).exists()


def test_a_restricted_case_hides_from_the_team_but_not_from_its_members_and_manager(
    world: Any, case: Case, manager: Any
) -> None:
    north_team = school_user(world, Role.TEAM_MEMBER, world.school)
    north_leader = school_user(world, Role.TEAM_LEADER, world.school)
    district_team = [world.users[r] for r in (Role.TEAM_MEMBER, Role.TEAM_LEADER, Role.RAPID_RESPONSE)]
    assert all(_sees(u, case) for u in [north_team, north_leader, *district_team])

    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    do_add_member(actor=manager, case=case, user=north_team)

    assert _sees(manager, case) and _sees(north_team, case)
    for user in [north_leader, *district_team]:
        assert not _sees(user, case)
        with pytest.raises(Http404):
            access.get_case_for_user(fresh(user), case.pk)


def test_lifting_the_restriction_shows_the_case_to_the_team_again(world: Any, case: Case, manager: Any) -> None:
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    assert not _sees(world.users[Role.TEAM_MEMBER], case)
    do_set_restricted(actor=manager, case=case, restricted=False, reason="The staff matter was settled.")
    assert _sees(world.users[Role.TEAM_MEMBER], case)


def test_a_leader_who_restricts_becomes_a_named_member(world: Any, case: Case, manager: Any) -> None:
    leader = world.users[Role.TEAM_LEADER]
    do_set_restricted(actor=leader, case=case, restricted=True, reason=REASON)
    assert set(CaseMember.objects.filter(case=case).values_list("user_id", flat=True)) >= {leader.pk, manager.pk}
    assert _sees(leader, case)


def test_restricting_is_audited_and_its_reason_kept_encrypted_on_the_history(case: Case, manager: Any) -> None:
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    event = AuditEvent.objects.filter(target_id=str(case.pk), after__restricted=True).get()
    assert event.before["restricted"] is False and event.detail["reason_given"] is True
    assert REASON not in str(event.reason) + str(event.detail)
    history = StatusChange.objects.filter(case=case).order_by("-pk").first()
    assert history is not None and REASON in history.reason


def test_only_the_manager_or_a_leader_of_the_case_school_restricts(world: Any, case: Case) -> None:
    for user in [
        school_user(world, Role.TEAM_MEMBER, world.school),
        world.users[Role.TEAM_MEMBER],
        world.users[Role.RAPID_RESPONSE],
        school_user(world, Role.TEAM_LEADER, world.other_school),
    ]:
        with pytest.raises(CaseError):
            do_set_restricted(actor=user, case=case, restricted=True, reason=REASON)
    assert not Case.objects.get(pk=case.pk).restricted


def test_restricting_twice_or_without_a_reason_is_refused(case: Case, manager: Any) -> None:
    with pytest.raises(CaseError, match="not restricted"):
        do_set_restricted(actor=manager, case=case, restricted=False, reason=REASON)
    with pytest.raises(CaseError, match="required"):
        do_set_restricted(actor=manager, case=case, restricted=True, reason="  ")
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    with pytest.raises(CaseError, match="already restricted"):
        do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)


def test_a_named_member_of_another_school_reads_a_restricted_case_but_cannot_change_it(
    world: Any, case: Case, manager: Any
) -> None:
    south = school_user(world, Role.TEAM_MEMBER, world.other_school)
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    do_add_member(actor=manager, case=case, user=south)

    assert access.get_case_for_user(fresh(south), case.pk).pk == case.pk
    with pytest.raises(PermissionDenied):
        access.get_case_for_user(fresh(south), case.pk, write=True)


def test_naming_someone_outside_the_districts_teams_is_refused(world: Any, case: Case, manager: Any) -> None:
    inactive = school_user(world, Role.TEAM_MEMBER, world.school)
    inactive.is_active = False
    inactive.save()
    retired = school_user(world, Role.TEAM_MEMBER, world.school)
    Membership.objects.filter(user=retired).update(is_active=False)
    for user in [
        world.outsider,
        world.users[Role.REFERRING_STAFF],
        world.users[Role.AUDITOR],
        world.users[Role.DISTRICT_VIEWER],
        world.users[Role.DATABASE_MANAGER],
        inactive,
        fresh(retired),
    ]:
        with pytest.raises(CaseError, match="team of this district"):
            do_add_member(actor=manager, case=case, user=user)
    assert CaseMember.objects.filter(case=case).count() == 1


def test_naming_a_member_twice_is_refused(world: Any, case: Case, manager: Any) -> None:
    with pytest.raises(CaseError, match="already a member"):
        do_add_member(actor=manager, case=case, user=manager)


def test_only_the_manager_or_a_leader_names_or_removes_members(world: Any, case: Case, manager: Any) -> None:
    colleague = school_user(world, Role.TEAM_MEMBER, world.school)
    with pytest.raises(CaseError, match="name members"):
        do_add_member(actor=colleague, case=case, user=colleague)
    leader = school_user(world, Role.TEAM_LEADER, world.school)
    do_add_member(actor=leader, case=case, user=colleague)
    with pytest.raises(CaseError, match="remove members"):
        do_remove_member(actor=colleague, case=case, user=leader)


def test_removing_a_member_hides_the_restricted_case_from_them(world: Any, case: Case, manager: Any) -> None:
    colleague = school_user(world, Role.TEAM_MEMBER, world.school)
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    do_add_member(actor=manager, case=case, user=colleague)
    assert _sees(colleague, case)

    do_remove_member(actor=manager, case=case, user=colleague)

    assert not _sees(colleague, case)
    assert AuditEvent.objects.filter(verb=Verb.DELETED, detail__member_removed=colleague.pk).exists()
    assert AuditEvent.objects.filter(verb=Verb.CREATED, detail__member_added=colleague.pk).exists()


def test_the_case_manager_cannot_be_removed(world: Any, case: Case, manager: Any) -> None:
    with pytest.raises(CaseError, match="case manager stays"):
        do_remove_member(actor=world.users[Role.TEAM_LEADER], case=case, user=manager)
    assert CaseMember.objects.filter(case=case, user=manager).exists()


def test_removing_someone_who_is_not_a_member_is_refused(world: Any, case: Case, manager: Any) -> None:
    with pytest.raises(CaseError, match="not a member"):
        do_remove_member(actor=manager, case=case, user=world.users[Role.TEAM_MEMBER])


def test_the_case_manager_sees_a_restricted_case_only_with_a_team_role_in_its_district(
    world: Any, case: Case, manager: Any
) -> None:
    do_set_restricted(actor=manager, case=case, restricted=True, reason=REASON)
    Membership.objects.filter(user=manager).update(is_active=False)
    Membership.objects.create(user=manager, district=world.other_district, role=Role.TEAM_LEADER)
    assert not _sees(manager, case)
