"""The people pages: search (a POST form), a person's page, and the merge pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.conftest import World
from btam.intake.tests.triage_helpers import submit
from btam.people import search as search_module
from btam.people.actions import do_merge_people
from btam.people.models import Person, PersonMerge
from btam.people.search import MAX_QUERY_CHARS, PAGE_SIZE
from btam.people.tests.person_helpers import demographics, enrol, guardian_link, person
from btam.people.views import SEARCH_TARGET_TYPE
from btam.testing import make_member

pytestmark = pytest.mark.django_db

SEARCH = "/people/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(pk: int) -> str:
    return f"/people/{pk}/"


@pytest.fixture
def leader(world: World) -> Client:
    return _client(world.users[Role.TEAM_LEADER])


@pytest.fixture
def member(world: World) -> Client:
    return _client(world.users[Role.TEAM_MEMBER])


@pytest.fixture
def jose(world: World) -> Person:
    p = person(world.district, "José", "Núñez", preferred_given_name="Pepe", grade="09", local_id="S-1001")
    enrol(p, world.school)
    return p


# Search --------------------------------------------------------------------------------------
def test_the_search_page_is_a_post_form_and_the_nav_offers_it(member: Client) -> None:
    page = member.get(SEARCH).content.decode()
    assert 'method="post"' in page and 'name="csrfmiddlewaretoken"' in page
    assert 'href="/people/"' in page  # the navigation


def test_roles_without_people_have_no_nav_entry(world: World) -> None:
    page = _client(world.users[Role.AUDITOR]).get("/").content.decode()
    assert 'href="/people/"' not in page


def test_search_lists_preferred_names_with_the_legal_name_beside(member: Client, jose: Person) -> None:
    page = member.post(SEARCH, {"q": "jose nunez"}).content.decode()
    assert "Pepe Núñez" in page
    assert "legal name: José Núñez" in page
    assert "S-1001" in page and "North Test High" in page and "09" in page
    assert _page(jose.pk) in page


def test_the_query_never_reaches_a_url_or_the_audit_trail(world: World, member: Client, jose: Person) -> None:
    response = member.post(SEARCH, {"q": "Núñez", "grade": "09"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_type=SEARCH_TARGET_TYPE)
    assert event.actor_id == world.users[Role.TEAM_MEMBER].pk
    assert event.district_id == world.district.pk
    assert event.detail["result_count"] == 1
    assert event.detail["kind"] == "name"
    assert event.detail["person_ids"] == [jose.pk]
    assert event.detail["filters"] == {"grade": "09"}
    recorded = json.dumps([event.detail, event.before, event.after, event.reason]).lower()
    assert "nunez" not in recorded and "núñez" not in recorded


def test_an_id_search_is_recorded_as_one(member: Client, jose: Person) -> None:
    member.post(SEARCH, {"q": "S-1001"})
    event = AuditEvent.objects.get(target_type=SEARCH_TARGET_TYPE)
    assert event.detail["kind"] == "id"
    assert "S-1001" not in json.dumps(event.detail)


def test_a_get_with_a_query_string_searches_nothing(member: Client, jose: Person) -> None:
    page = member.get(SEARCH, {"q": "jose"}).content.decode()
    assert "Pepe" not in page
    assert not AuditEvent.objects.filter(target_type=SEARCH_TARGET_TYPE).exists()


def test_htmx_swaps_only_the_results(member: Client, jose: Person) -> None:
    response = member.post(SEARCH, {"q": "jose"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "Pepe Núñez" in page
    assert "<html" not in page and "<form" not in page
    assert "HX-Retarget" not in response


def test_htmx_swaps_the_whole_panel_to_show_errors_and_to_clear_them(member: Client, jose: Person) -> None:
    response = member.post(SEARCH, {"q": ""}, headers={"HX-Request": "true"})
    assert response["HX-Retarget"] == "#people-search" and response["HX-Reswap"] == "outerHTML"
    page = response.content.decode()
    assert "<html" not in page and 'id="people-search"' in page and "Enter a name or an id" in page
    assert 'name="errors_shown"' in page
    again = member.post(SEARCH, {"q": "jose", "errors_shown": "1"}, headers={"HX-Request": "true"})
    assert again["HX-Retarget"] == "#people-search"
    assert "Pepe Núñez" in again.content.decode() and "Enter a name or an id" not in again.content.decode()


def test_pages_of_results_are_posts_too(world: World, member: Client) -> None:
    for i in range(PAGE_SIZE + 3):
        person(world.district, "Noa", f"Fam{i:03d}")
    first = member.post(SEARCH, {"q": "noa"}).content.decode()
    assert "Fam024" in first and "Fam025" not in first
    assert 'name="page" value="2"' in first
    second = member.post(SEARCH, {"q": "noa", "page": "2"}).content.decode()
    assert "Fam025" in second and "Fam027" in second and "Fam024" not in second
    assert 'name="page" value="1"' in second and 'value="3"' not in second


def test_a_search_matching_too_many_asks_to_be_narrowed(
    world: World, member: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "MAX_RESULTS", 3)
    for i in range(5):
        person(world.district, "Noa", f"Fam{i}")
    page = member.post(SEARCH, {"q": "noa"}).content.decode()
    assert "More than 1,000 people match" in page
    assert page.count('class="usa-link" href="/people/') == 3


def test_no_match_says_so(member: Client) -> None:
    page = member.post(SEARCH, {"q": "nobody here"}).content.decode()
    assert "No one matches this search" in page


# Bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["", "   ", "!", "é-", "\x00"])
def test_an_empty_or_too_short_query_gets_a_clear_message(member: Client, query: str) -> None:
    response = member.post(SEARCH, {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert any(
        message in page
        for message in (
            "Enter a name or an id to search for.",
            "Enter at least two letters or digits.",
            "Null characters",
        )
    )
    assert 'aria-invalid="true"' in page
    assert not AuditEvent.objects.filter(target_type=SEARCH_TARGET_TYPE).exists()


def test_a_very_long_query_gets_a_clear_message(member: Client) -> None:
    response = member.post(SEARCH, {"q": "a" * 1000})
    assert response.status_code == 200
    assert f"at most {MAX_QUERY_CHARS} characters" in response.content.decode()


def test_markup_and_sql_in_the_query_are_shown_escaped_and_do_nothing(world: World, member: Client) -> None:
    nasty = "<script>alert(1)</script>' OR 1=1; DROP TABLE people_person; --"
    person(world.district, "Script", "Alert")
    response = member.post(SEARCH, {"q": nasty[:MAX_QUERY_CHARS]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # echoed, escaped, in the search box
    assert Person.objects.count() == 1


def test_bad_filters_are_form_errors(member: Client) -> None:
    page = member.post(SEARCH, {"q": "ana", "school": "999999", "grade": "99"}).content.decode()
    assert page.count("usa-error-message") == 2


@pytest.mark.parametrize("page", ["-1", "0", "100000"])
def test_a_page_out_of_range_is_brought_back_in_range(world: World, member: Client, page: str) -> None:
    person(world.district, "Noa", "Lee")
    response = member.post(SEARCH, {"q": "noa", "page": page})
    assert response.status_code == 200
    event = AuditEvent.objects.get(target_type=SEARCH_TARGET_TYPE)
    assert event.detail["page"] in (1, 40)


def test_another_districts_school_is_not_a_filter_choice(world: World, member: Client) -> None:
    theirs = world.other_district.schools.get()
    page = member.post(SEARCH, {"q": "ana", "school": str(theirs.pk)}).content.decode()
    assert "Select a valid choice" in page and theirs.name not in page


@pytest.mark.parametrize("path", ["/people/abc/", "/people/1.5/", "/people/%20/", "/people/999999/"])
def test_a_person_page_that_is_not_a_number_or_does_not_exist_is_404(member: Client, path: str) -> None:
    assert member.get(path).status_code == 404


def test_the_search_page_accepts_only_get_and_post(member: Client) -> None:
    assert member.put(SEARCH).status_code == 405


# A person's page -----------------------------------------------------------------------------
def test_the_page_shows_the_person_and_history_across_schools(world: World, member: Client, jose: Person) -> None:
    enrol(jose, world.other_school, ended=True)
    mother = person(world.district, "Ana", "Núñez", kind=Person.Kind.GUARDIAN)
    guardian_link(mother, jose, "mother")
    page = member.get(_page(jose.pk)).content.decode()
    assert "Pepe Núñez" in page and "Legal name: José Núñez" in page
    assert "North Test High" in page and "South Test Middle" in page and "2025-06-15" in page
    assert "Ana Núñez" in page and "mother" in page
    assert "Reports and cases" in page
    assert "No reports or cases about this person yet." in page
    guardian_page = member.get(_page(mother.pk)).content.decode()
    assert "Parent or guardian of" in guardian_page and "Pepe Núñez" in guardian_page


def test_viewing_a_person_is_audited(world: World, member: Client, jose: Person) -> None:
    member.get(_page(jose.pk))
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_type="people.person")
    assert event.target_id == str(jose.pk)
    assert event.district_id == world.district.pk
    assert event.actor_id == world.users[Role.TEAM_MEMBER].pk


def test_another_districts_person_is_404(world: World, jose: Person) -> None:
    outsider = _client(world.outsider)
    assert outsider.get(_page(jose.pk)).status_code == 404
    assert "Pepe" not in outsider.post(SEARCH, {"q": "jose"}).content.decode()
    assert not AuditEvent.objects.filter(target_type="people.person").exists()


def test_referring_staff_see_only_students_of_their_schools(world: World, jose: Person) -> None:
    staff = _client(make_member(Role.REFERRING_STAFF, world.district, [world.school]))
    elsewhere = person(world.district, "Kai", "Lee")
    enrol(elsewhere, world.other_school)
    assert staff.get(_page(jose.pk)).status_code == 200
    assert staff.get(_page(elsewhere.pk)).status_code == 404
    assert "Kai Lee" not in staff.post(SEARCH, {"q": "kai lee"}).content.decode()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN])
def test_roles_without_people_are_refused(world: World, jose: Person, role: str) -> None:
    client = _client(world.users[role])
    assert client.get(_page(jose.pk)).status_code == 403
    assert client.post(SEARCH, {"q": "jose"}).status_code == 403


def test_demographics_are_shown_to_leaders_only_and_only_when_the_district_keeps_them(
    world: World, leader: Client, member: Client, jose: Person
) -> None:
    demographics(jose, hispanicOrLatinoEthnicity="true", sex="M")
    assert "Hispanic or Latino" not in leader.get(_page(jose.pk)).content.decode()  # district has them off
    world.district.store_demographics = True
    world.district.save()
    assert "Hispanic or Latino" in leader.get(_page(jose.pk)).content.decode()
    assert "Demographics" not in member.get(_page(jose.pk)).content.decode()
    manager = _client(world.users[Role.DATABASE_MANAGER])
    assert "Hispanic or Latino" in manager.get(_page(jose.pk)).content.decode()


def test_a_merged_record_points_to_the_survivor(world: World, leader: Client, jose: Person) -> None:
    dup = person(world.district, "Jose", "Nunez")
    Person.objects.filter(pk=dup.pk).update(merged_into=jose)
    page = leader.get(_page(dup.pk)).content.decode()
    assert "This record was merged into another one" in page
    assert _page(jose.pk) in page


# Query counts do not grow with the data --------------------------------------------------------
def test_the_search_runs_a_fixed_number_of_queries(
    world: World, member: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(40):
        p = person(world.district, "Noa", f"Fam{i:03d}", grade="09")
        enrol(p, world.school)
        enrol(p, world.other_school, ended=True)
    member.post(SEARCH, {"q": "noa"})  # warm: session, memberships
    with django_assert_max_num_queries(17):
        response = member.post(SEARCH, {"q": "noa", "school": str(world.school.pk)})
    assert response.content.decode().count("/people/") > PAGE_SIZE


def test_the_person_page_runs_a_fixed_number_of_queries(
    world: World, leader: Client, jose: Person, django_assert_max_num_queries: Any
) -> None:
    world.district.store_demographics = True
    world.district.save()
    demographics(jose, sex="M")
    for i in range(15):
        enrol(jose, world.other_school, ended=True, class_source_id=f"class-{i}")
        guardian_link(person(world.district, "G", f"Guardian{i}", kind=Person.Kind.GUARDIAN), jose)
    for _ in range(5):
        submit(world.school, names=("Pepe Núñez",))
    # 15 for the page itself, one for the inbox badge, three for the reports about the person, one
    # for the cases they are on.
    with django_assert_max_num_queries(20):
        response = leader.get(_page(jose.pk))
    assert response.status_code == 200
    assert response.content.decode().count("/intake/") >= 5


# Reports about the person ---------------------------------------------------------------------
def test_the_person_page_lists_reports_naming_them_or_linked_to_them(
    world: World, member: Client, jose: Person
) -> None:
    by_name = submit(world.school, names=("jose  NUNEZ",))  # case, accents and spacing don't matter
    by_preferred = submit(world.other_school, names=("Núñez, Pepe",))  # word order neither
    linked = submit(world.school, person_ids=(jose.pk,))
    unrelated = submit(world.school, names=("Someone Else",))
    page = member.get(_page(jose.pk)).content.decode()
    for report in (by_name, by_preferred, linked):
        assert f"/intake/{report.pk}/" in page
    assert f"/intake/{unrelated.pk}/" not in page
    assert "Linked to this record" in page
    assert "Names someone with this name" in page


def test_the_person_page_lists_the_cases_the_user_may_see_with_the_persons_role(world: World, jose: Person) -> None:
    from btam.cases.actions import do_open_case
    from btam.cases.participant_actions import do_add_participant

    member = world.users[Role.TEAM_MEMBER]
    north = do_open_case(actor=member, school=world.school, title="North concern")
    south = do_open_case(actor=member, school=world.other_school, title="South concern")
    for case in (north, south):
        do_add_participant(actor=member, case=case, role="subject", person=jose)
    scoped = _client(make_member(Role.TEAM_MEMBER, world.district, schools=[world.school]))
    page = scoped.get(_page(jose.pk)).content.decode()
    assert f"/cases/{north.pk}/" in page and f"{north.number} (Subject)" in page
    assert f"/cases/{south.pk}/" not in page
    assert "North concern" not in page  # the number, role, stage and school only


def test_reports_of_schools_outside_the_users_team_are_not_listed(world: World, jose: Person) -> None:
    elsewhere = submit(world.other_school, names=("José Núñez",))
    here = submit(world.school, names=("José Núñez",))
    scoped = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    page = _client(scoped).get(_page(jose.pk)).content.decode()
    assert f"/intake/{here.pk}/" in page
    assert f"/intake/{elsewhere.pk}/" not in page


def test_reports_naming_a_record_merged_into_the_person_are_listed(world: World, leader: Client, jose: Person) -> None:
    duplicate = person(world.district, "Joseph", "Nunez-Duplicate")
    report = submit(world.school, names=("Joseph Nunez-Duplicate",))
    leader.post(f"/people/{jose.pk}/merge/{duplicate.pk}/", {"reason": "Same student, two records."})
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == jose.pk
    assert f"/intake/{report.pk}/" in leader.get(_page(jose.pk)).content.decode()


# Merging -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.RAPID_RESPONSE, Role.REFERRING_STAFF])
def test_merge_pages_are_refused_to_other_roles(world: World, jose: Person, role: str) -> None:
    dup = person(world.district, "Jose", "Nunez")
    client = _client(world.users[role])
    for path in (f"/people/{jose.pk}/merge/", f"/people/{jose.pk}/merge/{dup.pk}/", "/people/merges/"):
        assert client.get(path).status_code == 403
    assert client.post(f"/people/{jose.pk}/merge/{dup.pk}/", {"reason": "dup"}).status_code == 403
    assert not PersonMerge.objects.exists()


def test_a_leader_of_another_district_cannot_merge_ours(world: World, jose: Person) -> None:
    dup = person(world.district, "Jose", "Nunez")
    outsider = _client(world.outsider)
    assert outsider.get(f"/people/{jose.pk}/merge/").status_code == 404
    assert outsider.post(f"/people/{jose.pk}/merge/{dup.pk}/", {"reason": "dup"}).status_code == 404
    theirs = person(world.other_district, "Jose", "Nunez")
    assert outsider.get(f"/people/{theirs.pk}/merge/{jose.pk}/").status_code == 404
    assert not PersonMerge.objects.exists()


def test_merge_and_undo_through_the_pages(world: World, leader: Client, jose: Person) -> None:
    dup = person(world.district, "Jose", "Nunez", local_id="S-1002")
    enrol(dup, world.other_school)
    # Find the duplicate (a POST search in the same district, the record itself left out).
    found = leader.post(f"/people/{jose.pk}/merge/", {"q": "jose nunez"}).content.decode()
    assert f"/people/{jose.pk}/merge/{dup.pk}/" in found
    assert f"/people/{jose.pk}/merge/{jose.pk}/" not in found
    # Compare them side by side.
    confirm = f"/people/{jose.pk}/merge/{dup.pk}/"
    page = leader.get(confirm).content.decode()
    assert "S-1001" in page and "S-1002" in page and "Record to keep" in page
    viewed = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="people.person", detail__page="merge_confirm")
    assert {e.target_id for e in viewed} == {str(jose.pk), str(dup.pk)}
    # A reason is required.
    assert "Give a reason." in leader.post(confirm, {"reason": "  "}).content.decode()
    assert not PersonMerge.objects.exists()
    response = leader.post(confirm, {"reason": "Entered twice by the front office"})
    assert response.status_code == 302 and response["Location"] == _page(jose.pk)
    merge = PersonMerge.objects.get()
    assert (merge.survivor_id, merge.merged_id) == (jose.pk, dup.pk)
    assert "South Test Middle" in leader.get(_page(jose.pk)).content.decode()
    assert "Jose Nunez" not in leader.post(SEARCH, {"q": "jose nunez"}).content.decode()  # only Pepe remains
    # The list of merges, and the undo.
    assert f"/people/merges/{merge.pk}/undo/" in leader.get("/people/merges/").content.decode()
    undo = f"/people/merges/{merge.pk}/undo/"
    assert "Undoing moves 1 enrolment" in leader.get(undo).content.decode()
    assert "Give a reason." in leader.post(undo, {"reason": ""}).content.decode()
    response = leader.post(undo, {"reason": "Different people after all"})
    assert response.status_code == 302 and response["Location"] == _page(dup.pk)
    dup.refresh_from_db()
    assert dup.merged_into_id is None and dup.enrollments.get().school == world.other_school
    verbs = list(AuditEvent.objects.filter(verb=Verb.UPDATED, target_id=str(dup.pk)).values_list("detail", flat=True))
    assert [d["change"] for d in verbs] == ["merge_undone", "merged"]  # newest first


def test_a_refused_merge_is_shown_as_an_error(world: World, leader: Client, jose: Person) -> None:
    a = person(world.district, "Jose", "Nunez")
    b = person(world.district, "Jose", "Nunes")
    Person.objects.filter(pk=a.pk).update(merged_into=b)
    page = leader.get(f"/people/{jose.pk}/merge/{a.pk}/").content.decode()
    assert "has already been merged" in page
    response = leader.post(f"/people/{jose.pk}/merge/{a.pk}/", {"reason": "dup"})
    assert response.status_code == 200
    assert "already been merged into another record" in response.content.decode()
    assert not PersonMerge.objects.exists()


def test_the_same_record_cannot_be_compared_with_itself(leader: Client, jose: Person) -> None:
    assert leader.get(f"/people/{jose.pk}/merge/{jose.pk}/").status_code == 404


def test_undo_of_another_districts_merge_is_404(world: World, jose: Person) -> None:
    dup = person(world.district, "Jose", "Nunez")
    merge = do_merge_people(actor=world.users[Role.TEAM_LEADER], survivor=jose, merged=dup, reason="dup")
    outsider = _client(world.outsider)
    assert outsider.get(f"/people/merges/{merge.pk}/undo/").status_code == 404
    assert outsider.post(f"/people/merges/{merge.pk}/undo/", {"reason": "x"}).status_code == 404
    assert f"/people/merges/{merge.pk}/undo/" not in outsider.get("/people/merges/").content.decode()
    dup.refresh_from_db()
    assert dup.merged_into_id == jose.pk
