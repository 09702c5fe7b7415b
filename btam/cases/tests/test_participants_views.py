"""People on a case through the pages: the overview's section, adding (registry search or free
text), linking, changing a role, removing; and the person page listing the person's cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, CaseParticipant
from btam.cases.participant_actions import MAX_NAME_CHARS, do_add_participant
from btam.cases.tests.people_links_helpers import (
    SECRET_NAME,
    client_for,
    close,
    give_read_access,
    open_case,
    report,
    school_member,
    url,
)
from btam.people.models import Person
from btam.people.tests.person_helpers import enrol, person
from btam.people.views import SEARCH_TARGET_TYPE

pytestmark = pytest.mark.django_db

Role_ = CaseParticipant.Role


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(member: Any) -> Client:
    return client_for(member)


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def jose(world: Any) -> Person:
    p = person(world.district, "José", "Núñez", preferred_given_name="Pepe", grade="09", local_id="S-1001")
    enrol(p, world.school)
    return p


# The overview's section ---------------------------------------------------------------------------


def test_the_overview_lists_people_by_role_with_registry_people_linking_to_their_page(
    team: Client, member: Any, case: Case, jose: Person
) -> None:
    do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=jose)
    do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann from the library")
    body = team.get(url("detail", case)).content.decode()
    assert f'href="/people/{jose.pk}/"' in body and "Pepe Núñez" in body
    assert "Ann from the library" in body and "not linked to the registry yet" in body
    assert body.index("Subject") < body.index("Pepe Núñez") < body.index("Witness") < body.index("Ann from the library")


def test_html_in_a_free_text_name_is_shown_escaped(team: Client, member: Any, case: Case) -> None:
    do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="<script>alert(1)</script>")
    body = team.get(url("detail", case)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body


def test_opening_a_case_from_a_report_brings_the_people_it_names(world: Any, team: Client, member: Any) -> None:
    r = report(world, names=(SECRET_NAME,))
    case = open_case(world, actor=member, reports=(r,))
    body = team.get(url("detail", case)).content.decode()
    assert SECRET_NAME in body


def test_a_read_only_user_sees_the_people_but_no_forms(world: Any, member: Any, case: Case) -> None:
    do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    give_read_access(case, world.other_school, member)
    reader = client_for(school_member(world, world.other_school))
    body = reader.get(url("detail", case)).content.decode()
    assert "Ann" in body and url("participant_add", case) not in body and "Change or remove" not in body


# Adding -----------------------------------------------------------------------------------------


def test_a_free_text_person_is_added_by_post(team: Client, member: Any, case: Case) -> None:
    response = team.post(
        url("participant_add", case),
        {"participant-role": "witness", "participant-name": "Ann", "participant-description": "Saw it."},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/cases/{case.pk}/#people")
    row = CaseParticipant.objects.get(case=case)
    assert (row.role, row.name, row.description, row.added_by) == ("witness", "Ann", "Saw it.", member)


def test_bad_input_shows_the_overview_again_with_a_400_and_the_typed_input(team: Client, case: Case) -> None:
    response = team.post(url("participant_add", case), {"participant-role": "", "participant-name": "Ann <b>B</b>"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose the person&#x27;s role on the case." in body or "Choose the person's role" in body
    assert 'value="Ann &lt;b&gt;B&lt;/b&gt;"' in body
    too_long = team.post(
        url("participant_add", case), {"participant-role": "witness", "participant-name": "x" * (MAX_NAME_CHARS + 1)}
    )
    assert too_long.status_code == 400 and "too long" in too_long.content.decode()
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_get_on_a_change_is_not_allowed(team: Client, case: Case) -> None:
    assert team.get(url("participant_add", case)).status_code == 405


def test_the_registry_search_is_a_post_lists_people_and_audits_ids_not_the_query(
    world: Any, team: Client, member: Any, case: Case, jose: Person
) -> None:
    page = team.get(url("people_find", case))
    assert page.status_code == 200 and 'method="post"' in page.content.decode()
    response = team.post(url("people_find", case), {"find-q": "pepe nun"})
    body = response.content.decode()
    assert response.status_code == 200 and "Pepe Núñez" in body and 'name="registry-person"' in body
    event = AuditEvent.objects.filter(target_type=SEARCH_TARGET_TYPE, actor=member).latest("pk")
    assert event.detail["person_ids"] == [jose.pk] and event.detail["case"] == case.pk
    assert "pepe" not in repr(event.detail).lower()


def test_the_registry_search_lists_only_the_cases_district(world: Any, team: Client, case: Case) -> None:
    person(world.other_district, "Pepe", "Outside")
    body = team.post(url("people_find", case), {"find-q": "pepe"}).content.decode()
    assert "Outside" not in body


def test_with_htmx_the_search_swaps_only_the_results(team: Client, case: Case, jose: Person) -> None:
    response = team.post(url("people_find", case), {"find-q": "pepe"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "Pepe Núñez" in body and "<html" not in body
    empty = team.post(url("people_find", case), {"find-q": ""}, HTTP_HX_REQUEST="true")
    assert "Enter a name or an id" in empty.content.decode()


def test_an_empty_or_markup_query_gets_a_clear_message_and_is_shown_escaped(team: Client, case: Case) -> None:
    response = team.post(url("people_find", case), {"find-q": ""})
    assert response.status_code == 400 and "Enter a name or an id" in response.content.decode()
    markup = team.post(url("people_find", case), {"find-q": "<b>x</b>' OR 1=1 --"})
    body = markup.content.decode()
    assert markup.status_code == 200 and "<b>x</b>" not in body and "&lt;b&gt;x&lt;/b&gt;" in body


def test_a_registry_person_is_added_from_the_results(team: Client, case: Case, jose: Person) -> None:
    response = team.post(url("participant_add_registry", case), {"registry-person": jose.pk, "registry-role": "target"})
    assert response.status_code == 302
    assert CaseParticipant.objects.get(case=case).person == jose


def test_adding_a_registry_person_of_another_district_is_refused(world: Any, team: Client, case: Case) -> None:
    stranger = person(world.other_district, "Elsa", "Elsewhere")
    for pk in (stranger.pk, 999_999):  # another district's, and none at all: the same message
        response = team.post(url("participant_add_registry", case), {"registry-person": pk, "registry-role": "subject"})
        assert response.status_code == 400
        assert "not in this district&#x27;s registry" in response.content.decode()
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_a_registry_add_without_a_role_is_a_400(team: Client, case: Case, jose: Person) -> None:
    response = team.post(url("participant_add_registry", case), {"registry-person": jose.pk, "registry-role": ""})
    assert response.status_code == 400


# Linking, changing, removing ----------------------------------------------------------------------


def test_a_free_text_entry_is_linked_from_the_search_page(team: Client, member: Any, case: Case, jose: Person) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.SUBJECT, name="the new boy")
    page = team.get(url("people_find", case) + f"?for={row.pk}").content.decode()
    assert "Link “the new boy” to a registry record" in page
    results = team.post(url("people_find", case), {"find-q": "pepe", "for": row.pk}).content.decode()
    assert url("participant_link", case, row) in results
    response = team.post(url("participant_link", case, row), {"person": jose.pk})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.person == jose


def test_the_role_is_changed_and_the_person_removed(team: Client, member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    assert team.post(url("participant_role", case, row), {"role": "target"}).status_code == 302
    row.refresh_from_db()
    assert row.role == "target"
    bad = team.post(url("participant_role", case, row), {"role": "boss"})
    assert bad.status_code == 400
    assert team.post(url("participant_remove", case, row)).status_code == 302
    row.refresh_from_db()
    assert row.removed_at is not None
    assert "Ann" not in team.get(url("detail", case)).content.decode()


def test_someone_elses_row_is_404(world: Any, team: Client, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    row = do_add_participant(actor=member, case=other, role=Role_.WITNESS, name="Ann")
    for name in ("participant_role", "participant_remove", "participant_link"):
        assert team.post(url(name, case, row), {"role": "target", "person": 1}).status_code == 404
    row.refresh_from_db()
    assert row.removed_at is None and row.role == "witness"


def test_a_closed_case_refuses_changes_with_a_message(world: Any, team: Client, member: Any, case: Case) -> None:
    close(case, world)
    response = team.post(url("participant_add", case), {"participant-role": "witness", "participant-name": "Ann"})
    assert response.status_code == 400 and "closed" in response.content.decode()
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_other_schools_and_districts_get_404_and_read_only_users_403(world: Any, member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    south = school_member(world, world.other_school)
    for user in (south, world.outsider):
        client = client_for(user)
        assert (
            client.post(
                url("participant_add", case), {"participant-role": "witness", "participant-name": "X"}
            ).status_code
            == 404
        )
        assert client.post(url("participant_remove", case, row)).status_code == 404
        assert client.get(url("people_find", case)).status_code == 404
    give_read_access(case, world.other_school, member)
    reader = client_for(south)
    assert reader.post(url("participant_remove", case, row)).status_code == 403
    assert reader.post(url("people_find", case), {"find-q": "ann"}).status_code == 403
    row.refresh_from_db()
    assert row.removed_at is None


# The person page ---------------------------------------------------------------------------------


def test_the_person_page_lists_the_cases_they_are_on_with_their_role(
    world: Any, member: Any, team: Client, case: Case, jose: Person
) -> None:
    do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=jose)
    do_add_participant(actor=member, case=case, role=Role_.WITNESS, person=jose)
    body = team.get(f"/people/{jose.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/"' in body
    assert f"{case.number} (Subject, Witness)" in body and "Screening" in body and world.school.name in body
    assert case.title not in body  # the case's content is read (and audited) on the case only


def test_the_person_page_lists_cases_of_a_record_merged_into_them(
    world: Any, member: Any, team: Client, case: Case, jose: Person
) -> None:
    duplicate = person(world.district, "Joseph", "Nunez-Duplicate")
    do_add_participant(actor=member, case=case, role=Role_.TARGET, person=duplicate)
    duplicate.merged_into = jose
    duplicate.save()
    assert f"{case.number} (Potential target)" in team.get(f"/people/{jose.pk}/").content.decode()


def test_the_person_page_hides_cases_the_user_cannot_see(world: Any, member: Any, jose: Person) -> None:
    north = open_case(world, actor=member)
    south_case = open_case(world, actor=member, school=world.other_school)
    restricted = open_case(world, actor=member, restricted=True)
    for c in (north, south_case, restricted):
        do_add_participant(actor=member, case=c, role=Role_.SUBJECT, person=jose)
    removed = open_case(world, actor=member)
    row = do_add_participant(actor=member, case=removed, role=Role_.SUBJECT, person=jose)
    CaseParticipant.objects.filter(pk=row.pk).update(removed_at=row.added_at)
    north_member = client_for(school_member(world, world.school))
    body = north_member.get(f"/people/{jose.pk}/").content.decode()
    assert f"/cases/{north.pk}/" in body
    for hidden in (south_case, restricted, removed):
        assert f"/cases/{hidden.pk}/" not in body


def test_the_person_page_runs_a_fixed_number_of_queries_whatever_the_cases(
    world: Any, member: Any, team: Client, jose: Person, django_assert_max_num_queries: Any
) -> None:
    def add_cases(n: int) -> None:
        for _ in range(n):
            c = open_case(world, actor=member)
            do_add_participant(actor=member, case=c, role=Role_.SUBJECT, person=jose)

    add_cases(1)
    team.get(f"/people/{jose.pk}/")
    with django_assert_max_num_queries(40) as few:
        team.get(f"/people/{jose.pk}/")
    add_cases(12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = team.get(f"/people/{jose.pk}/")
    assert response.content.decode().count("/cases/") >= 13


def test_viewing_the_overview_is_audited_and_the_people_section_adds_constant_queries(
    world: Any, member: Any, team: Client, case: Case, django_assert_max_num_queries: Any
) -> None:
    do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    team.get(url("detail", case))
    with django_assert_max_num_queries(80) as few:
        team.get(url("detail", case))
    for i in range(15):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name=f"Witness {i}")
        do_add_participant(
            actor=member, case=case, role=Role_.SUBJECT, person=person(world.district, "Kid", f"Number{i}")
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = team.get(url("detail", case)).content.decode()
    assert "Witness 14" in body and "Kid Number14" in body
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), target_type="cases.case").exists()
