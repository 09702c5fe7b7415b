"""Urgent reports reach only people who can open them: team roles covering the school, for
members, deputies, leaders and backups alike; a demoted leader no longer leads; an urgent item
that is not about a report (the break-glass alert) is not redirected to backups."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Membership, Role, User
from btam.cases import access_actions
from btam.cases import actions as case_actions
from btam.lib import clock
from btam.notifications import escalation
from btam.notifications.delivery import notify, report_path
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import drain, submit
from btam.teams import access, actions, availability
from btam.teams import escalation_groups as groups
from btam.teams.actions import TeamError
from btam.teams.models import Absence
from btam.teams.tests.conftest import Staff
from btam.teams.tests.test_escalation_teams import TODAY, build_team, told
from btam.testing import make_member

Kind = Notification.Kind


def _move(user: User, school: Any) -> User:
    """Move the user's access level to another school; a fresh account object (memberships cached)."""
    Membership.objects.get(user=user).schools.set([school])
    return User.objects.get(pk=user.pk)


def _change_role(user: User, role: str) -> User:
    Membership.objects.filter(user=user).update(role=role)
    return User.objects.get(pk=user.pk)


def _away_with(staff: Staff, *backups: User) -> Absence:
    """The leader away today with ``backups``, written directly (as if the backups' access changed
    after the absence was marked, or it predates this rule)."""
    absence = Absence.objects.create(
        user=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, created_at=clock.now()
    )
    absence.backups.set(backups)
    return absence


# Backups -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dbm", "backup_admin"])
def test_a_data_role_cannot_be_chosen_as_backup(staff: Staff, who: str) -> None:
    with pytest.raises(TeamError, match="team access does not cover all of your schools"):
        actions.do_mark_away(
            actor=staff.leader,
            district=staff.district,
            starts_on=TODAY,
            ends_on=TODAY,
            backups=[getattr(staff, who)],
        )
    assert not Absence.objects.exists()


def test_the_away_page_does_not_offer_data_roles_and_refuses_them(staff: Staff) -> None:
    client = Client()
    client.force_login(staff.leader)
    page = client.get(reverse("teams:away"))
    offered = set(page.context["form"].fields["backups"].queryset)
    assert staff.district_leader in offered
    assert staff.dbm not in offered
    assert staff.backup_admin not in offered

    response = client.post(
        reverse("teams:away"),
        {"district": staff.district.pk, "starts_on": "2030-03-06", "ends_on": "2030-03-08", "backups": [staff.dbm.pk]},
    )

    assert response.status_code == 400
    assert "Choose your backups from the list." in response.content.decode()
    assert 'value="2030-03-08"' in response.content.decode()  # what was typed stays
    assert not Absence.objects.exists()


def test_a_backup_on_another_school_is_not_offered(staff: Staff) -> None:
    assert not access.may_back_up(staff.other_school_member, staff.leader, staff.district.pk)
    assert access.may_back_up(staff.teacher, staff.leader, staff.district.pk)
    assert access.may_back_up(staff.district_leader, staff.leader, staff.district.pk)
    assert not access.may_back_up(staff.leader, staff.district_leader, staff.district.pk)


def test_routing_ignores_a_data_role_backup_and_keeps_the_away_leader(staff: Staff, frozen: Any) -> None:
    build_team(staff)
    _away_with(staff, staff.dbm)
    submit(staff.school, danger_now=True)
    drain()
    frozen.advance(minutes=15)
    drain()

    # Nobody who can open it stands in: the leader keeps it (and the deputy is told at once).
    assert told(Kind.ESCALATION) == {staff.leader, staff.counselor}
    assert not Notification.objects.filter(recipient=staff.dbm).exists()


def test_routing_skips_a_backup_who_moved_schools_and_keeps_one_who_can_open_the_report(
    staff: Staff, frozen: Any
) -> None:
    build_team(staff)
    _away_with(staff, staff.teacher, staff.nurse)
    _move(staff.teacher, staff.other_school)
    submit(staff.school, danger_now=True)
    drain()
    frozen.advance(minutes=15)
    drain()

    assert told(Kind.ESCALATION) == {staff.nurse, staff.counselor}
    esc = Escalation.objects.get()
    assert set(esc.history[1]["recipients"]) == {staff.nurse.pk, staff.counselor.pk}


def test_route_urgent_keeps_the_away_person_when_no_backup_can_open_the_target(staff: Staff) -> None:
    _away_with(staff, staff.teacher)
    report = submit(staff.school)
    moved = _move(staff.teacher, staff.other_school)

    assert availability.route_urgent([staff.leader], staff.district.pk, target=report) == [staff.leader]
    assert availability.can_see(staff.leader, report)
    assert not availability.can_see(moved, report)


# The rapid-response subgroup, deputies, leaders ------------------------------------------------------


def test_a_rapid_response_member_who_moved_schools_is_not_told(staff: Staff) -> None:
    build_team(staff)
    _move(staff.psychologist, staff.other_school)
    submit(staff.school, danger_now=True)
    drain()

    assert told(Kind.URGENT_REPORT) == {staff.sro}
    assert staff.team.members.filter(user=staff.psychologist, rapid_response=True).exists()


def test_with_every_rapid_response_member_gone_the_chain_goes_on_to_the_leader_at_once(
    staff: Staff, frozen: Any
) -> None:
    build_team(staff)
    _move(staff.psychologist, staff.other_school)
    _move(staff.sro, staff.other_school)
    submit(staff.school, danger_now=True)
    drain()

    assert told(Kind.URGENT_REPORT) == {staff.leader}
    esc = Escalation.objects.get()
    assert [(h["group"], h["outcome"]) for h in esc.history] == [
        ("rapid_response", "skipped"),
        ("team_leader", "notified"),
    ]


