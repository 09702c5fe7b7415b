"""Transfer of a case to another school, and the schools' access (access_actions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from btam.accounts.models import Role
from btam.audit.models import AuditEvent
from btam.cases import access, actions
from btam.cases.access_actions import (
    do_remove_school_access,
    do_restore_school_access,
    do_transfer_case,
)
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseMember, CaseSchool, ClosureReason, StatusChange
from btam.cases.tests.access_helpers import TITLE, fresh, open_case, school_user
from btam.notifications.models import Notification
from btam.testing import SchoolFactory

REASON = "The subject enrolled at the other school this week."


def _links(case: Case) -> dict[int, tuple[str, bool]]:
    return {link.school_id: (link.access, link.removed_at is None) for link in CaseSchool.objects.filter(case=case)}


@pytest.fixture
def north_leader(world: Any) -> Any:
    return school_user(world, Role.TEAM_LEADER, world.school)


@pytest.fixture
def case(world: Any, north_leader: Any) -> Case:
    return open_case(world, actor=north_leader)


def test_transfer_gives_the_new_school_full_access_and_leaves_the_old_one_read_only(
    world: Any, case: Case, north_leader: Any
) -> None:
    north_member = school_user(world, Role.TEAM_MEMBER, world.school)
    south_member = school_user(world, Role.TEAM_MEMBER, world.other_school)
    assert not Case.objects.visible_to(south_member).filter(pk=case.pk).exists()

    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)

    case.refresh_from_db()
    assert case.school_id == world.other_school.pk
    assert _links(case) == {world.other_school.pk: ("full", True), world.school.pk: ("read", True)}
    assert access.get_case_for_user(fresh(south_member), case.pk, write=True).pk == case.pk
    assert access.get_case_for_user(fresh(north_member), case.pk).pk == case.pk
    with pytest.raises(PermissionDenied):
        access.get_case_for_user(fresh(north_member), case.pk, write=True)


def test_transfer_without_read_access_takes_the_case_away_from_the_old_school(
    world: Any, case: Case, north_leader: Any
) -> None:
    north_member = school_user(world, Role.TEAM_MEMBER, world.school)

    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, keep_read_access=False, reason=REASON)

    link = CaseSchool.objects.get(case=case, school=world.school)
    assert link.removed_at is not None and link.removed_by_id == north_leader.pk
    assert not Case.objects.visible_to(north_member).filter(pk=case.pk).exists()
    with pytest.raises(Http404):
        access.get_case_for_user(north_member, case.pk)


def test_transfer_tells_the_new_schools_leaders_without_naming_anyone(
    world: Any, case: Case, north_leader: Any
) -> None:
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    other_north_leader = school_user(world, Role.TEAM_LEADER, world.school)

    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)

    item = Notification.objects.get(recipient=south_leader, kind=Notification.Kind.CASE_TRANSFERRED)
    assert item.link == f"/cases/{case.pk}/"
    assert case.number in item.title and world.other_school.name in item.title
    assert TITLE not in item.title and "subject" not in item.title.lower()
    # The district's leader hears of it too; the old school's leaders and the actor do not.
    assert Notification.objects.filter(recipient=world.users[Role.TEAM_LEADER], kind="case_transferred").exists()
    assert not Notification.objects.filter(recipient__in=[other_north_leader, north_leader]).exists()


def test_transfer_is_audited_with_the_schools_before_and_after_and_no_reason_text(
    world: Any, case: Case, north_leader: Any
) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, keep_read_access=False, reason=REASON)

    event = AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk), detail__transferred=True).get()
    assert event.before["school"] == world.school.pk and event.after["school"] == world.other_school.pk
    assert event.before["schools"] == {str(world.school.pk): "full"}
    assert event.after["schools"] == {str(world.school.pk): "removed", str(world.other_school.pk): "full"}
    assert event.detail["old_school_keeps_read_access"] is False
    assert REASON not in str(event.reason) + str(event.detail) + str(event.before) + str(event.after)
    # The reason is on the timeline's history, encrypted.
    history = StatusChange.objects.filter(case=case).order_by("-pk").first()
    assert history is not None and REASON in history.reason and world.other_school.name in history.reason


def test_transfer_back_restores_a_school_whose_access_was_removed(world: Any, case: Case, north_leader: Any) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, keep_read_access=False, reason=REASON)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)

    do_transfer_case(actor=south_leader, case=case, to_school=world.school, reason="The subject came back to North.")

    assert _links(case) == {world.school.pk: ("full", True), world.other_school.pk: ("read", True)}
    assert CaseSchool.objects.filter(case=case).count() == 2


def test_transfer_of_a_restricted_case_names_the_new_schools_leaders(world: Any, north_leader: Any) -> None:
    case = open_case(world, actor=north_leader, restricted=True)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    south_member = school_user(world, Role.TEAM_MEMBER, world.other_school)

    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)

    assert CaseMember.objects.filter(case=case, user=south_leader).exists()
    assert access.can_write(south_leader, case)
    assert not Case.objects.visible_to(south_member).filter(pk=case.pk).exists()


@pytest.mark.parametrize("where", ["other_district", "lead_school", "inactive"])
def test_transfer_to_a_school_it_cannot_move_to_is_refused(
    world: Any, case: Case, north_leader: Any, where: str
) -> None:
    school = {
        "other_district": lambda: world.other_district.schools.get(),
        "lead_school": lambda: world.school,
        "inactive": lambda: SchoolFactory.create(district=world.district, is_active=False),
    }[where]()
    with pytest.raises(CaseError):
        do_transfer_case(actor=north_leader, case=case, to_school=school, reason=REASON)
    case.refresh_from_db()
    assert case.school_id == world.school.pk
    assert _links(case) == {world.school.pk: ("full", True)}


@pytest.mark.parametrize("reason", ["", "   ", "x" * (actions.MAX_REASON_CHARS + 1), "nul\x00byte"])
def test_transfer_needs_a_storable_reason(world: Any, case: Case, north_leader: Any, reason: str) -> None:
    with pytest.raises(CaseError):
        do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=reason)
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


def test_a_closed_case_is_not_transferred(world: Any, case: Case, north_leader: Any) -> None:
    actions.do_request_closure(actor=north_leader, case=case, reason=ClosureReason.NO_THREAT, note="Transient remark.")
    with pytest.raises(CaseError, match="closed"):
        do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


def test_the_old_school_cannot_transfer_a_case_it_only_reads(world: Any, case: Case, north_leader: Any) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    with pytest.raises(CaseError):
        do_transfer_case(actor=fresh(north_leader), case=case, to_school=world.school, reason=REASON)
    assert Case.objects.get(pk=case.pk).school_id == world.other_school.pk


def test_another_schools_team_cannot_transfer_the_case(world: Any, case: Case) -> None:
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    with pytest.raises(CaseError):
        do_transfer_case(actor=south_leader, case=case, to_school=world.other_school, reason=REASON)


# School access -------------------------------------------------------------------------------------


def test_removing_the_old_schools_read_access_hides_the_case_and_restoring_gives_it_back(
    world: Any, case: Case, north_leader: Any
) -> None:
    north_member = school_user(world, Role.TEAM_MEMBER, world.school)
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)

    do_remove_school_access(actor=south_leader, case=case, school=world.school)
    assert not Case.objects.visible_to(north_member).filter(pk=case.pk).exists()
    assert AuditEvent.objects.filter(detail__school_access_removed=world.school.pk).exists()

    do_restore_school_access(actor=south_leader, case=case, school=world.school)
    assert _links(case)[world.school.pk] == ("read", True)
    assert Case.objects.visible_to(north_member).filter(pk=case.pk).exists()
    assert not access.can_write(north_member, case)
    assert AuditEvent.objects.filter(detail__school_access_restored=world.school.pk).exists()


def test_the_lead_school_cannot_lose_its_access(world: Any, case: Case, north_leader: Any) -> None:
    with pytest.raises(CaseError, match="Transfer the case first"):
        do_remove_school_access(actor=north_leader, case=case, school=world.school)
    assert _links(case) == {world.school.pk: ("full", True)}


def test_removing_or_restoring_twice_or_a_school_not_on_the_case_is_refused(
    world: Any, case: Case, north_leader: Any
) -> None:
    with pytest.raises(CaseError, match="no access"):
        do_remove_school_access(actor=north_leader, case=case, school=world.other_school)
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, keep_read_access=False, reason=REASON)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    with pytest.raises(CaseError, match="already removed"):
        do_remove_school_access(actor=south_leader, case=case, school=world.school)
    do_restore_school_access(actor=south_leader, case=case, school=world.school)
    with pytest.raises(CaseError, match="not lost"):
        do_restore_school_access(actor=south_leader, case=case, school=world.school)


def test_a_read_only_school_cannot_change_the_schools_access(world: Any, case: Case, north_leader: Any) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    third = SchoolFactory.create(district=world.district)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    do_transfer_case(actor=south_leader, case=case, to_school=third, reason=REASON)
    with pytest.raises(CaseError):
        do_remove_school_access(actor=fresh(north_leader), case=case, school=world.other_school)
    assert _links(case)[world.other_school.pk] == ("read", True)
