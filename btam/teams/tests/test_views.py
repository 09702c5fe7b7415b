"""The team pages: who sees and changes what, and every refused change re-rendered with its message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

from btam.cases import actions as case_actions
from btam.teams import actions
from btam.teams.models import Absence, Team, TeamMember, TeamSettings
from btam.teams.tests.conftest import Staff

TODAY = dt.date(2030, 3, 6)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail(staff: Staff) -> str:
    return reverse("teams:detail", args=[staff.team.pk])


def with_leader(staff: Staff) -> None:
    actions.do_add_member(actor=staff.dbm, team=staff.team, user=staff.leader, disciplines=["administration"])
    actions.do_add_member(actor=staff.dbm, team=staff.team, user=staff.counselor, disciplines=["counseling"])
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=staff.counselor)


# Reading ---------------------------------------------------------------------------------------------


def test_the_list_shows_the_teams_of_the_users_schools(staff: Staff) -> None:
    with_leader(staff)

    page = client_for(staff.counselor).get(reverse("teams:list"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Lincoln Test High" in text and "Lena Leader" in text
    assert "Maple Test Middle" not in text  # not one of the counselor's schools
    assert "Set up the team" not in text


def test_a_district_manager_sees_every_school_and_may_set_up_a_team(staff: Staff) -> None:
    client = client_for(staff.dbm)
    text = client.get(reverse("teams:list")).content.decode()
    assert "Maple Test Middle" in text and "Set up the team" in text

    response = client.post(reverse("teams:create"), {"district": staff.district.pk, "school": staff.other_school.pk})

    team = Team.objects.get(school=staff.other_school)
    assert response.status_code == 302 and response["Location"] == reverse("teams:detail", args=[team.pk])


def test_setting_up_a_team_twice_says_so(staff: Staff) -> None:
    response = client_for(staff.dbm).post(
        reverse("teams:create"), {"district": staff.district.pk, "school": staff.school.pk}, follow=True
    )
    assert "Lincoln Test High already has a team." in response.content.decode()


def test_setting_up_a_team_with_a_malformed_or_foreign_school_is_a_4xx(staff: Staff) -> None:
    client = client_for(staff.dbm)
    assert client.post(reverse("teams:create"), {"district": "x"}).status_code == 400
    other = staff.other_district.schools.get()
    assert client.post(reverse("teams:create"), {"district": staff.district.pk, "school": other.pk}).status_code == 404
    assert client.post(reverse("teams:create"), {"district": staff.other_district.pk}).status_code == 404


def test_a_team_of_another_district_or_school_is_not_found(staff: Staff) -> None:
    assert client_for(staff.other_district_leader).get(detail(staff)).status_code == 404
    assert client_for(staff.other_school_member).get(detail(staff)).status_code == 404
    assert client_for(staff.referring).get(detail(staff)).status_code == 403  # no case role: the policy


def test_a_member_reads_the_team_without_the_forms(staff: Staff) -> None:
    with_leader(staff)

    page = client_for(staff.counselor).get(detail(staff))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Cole Counselor" in text and "Counseling" in text
    assert 'data-testid="add-member-form"' not in text
    assert client_for(staff.counselor).post(reverse("teams:member_add", args=[staff.team.pk]), {}).status_code == 403


def test_the_team_page_shows_the_size_warning_and_the_missing_disciplines(staff: Staff) -> None:
    with_leader(staff)
    actions.do_save_settings(actor=staff.dbm, district=staff.district, rule="florida")

    text = client_for(staff.leader).get(detail(staff)).content.decode()

    assert 'data-testid="size-warning"' in text and "2 core members" in text
    assert "Missing: Instruction; Law enforcement." in text
    assert "Florida State Board of Education Rule 6A-1.0019" in text


def test_the_leader_sees_who_is_away(staff: Staff) -> None:
    with_leader(staff)
    actions.do_mark_away(
        actor=staff.counselor, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.teacher]
    )

    assert 'data-testid="away-tag"' in client_for(staff.leader).get(detail(staff)).content.decode()
    assert 'data-testid="away-tag"' not in client_for(staff.counselor).get(detail(staff)).content.decode()


# Changing --------------------------------------------------------------------------------------------


def test_the_leader_adds_a_member(staff: Staff) -> None:
    with_leader(staff)
    url = reverse("teams:member_add", args=[staff.team.pk])

    response = client_for(staff.leader).post(
        url, {"add-user": staff.teacher.pk, "add-disciplines": ["instruction"], "add-membership": "extended"}
    )

    assert response.status_code == 302
    member = TeamMember.objects.get(team=staff.team, user=staff.teacher)
    assert (member.disciplines, member.membership) == (["instruction"], "extended")


def test_adding_a_member_twice_is_a_400_with_the_message_and_the_form_kept(staff: Staff) -> None:
    with_leader(staff)

    response = client_for(staff.leader).post(
        reverse("teams:member_add", args=[staff.team.pk]),
        {"add-user": staff.counselor.pk, "add-disciplines": ["mental_health"], "add-membership": "core"},
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Cole Counselor is already a member of this team." in text
    assert 'value="mental_health" checked' in text


def test_adding_someone_without_a_case_role_there_is_a_400_naming_why(staff: Staff) -> None:
    response = client_for(staff.dbm).post(
        reverse("teams:member_add", args=[staff.team.pk]), {"add-user": staff.referring.pk, "add-membership": "core"}
    )

    assert response.status_code == 400
    assert "Rita Referring has no team access level covering Lincoln Test High" in response.content.decode()


def test_adding_an_unknown_discipline_or_person_is_a_400(staff: Staff) -> None:
    client = client_for(staff.dbm)
    url = reverse("teams:member_add", args=[staff.team.pk])

    bad_code = client.post(
        url, {"add-user": staff.teacher.pk, "add-disciplines": ["astrology"], "add-membership": "core"}
    )
    bad_user = client.post(url, {"add-user": "99999", "add-membership": "core"})
    no_user = client.post(url, {"add-membership": "core"})

    assert bad_code.status_code == 400 and "“astrology” is not one of your district" in bad_code.content.decode()
    assert bad_user.status_code == 400 and "Choose a staff member from the list." in bad_user.content.decode()
    assert no_user.status_code == 400 and "Choose the staff member to add." in no_user.content.decode()
    assert not TeamMember.objects.filter(user=staff.teacher).exists()


def test_editing_a_member(staff: Staff) -> None:
    with_leader(staff)
    member = TeamMember.objects.get(user=staff.counselor)
    url = reverse("teams:member_edit", args=[staff.team.pk, member.pk])
    client = client_for(staff.leader)
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"disciplines": ["counseling", "mental_health"], "membership": "core", "rapid_response": "on"}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.disciplines == ["counseling", "mental_health"] and member.rapid_response
    assert client.post(url, {"membership": "honorary"}).status_code == 400


def test_a_member_of_another_team_is_not_found(staff: Staff) -> None:
    with_leader(staff)
    other = actions.do_create_team(actor=staff.dbm, district=staff.district, school=staff.other_school)
    stranger = actions.do_add_member(actor=staff.dbm, team=other, user=staff.other_school_member)

    url = reverse("teams:member_edit", args=[staff.team.pk, stranger.pk])
    assert client_for(staff.leader).get(url).status_code == 404


def test_removing_a_leader_who_manages_open_cases_is_a_400_naming_how_many(staff: Staff) -> None:
    with_leader(staff)
    case_actions.do_open_case(actor=staff.leader, school=staff.school, title="A concern", manager=staff.leader)
    member = TeamMember.objects.get(user=staff.leader)

    response = client_for(staff.dbm).post(reverse("teams:member_remove", args=[staff.team.pk, member.pk]))

    assert response.status_code == 400
    assert "Lena Leader manages 1 open case at Lincoln Test High: reassign it" in response.content.decode()
    assert TeamMember.objects.filter(pk=member.pk).exists()


def test_removing_a_member(staff: Staff) -> None:
    with_leader(staff)
    member = TeamMember.objects.get(user=staff.counselor)
    url = reverse("teams:member_remove", args=[staff.team.pk, member.pk])
    client = client_for(staff.leader)
    assert "Remove Cole Counselor from the Lincoln Test High team?" in client.get(url).content.decode()

    assert client.post(url).status_code == 302
    assert not TeamMember.objects.filter(pk=member.pk).exists()


def test_the_deputy_cannot_be_the_leader_on_the_page_either(staff: Staff) -> None:
    with_leader(staff)

    response = client_for(staff.leader).post(
        reverse("teams:leaders", args=[staff.team.pk]), {"leader": staff.leader.pk, "deputy": staff.leader.pk}
    )

    assert response.status_code == 400
    assert "The deputy must be someone other than the leader." in response.content.decode()


def test_a_leader_who_is_not_a_member_is_refused_on_the_page(staff: Staff) -> None:
    with_leader(staff)

    response = client_for(staff.dbm).post(
        reverse("teams:leaders", args=[staff.team.pk]), {"leader": staff.teacher.pk, "deputy": ""}
    )

    assert response.status_code == 400
    assert "Choose the leader among the team&#x27;s members." in response.content.decode()


# District settings -----------------------------------------------------------------------------------


def test_the_settings_page_names_the_presets_sources_and_the_data_roles(staff: Staff) -> None:
    page = client_for(staff.dbm).get(reverse("teams:settings"))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Texas Education Code § 37.115" in text and "Rule 6A-1.0019" in text
    assert "Dora Database" in text and "Bea Backup" in text


def test_a_school_leader_does_not_manage_the_district_settings(staff: Staff) -> None:
    assert client_for(staff.leader).get(reverse("teams:settings")).status_code == 403
    url = reverse("teams:settings") + f"?district={staff.other_district.pk}"
    assert client_for(staff.dbm).get(url).status_code == 403
    assert client_for(staff.dbm).get(reverse("teams:settings") + "?district=abc").status_code == 400


def test_saving_the_own_rule_without_disciplines_is_a_400(staff: Staff) -> None:
    client = client_for(staff.dbm)
    url = reverse("teams:settings")

    response = client.post(url, {"district": staff.district.pk, "rule": "own"})
    assert response.status_code == 400
    assert "Choose at least one discipline for your district&#x27;s own rule." in response.content.decode()

    ok = client.post(url, {"district": staff.district.pk, "rule": "own", "required": ["counseling", "instruction"]})
    assert ok.status_code == 302
    assert TeamSettings.objects.get(district=staff.district).required == ["counseling", "instruction"]


def test_adding_a_discipline_twice_on_the_page_is_a_400(staff: Staff) -> None:
    client = client_for(staff.dbm)
    url = reverse("teams:discipline_add")
    assert client.post(url, {"district": staff.district.pk, "label": "Chaplaincy"}).status_code == 302

    response = client.post(url, {"district": staff.district.pk, "label": "chaplaincy"})

    assert response.status_code == 400
    assert "already has a discipline called" in response.content.decode()


# Away ------------------------------------------------------------------------------------------------


def test_marking_oneself_away_and_ending_it(staff: Staff) -> None:
    client = client_for(staff.leader)
    url = reverse("teams:away")
    assert "Cole Counselor" in client.get(url).content.decode()  # a possible backup

    response = client.post(url, {"starts_on": "2030-03-06", "ends_on": "2030-03-08", "backups": [staff.counselor.pk]})

    assert response.status_code == 302
    absence = Absence.objects.get(user=staff.leader)
    assert [b.pk for b in absence.backups.all()] == [staff.counselor.pk]
    assert "Lena Leader" in client_for(staff.counselor).get(url).content.decode()  # whom they cover
    assert client.post(reverse("teams:away_end", args=[absence.pk])).status_code == 302
    absence.refresh_from_db()
    assert absence.ended_early_at is not None


def test_bad_dates_are_a_400_with_the_message_and_the_dates_kept(staff: Staff) -> None:
    response = client_for(staff.leader).post(
        reverse("teams:away"), {"starts_on": "2030-03-09", "ends_on": "2030-03-07", "backups": [staff.counselor.pk]}
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "The last day away cannot be before the first." in text
    assert 'value="2030-03-09"' in text and 'value="2030-03-07"' in text
    assert not Absence.objects.exists()


def test_a_malformed_date_or_a_backup_from_elsewhere_is_a_400(staff: Staff) -> None:
    client = client_for(staff.leader)
    url = reverse("teams:away")

    bad_date = client.post(url, {"starts_on": "next week", "ends_on": "2030-03-07", "backups": [staff.counselor.pk]})
    stranger = client.post(
        url, {"starts_on": "2030-03-06", "ends_on": "2030-03-07", "backups": [staff.other_school_member.pk]}
    )

    assert bad_date.status_code == 400 and "Enter a date like" in bad_date.content.decode()
    assert stranger.status_code == 400 and "Choose your backups from the list." in stranger.content.decode()


def test_nobody_ends_someone_elses_absence_on_the_page(staff: Staff) -> None:
    absence = actions.do_mark_away(
        actor=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.counselor]
    )

    assert client_for(staff.counselor).post(reverse("teams:away_end", args=[absence.pk])).status_code == 404
