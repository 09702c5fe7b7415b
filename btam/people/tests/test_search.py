"""search_people: names (accents, case, preferred names, parts, typos), ids, filters, scope."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role
from btam.conftest import World
from btam.people import search as search_module
from btam.people.models import Person
from btam.people.search import QueryKind, grade_variants, normalize, query_kind, search_people
from btam.people.tests.person_helpers import enrol, person, postgres_only, sqlite_only
from btam.testing import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def names(world: World, query: str, **kwargs: Any) -> list[str]:
    """Legal names found by a team leader of the world's district."""
    scoped = Person.objects.visible_to(world.users[Role.TEAM_LEADER])
    return [f"{p.given_name} {p.family_name}" for p in search_people(scoped, query, **kwargs).people]


# Normalizing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José O'Brien-Núñez", "jose o brien nunez"),
        ("  ZOË   Chloé ", "zoe chloe"),
        ("Łukasz Đặng Søren Straße", "lukasz dang soren strasse"),
        ("<script>", "script"),
    ],
)
def test_normalize_drops_case_accents_and_punctuation(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_an_id_is_one_word_with_a_digit() -> None:
    assert query_kind("S1234") == QueryKind.ID
    assert query_kind("1234") == QueryKind.ID
    assert query_kind("jdoe") == QueryKind.NAME
    assert query_kind("Ana 2") == QueryKind.NAME


def test_grades_match_with_or_without_a_leading_zero() -> None:
    assert grade_variants("9") == ["09", "9"]
    assert grade_variants("09") == ["09", "9"]
    assert grade_variants("KG") == ["KG"]


# Names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["jose nunez", "JOSÉ NÚÑEZ", "Nunez", "nuñez", "José", "nun jo", "Núñez José"])
def test_names_match_without_regard_to_case_accents_or_word_order(world: World, query: str) -> None:
    person(world.district, "José", "Núñez")
    person(world.district, "Maria", "Lopez")
    assert names(world, query) == ["José Núñez"]


def test_an_accented_name_is_found_by_an_accented_query_of_an_unaccented_record(world: World) -> None:
    person(world.district, "Jose", "Nunez")
    assert names(world, "José Núñez") == ["Jose Nunez"]


def test_every_word_must_match_the_start_of_a_word(world: World) -> None:
    person(world.district, "José", "Núñez")
    person(world.district, "Ana", "Smith")
    assert names(world, "jose smith") == []
    assert names(world, "unez") == []  # inside a word, not at its start
    assert names(world, "ose") == []


def test_preferred_and_middle_names_are_searched(world: World) -> None:
    person(world.district, "Robert", "Okafor", preferred_given_name="Bobby", middle_name="Chidi")
    assert names(world, "bobby okafor") == ["Robert Okafor"]
    assert names(world, "robert okafor") == ["Robert Okafor"]
    assert names(world, "chidi") == ["Robert Okafor"]


def test_prefix_matches_are_in_alphabetical_order_of_family_then_given_name(world: World) -> None:
    person(world.district, "Ana", "Zapata")
    person(world.district, "Anabel", "Alvarez")
    person(world.district, "Ana", "Alvarez")
    assert names(world, "ana") == ["Ana Alvarez", "Anabel Alvarez", "Ana Zapata"]


# Ids -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field",
    ["local_id", "state_id", "source_id", "username"],
)
def test_each_kind_of_id_finds_the_person(world: World, field: str) -> None:
    person(world.district, "Amara", "Mensah", **{field: "ST-7781X"})
    person(world.district, "Kofi", "Mensah")
    assert names(world, "ST-7781X") == ["Amara Mensah"]
    assert names(world, " st-7781x ") == ["Amara Mensah"]  # typed in lower case (ids are stored in one case)
    assert names(world, "ST-7781") == []


def test_an_id_query_is_not_a_name_query(world: World) -> None:
    person(world.district, "Amara", "Mensah", local_id="552")
    scoped = Person.objects.visible_to(world.users[Role.TEAM_LEADER])
    results = search_people(scoped, "552")
    assert results.kind == QueryKind.ID
    assert [p.family_name for p in results.people] == ["Mensah"]
    assert search_people(scoped, "55").people == []  # ids match exactly, not by prefix


def test_a_username_is_found_alongside_names(world: World) -> None:
    person(world.district, "Jordan", "Doe", username="jdoe")
    person(world.district, "Jdoe", "Smith")  # a name that happens to look the same
    assert names(world, "jdoe") == ["Jordan Doe", "Jdoe Smith"]


# Merged records ------------------------------------------------------------------------------
def test_merged_records_are_hidden_and_their_ids_find_the_survivor(world: World) -> None:
    survivor = person(world.district, "Aisha", "Diallo", local_id="A-1")
    duplicate = person(world.district, "Aisha", "Diallo", local_id="A-2")
    Person.objects.filter(pk=duplicate.pk).update(merged_into=survivor)
    scoped = Person.objects.visible_to(world.users[Role.TEAM_LEADER])
    assert [p.pk for p in search_people(scoped, "aisha diallo").people] == [survivor.pk]
    assert [p.pk for p in search_people(scoped, "A-2").people] == [survivor.pk]


