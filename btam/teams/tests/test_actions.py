"""Team actions: who may join, lead and change a team; the bad inputs; audit and notices."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import actions as case_actions
from btam.cases.models import Case, Status
from btam.notifications.models import Notification
from btam.teams import actions
from btam.teams.actions import TeamError
from btam.teams.models import Team, TeamMember
from btam.teams.tests.conftest import Staff
from btam.testing import make_member


def add(staff: Staff, user, *codes: str, **kwargs) -> TeamMember:  # type: ignore[no-untyped-def]
    return actions.do_add_member(actor=staff.dbm, team=staff.team, user=user, disciplines=list(codes), **kwargs)


def test_adding_a_member_records_it_audits_it_and_tells_them(staff: Staff) -> None:
    member = add(staff, staff.counselor, "counseling", rapid_response=True)

    assert member.disciplines == ["counseling"]
    assert member.is_core and member.rapid_response
    event = AuditEvent.objects.get(target_type="teams.teammember", target_id=str(member.pk))
    assert event.verb == Verb.CREATED and event.actor == staff.dbm
    notice = Notification.objects.get(recipient=staff.counselor, kind=Notification.Kind.TEAM_CHANGED)
    assert notice.title == "You were added to the Lincoln Test High threat assessment team"
    assert notice.link == f"/teams/{staff.team.pk}/"


def test_a_member_added_twice_is_refused_by_name(staff: Staff) -> None:
    add(staff, staff.counselor, "counseling")

    with pytest.raises(TeamError, match="Cole Counselor is already a member of this team"):
        add(staff, staff.counselor, "instruction")
    assert staff.team.members.count() == 1


def test_someone_without_a_case_role_at_the_school_cannot_join(staff: Staff) -> None:
    with pytest.raises(TeamError, match="no team access level covering Lincoln Test High"):
        add(staff, staff.referring)
    with pytest.raises(TeamError, match="no team access level covering Lincoln Test High"):
        add(staff, staff.other_school_member)
    with pytest.raises(TeamError, match="no team access level"):
        add(staff, staff.other_district_leader)
    assert not staff.team.members.exists()


def test_district_wide_team_roles_may_join_a_school_team(staff: Staff) -> None:
    add(staff, staff.district_leader, "administration")

    assert staff.team.members.count() == 1


@pytest.mark.parametrize("who", ["dbm", "backup_admin"])
def test_data_roles_that_cannot_open_reports_may_not_join_a_team(staff: Staff, who: str) -> None:
    with pytest.raises(TeamError, match="has no team access level covering Lincoln Test High"):
        add(staff, getattr(staff, who))

    assert not staff.team.members.exists()


def test_a_discipline_the_district_does_not_have_is_refused(staff: Staff) -> None:
    with pytest.raises(TeamError, match="“astrology” is not one of your district's disciplines"):
        add(staff, staff.counselor, "counseling", "astrology")


def test_a_discipline_of_another_district_is_refused(staff: Staff) -> None:
    actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="Chaplaincy")
    other_dbm = make_member(Role.DATABASE_MANAGER, staff.other_district)
    other_team = actions.do_create_team(actor=other_dbm, district=staff.other_district, school=None)

    with pytest.raises(TeamError, match="not one of your district's disciplines"):
        actions.do_add_member(
            actor=other_dbm,
            team=other_team,
            user=make_member(Role.TEAM_MEMBER, staff.other_district),
            disciplines=["chaplaincy"],
        )


def test_the_districts_own_discipline_can_be_given_until_it_is_turned_off(staff: Staff) -> None:
    own = actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="Family liaison")
    member = add(staff, staff.counselor, own.code)
    actions.do_set_discipline_active(actor=staff.dbm, discipline=own, active=False)

    # A member keeps what they hold; nobody new gets it.
    actions.do_update_member(
        actor=staff.dbm, member=member, disciplines=[own.code], membership="core", rapid_response=False
    )
    with pytest.raises(TeamError, match="not one of your district's disciplines"):
        add(staff, staff.teacher, own.code)


def test_a_discipline_added_twice_is_refused(staff: Staff) -> None:
    actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="Family liaison")

    with pytest.raises(TeamError, match="already has a discipline called"):
        actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="family  LIAISON")
    with pytest.raises(TeamError, match="already has a discipline called"):
        actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="Counseling")
    with pytest.raises(TeamError, match="Give the discipline a name"):
        actions.do_add_discipline(actor=staff.dbm, district=staff.district, label="   ")


def test_an_unknown_membership_is_refused(staff: Staff) -> None:
    with pytest.raises(TeamError, match="core or extended"):
        add(staff, staff.counselor, membership="honorary")


def test_leader_and_deputy_are_set_audited_and_told(staff: Staff) -> None:
    add(staff, staff.leader, "administration")
    add(staff, staff.counselor, "counseling")

    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=staff.counselor)

    assert TeamMember.objects.get(team=staff.team, is_leader=True).user == staff.leader
    assert TeamMember.objects.get(team=staff.team, is_deputy=True).user == staff.counselor
    titles = set(Notification.objects.filter(kind=Notification.Kind.TEAM_CHANGED).values_list("title", flat=True))
    assert "You are now the leader of the Lincoln Test High team" in titles
    assert "You are now the deputy leader of the Lincoln Test High team" in titles
    assert AuditEvent.objects.filter(target_type="teams.team", after__leader=staff.leader.pk).exists()


def test_the_deputy_cannot_be_the_leader(staff: Staff) -> None:
    add(staff, staff.leader)

    with pytest.raises(TeamError, match="someone other than the leader"):
        actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=staff.leader)


def test_the_leader_must_hold_the_team_leader_access_level(staff: Staff) -> None:
    add(staff, staff.counselor)

    with pytest.raises(TeamError, match="does not hold the team leader access level"):
        actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.counselor, deputy=None)


def test_the_leader_and_deputy_must_be_members(staff: Staff) -> None:
    with pytest.raises(TeamError, match="Add Lena Leader to the team first"):
        actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=None)


def _leader_with_cases(staff: Staff, count: int) -> None:
    add(staff, staff.leader)
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=None)
    for _ in range(count):
        case_actions.do_open_case(actor=staff.leader, school=staff.school, title="A concern", manager=staff.leader)


def test_a_leader_who_manages_open_cases_cannot_be_removed(staff: Staff) -> None:
    _leader_with_cases(staff, 2)
    member = TeamMember.objects.get(team=staff.team, user=staff.leader)

    with pytest.raises(TeamError) as refused:
        actions.do_remove_member(actor=staff.dbm, member=member)
    assert str(refused.value) == (
        "Lena Leader manages 2 open cases at Lincoln Test High: reassign them to other case managers "
        "before removing them as leader."
    )
    assert TeamMember.objects.filter(pk=member.pk, is_leader=True).exists()


def test_a_leader_who_manages_an_open_case_cannot_be_unflagged_or_replaced(staff: Staff) -> None:
    _leader_with_cases(staff, 1)
    add(staff, staff.district_leader)

    with pytest.raises(TeamError, match="manages 1 open case at Lincoln Test High: reassign it"):
        actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=None, deputy=None)
    with pytest.raises(TeamError, match="manages 1 open case"):
        actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.district_leader, deputy=None)


def test_closed_cases_and_cases_at_other_schools_do_not_hold_a_leader(staff: Staff) -> None:
    _leader_with_cases(staff, 1)
    Case.objects.filter(manager=staff.leader).update(status=Status.CLOSED)
    member = TeamMember.objects.get(team=staff.team, user=staff.leader)

    actions.do_remove_member(actor=staff.dbm, member=member)

    assert not staff.team.members.exists()
    assert Notification.objects.filter(recipient=staff.leader, title__startswith="You were removed").exists()


def test_an_ordinary_member_may_read_but_not_change_the_team(staff: Staff) -> None:
    add(staff, staff.counselor)

    with pytest.raises(PermissionDenied):
        actions.do_add_member(actor=staff.counselor, team=staff.team, user=staff.teacher)


def test_the_teams_own_leader_may_change_it(staff: Staff) -> None:
    add(staff, staff.leader)
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=None)

    actions.do_add_member(actor=staff.leader, team=staff.team, user=staff.teacher, disciplines=["instruction"])

    assert staff.team.members.count() == 2


def test_a_school_leader_sets_up_their_schools_team_but_not_another(staff: Staff) -> None:
    Team.objects.all().delete()

    actions.do_create_team(actor=staff.leader, district=staff.district, school=staff.school)
    with pytest.raises(PermissionDenied):
        actions.do_create_team(actor=staff.leader, district=staff.district, school=staff.other_school)
    with pytest.raises(TeamError, match="already has a team"):
        actions.do_create_team(actor=staff.dbm, district=staff.district, school=staff.school)


def test_the_districts_own_rule_needs_at_least_one_discipline(staff: Staff) -> None:
    with pytest.raises(TeamError, match="at least one discipline"):
        actions.do_save_settings(actor=staff.dbm, district=staff.district, rule="own", required=[])
    with pytest.raises(TeamError, match="coverage rules in the list"):
        actions.do_save_settings(actor=staff.dbm, district=staff.district, rule="ohio", required=[])

    row = actions.do_save_settings(actor=staff.dbm, district=staff.district, rule="own", required=["counseling"])
    assert row.required == ["counseling"]


def test_only_district_managers_change_the_settings(staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        actions.do_save_settings(actor=staff.leader, district=staff.district, rule="texas")
    actions.do_save_settings(actor=staff.district_leader, district=staff.district, rule="texas")