def test_a_step_whose_people_cannot_open_the_report_is_skipped_not_notified(
    staff: Staff, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_team(staff)
    outsider = staff.other_school_member
    steps = list(escalation.STEPS)
    steps[0] = escalation.Step("rapid_response", lambda report: [outsider], "no rapid-response member")
    monkeypatch.setattr(escalation, "STEPS", steps)
    submit(staff.school, danger_now=True)
    drain()

    assert not Notification.objects.filter(recipient=outsider).exists()
    esc = Escalation.objects.get()
    assert esc.history[0]["outcome"] == "skipped"
    assert esc.history[0]["cannot_open"] == [outsider.pk]
    assert (esc.history[1]["group"], esc.history[1]["outcome"]) == ("team_leader", "notified")
    assert told(Kind.URGENT_REPORT) == {staff.leader}


def test_a_deputy_whose_role_became_a_data_role_falls_back_to_the_district_teams(staff: Staff) -> None:
    build_team(staff)
    district_team = actions.do_create_team(actor=staff.dbm, district=staff.district, school=None)
    district_member = make_member(Role.TEAM_MEMBER, staff.district, full_name="Dina Districtwide")
    actions.do_add_member(actor=staff.dbm, team=district_team, user=district_member)
    actions.do_set_leaders(actor=staff.dbm, team=district_team, leader=None, deputy=district_member)
    _change_role(staff.counselor, Role.BACKUP_ADMIN)

    assert groups.deputy(staff.school) == [district_member]


def test_a_demoted_leader_no_longer_manages_the_team_nor_is_told_as_its_leader(staff: Staff) -> None:
    build_team(staff)
    demoted = _change_role(staff.leader, Role.TEAM_MEMBER)
    report = submit(staff.school)

    assert not access.can_manage(demoted, staff.team)
    assert groups.school_leader(staff.school) == []
    assert demoted not in escalation.team_leaders(report)
    client = Client()
    client.force_login(demoted)
    member = staff.team.members.get(user=staff.teacher)
    response = client.post(reverse("teams:member_remove", args=[staff.team.pk, member.pk]))
    assert response.status_code == 403
    assert staff.team.members.filter(pk=member.pk).exists()


def test_a_leader_still_holding_the_level_manages_the_team(staff: Staff) -> None:
    build_team(staff)
    assert access.can_manage(staff.leader, staff.team)
    assert groups.school_leader(staff.school) == [staff.leader]


# Which urgent kinds go to backups ------------------------------------------------------------------


def test_only_report_kinds_are_routed_and_they_are_real_kinds() -> None:
    assert availability.ROUTED_KINDS == {Kind.URGENT_REPORT.value, Kind.ESCALATION.value}
    assert availability.ROUTED_KINDS <= set(Kind.values)


def _notify(staff: Staff, kind: str, target: Any) -> None:
    notify(
        recipients=[staff.leader],
        district_id=staff.district.pk,
        kind=kind,
        title="Something for Lincoln Test High needs attention",
        link=report_path(target),
        target=target,
        urgent=True,
        dedupe_scope=f"test:{kind}",
        email=True,
    )


def test_an_urgent_report_for_an_away_leader_goes_to_the_backup(staff: Staff) -> None:
    actions.do_mark_away(
        actor=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.teacher]
    )
    report = submit(staff.school)
    _notify(staff, Kind.URGENT_REPORT, report)

    assert told(Kind.URGENT_REPORT) == {staff.teacher}


def test_another_urgent_kind_for_an_away_leader_stays_with_the_leader(staff: Staff) -> None:
    actions.do_mark_away(
        actor=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.teacher]
    )
    report = submit(staff.school)
    _notify(staff, Kind.BREAK_GLASS, report)

    assert told(Kind.BREAK_GLASS) == {staff.leader}
    item = Notification.objects.get(kind=Kind.BREAK_GLASS)
    assert item.urgent and item.email_outbox is not None


def test_the_break_glass_alert_reaches_the_away_leader_not_their_backup(staff: Staff) -> None:
    case = case_actions.do_open_case(actor=staff.teacher, school=staff.school, title="t", restricted=True)
    actions.do_mark_away(
        actor=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.counselor]
    )
    access_actions.do_break_glass(
        actor=staff.district_leader, case=case, reason="Needed for the urgent review of this case today."
    )

    alerted = told(Kind.BREAK_GLASS)
    assert staff.leader in alerted
    assert staff.counselor not in alerted


# The away page's cost ------------------------------------------------------------------------------


def _more_staff(staff: Staff, count: int) -> None:
    schools = [staff.school, staff.other_school]
    for i in range(count):
        make_member(Role.TEAM_MEMBER, staff.district, [schools[i % 2]], full_name=f"Extra Member {i}")
    for i in range(count // 5):
        make_member(Role.RAPID_RESPONSE, staff.district, schools, full_name=f"Extra Responder {i}")


@pytest.mark.parametrize("extra", [5, 40])
def test_the_away_page_costs_the_same_few_queries_whatever_the_staff(
    staff: Staff, extra: int, django_assert_max_num_queries: Any
) -> None:
    _more_staff(staff, extra)
    client = Client()
    client.force_login(staff.leader)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("teams:away"))
    assert page.status_code == 200
    offered = set(page.context["form"].fields["backups"].queryset)
    # Dale (whole district), the five named on Lincoln, the extra members of Lincoln (every other
    # one) and the extra responders (named on both schools); not Otto (Maple only), nor the data roles.
    assert len(offered) == 6 + (extra + 1) // 2 + extra // 5
    assert staff.other_school_member not in offered and staff.dbm not in offered