# Filters -------------------------------------------------------------------------------------
def test_the_school_filter_keeps_people_currently_enrolled_there(world: World) -> None:
    here = person(world.district, "Leo", "Park")
    enrol(here, world.school)
    enrol(here, world.school)  # a second class at the same school: listed once
    moved_away = person(world.district, "Leo", "Kim")
    enrol(moved_away, world.school, ended=True)
    enrol(moved_away, world.other_school)
    assert names(world, "leo", school=world.school) == ["Leo Park"]
    assert names(world, "leo", school=world.other_school.pk) == ["Leo Kim"]
    assert names(world, "leo") == ["Leo Kim", "Leo Park"]


def test_a_nul_character_is_ignored(world: World) -> None:
    person(world.district, "Ana", "Lee")
    assert names(world, "an\x00a") == ["Ana Lee"]


def test_the_grade_and_kind_filters(world: World) -> None:
    person(world.district, "Mia", "Cruz", grade="09")
    person(world.district, "Mia", "Ruiz", grade="10")
    person(world.district, "Mia", "Ortiz", kind=Person.Kind.GUARDIAN)
    assert names(world, "mia", grade="9") == ["Mia Cruz"]
    assert names(world, "mia", grade="10") == ["Mia Ruiz"]
    assert names(world, "mia", kind=Person.Kind.GUARDIAN) == ["Mia Ortiz"]


def test_inactive_records_only_when_asked(world: World) -> None:
    person(world.district, "Owen", "Reyes", status="inactive")
    assert names(world, "owen") == []
    assert names(world, "owen", include_inactive=True) == ["Owen Reyes"]


def test_pages_of_results(world: World) -> None:
    for i in range(7):
        person(world.district, "Noa", f"Family{chr(ord('a') + i)}")
    scoped = Person.objects.visible_to(world.users[Role.TEAM_LEADER])
    first = search_people(scoped, "noa", limit=3)
    second = search_people(scoped, "noa", limit=3, offset=3)
    last = search_people(scoped, "noa", limit=3, offset=6)
    assert first.has_more and second.has_more and not last.has_more
    found = [p.family_name for r in (first, second, last) for p in r.people]
    assert found == [f"Family{chr(ord('a') + i)}" for i in range(7)]


def test_a_common_name_is_cut_at_the_most_a_search_lists(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "MAX_RESULTS", 4)
    for i in range(6):
        person(world.district, "Noa", f"Fam{i}")
    scoped = Person.objects.visible_to(world.users[Role.TEAM_LEADER])
    first = search_people(scoped, "noa", limit=3)
    second = search_people(scoped, "noa", limit=3, offset=3)
    assert first.capped and second.capped
    assert first.has_more and not second.has_more
    found = [p.family_name for p in first.people + second.people]
    assert len(found) == 4 and found[:3] == sorted(found[:3])  # the ones listed are in order
    assert not search_people(scoped, "noa fam1").capped


# Scope ---------------------------------------------------------------------------------------
def test_another_districts_people_are_never_found(world: World) -> None:
    person(world.other_district, "José", "Núñez", local_id="X-1")
    assert names(world, "jose nunez") == []
    assert names(world, "X-1") == []
    assert names(world, "Jose Nunes") == []  # nor by similarity


def test_referring_staff_find_only_people_enrolled_at_their_schools(world: World) -> None:
    staff = make_member(Role.REFERRING_STAFF, world.district, [world.school])
    ours = person(world.district, "Eli", "Brooks")
    enrol(ours, world.school)
    enrol(ours, world.school)
    theirs = person(world.district, "Eli", "Bell")
    enrol(theirs, world.other_school)
    left = person(world.district, "Eli", "Baker")
    enrol(left, world.school, ended=True)
    found = search_people(Person.objects.visible_to(staff), "eli").people
    assert [p.pk for p in found] == [ours.pk]


def test_roles_without_access_to_people_find_no_one(world: World) -> None:
    person(world.district, "Eli", "Brooks")
    for role in (Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN):
        assert search_people(Person.objects.visible_to(world.users[role]), "eli").people == []


# Typos ---------------------------------------------------------------------------------------
@postgres_only
def test_typos_match_by_trigram_similarity_after_the_exact_matches(world: World) -> None:
    person(world.district, "José", "Núñez")
    person(world.district, "Sofia", "Martinez")
    person(world.district, "Sofia", "Martin")
    person(world.district, "Sofia", "Gonzalez")
    assert names(world, "Jose Nunes") == ["José Núñez"]
    assert names(world, "sofia mrtinez") == ["Sofia Martinez"]
    # Prefix matches first (alphabetical), then the close ones (closest first).
    assert names(world, "sofia martin") == ["Sofia Martin", "Sofia Martinez"]
    assert names(world, "sofia martines") == ["Sofia Martinez", "Sofia Martin"]
    # Each word must be close on its own: one right word does not carry a wrong one.
    assert names(world, "sofia gomez") == []


@sqlite_only
def test_on_sqlite_close_names_share_the_first_or_last_three_letters(world: World) -> None:
    person(world.district, "José", "Núñez")
    person(world.district, "Sofia", "Martinez")
    assert names(world, "Jose Nunes") == ["José Núñez"]  # "nun": close enough
    assert names(world, "sofia mrtinez") == ["Sofia Martinez"]  # "nez"
    assert names(world, "sofia gomez") == []
    # A typo in both the first and the last three letters is beyond the fallback.
    assert names(world, "Jsoe Nnuez") == []


def test_close_matches_fill_the_page_after_the_prefix_matches(world: World) -> None:
    person(world.district, "Liam", "Nunez")
    person(world.district, "Liam", "Nunes")
    assert names(world, "liam nunes") == ["Liam Nunes", "Liam Nunez"]
