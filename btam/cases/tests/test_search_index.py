"""Full-text search of cases: keyed-hash words in CaseSearchDoc, the database's index over them
(PostgreSQL GIN, SQLite FTS5 kept in step by triggers), and the query side."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from btam.cases import search
from btam.cases.models import Case, CaseSearchDoc
from btam.cases.tests.list_helpers import add_note, make_case


def found(world: Any, text: str) -> set[int]:
    return set(
        search.search_cases(Case.objects.visible_to(world.users["team_leader"]), text).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_it_finds_a_case_by_a_word_of_its_title_summary_or_notes(world: Any) -> None:
    case = make_case(world, title="Threat near the gymnasium", summary="Seen by the librarian")
    add_note(case, world.users["team_leader"], "Interviewed the counselor about the bus stop")
    other = make_case(world, title="Unrelated matter")
    assert found(world, "gymnasium") == {case.pk}
    assert found(world, "librarian") == {case.pk}
    assert found(world, "counselor") == {case.pk}
    assert found(world, "unrelated") == {other.pk}


@pytest.mark.django_db
def test_it_needs_every_word_in_any_order(world: Any) -> None:
    both = make_case(world, title="Gymnasium threat", summary="bus stop")
    only = make_case(world, title="Gymnasium only")
    assert found(world, "stop gymnasium") == {both.pk}
    assert found(world, "gymnasium") == {both.pk, only.pk}


@pytest.mark.django_db
def test_capitals_and_accents_do_not_matter_but_whole_words_do(world: Any) -> None:
    case = make_case(world, title="Reunión con la señora Muñoz")
    assert found(world, "REUNION munoz") == {case.pk}
    assert found(world, "Señora") == {case.pk}
    assert found(world, "reun") == set()  # whole words only: the index holds hashes, not text


@pytest.mark.django_db
def test_the_index_follows_edits_and_deletions(world: Any) -> None:
    leader = world.users["team_leader"]
    case = make_case(world, title="Lunchroom incident")
    assert found(world, "lunchroom") == {case.pk}
    case = Case.objects.get(pk=case.pk)
    from btam.cases import actions

    actions.do_update_case(actor=leader, case=case, title="Parking lot incident", summary="", manager=leader)
    assert found(world, "lunchroom") == set()
    assert found(world, "parking") == {case.pk}
    CaseSearchDoc.objects.filter(case=case).delete()
    assert found(world, "parking") == set()


@pytest.mark.django_db
def test_the_index_holds_no_plain_text(world: Any) -> None:
    case = make_case(world, title="Jordan Fictitious threatened Casey", summary="at the skatepark")
    add_note(case, world.users["team_leader"], "Spoke with the guardian about Jordan")
    doc = CaseSearchDoc.objects.get(case=case)
    for word in ("jordan", "fictitious", "casey", "skatepark", "guardian"):
        assert word not in doc.tokens.lower()
    assert all(t.startswith("w") and len(t) == 1 + search.TOKEN_CHARS for t in doc.tokens.split())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tokens FROM cases_casesearch_fts WHERE rowid = %s", [case.pk])
            assert "skatepark" not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_database_index_is_in_place(world: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'cases_casesearchdoc_vector_gin'")
            (definition,) = cursor.fetchone()
            assert "gin (search_vector)" in definition
            cursor.execute(
                "SELECT generation_expression FROM information_schema.columns "
                "WHERE table_name = 'cases_casesearchdoc' AND column_name = 'search_vector'"
            )
            assert cursor.fetchone()[0] == "strip(to_tsvector('simple'::regconfig, tokens))"
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_casesearchdoc'")
            assert {r[0] for r in cursor.fetchall()} == {f"{search.FTS_TABLE}_{s}" for s in ("ai", "ad", "au")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE cases_case; --",
        '" OR 1=1 --',
        'gymnasium" OR "x',
        "NEAR(a b) OR c*",
        "<script>alert('x')</script>",
        "ab & cd | !ef",
    ],
)
def test_sql_and_query_syntax_in_a_search_are_only_words(world: Any, text: str) -> None:
    make_case(world, title="Gymnasium threat")
    assert found(world, text) == set()
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_search_without_a_real_word_is_refused(world: Any) -> None:
    for text in ("", "   ", "a", "! ? .", "x" * 41):
        with pytest.raises(search.SearchError, match="at least one word"):
            search.query_tokens(text)


def test_a_long_search_is_refused_with_its_length() -> None:
    with pytest.raises(search.SearchError, match="at most 200 characters"):
        search.query_tokens("word " * 2000)
    with pytest.raises(search.SearchError, match="at most 10 words"):
        search.query_tokens(" ".join(f"word{i}" for i in range(11)))


def test_a_word_is_hashed_once_however_often_it_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = search.token

    def counting(word: str) -> str:
        calls.append(word)
        return real(word)

    monkeypatch.setattr(search, "token", counting)
    tokens = search.tokens_for("bus bus BUS", "Bus stop", "stop")
    assert sorted(calls) == ["bus", "stop"]
    assert tokens.split() == [real("bus"), real("stop")]


@pytest.mark.django_db
def test_a_search_sees_only_the_cases_the_user_may_see(world: Any) -> None:
    make_case(world, title="Gymnasium threat")
    assert found(world, "gymnasium")
    outsider_sees = search.search_cases(Case.objects.visible_to(world.outsider), "gymnasium")
    assert not outsider_sees.exists()
