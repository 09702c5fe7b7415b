"""Searching the case list: words by POST only (htmx or a plain form), never in a URL, a saved
filter or the audit trail; their pages are POSTs too; bad searches get a message, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from btam.audit.models import AuditEvent, Verb
from btam.cases.list_views import LIST_TARGET_TYPE
from btam.cases.models import Status
from btam.cases.tests.list_helpers import HTMX, add_note, at, make_case
from btam.cases.tests.test_list_views import client_for, listed

URL = "/cases/"


@pytest.fixture
def leader(world: Any) -> Client:
    return client_for(world.users["team_leader"])


@pytest.mark.django_db
def test_a_plain_form_post_answers_the_matching_cases_itself(world: Any, leader: Client) -> None:
    hit = make_case(world, title="Threat near the gymnasium")
    make_case(world, title="Unrelated")
    response = leader.post(URL, {"q": "Gymnasium"})
    assert response.status_code == 200
    assert listed(response) == {hit.pk}
    body = response.content.decode()
    assert "1 case matches the search" in body
    assert 'value="Gymnasium"' in body  # the words stay in the box
    assert "<html" in body


@pytest.mark.django_db
def test_an_htmx_search_gets_the_results_only_and_no_new_address(world: Any, leader: Client) -> None:
    hit = make_case(world, title="Threat near the gymnasium")
    response = leader.post(URL, {"q": "gymnasium", "stage": ""}, headers=HTMX)
    assert response.status_code == 200 and listed(response) == {hit.pk}
    assert "<html" not in response.content.decode()
    assert "HX-Push-Url" not in response and "Location" not in response


@pytest.mark.django_db
def test_a_search_matches_notes_and_combines_with_the_filters(world: Any, leader: Client) -> None:
    evaluation = make_case(world, status=Status.EVALUATION)
    screening = make_case(world)
    for case in (evaluation, screening):
        add_note(case, world.users["team_leader"], "Talked with the bus driver")
    assert listed(leader.post(URL, {"q": "driver"})) == {evaluation.pk, screening.pk}
    assert listed(leader.post(URL, {"q": "driver", "stage": "evaluation"})) == {evaluation.pk}


@pytest.mark.django_db
def test_a_search_of_closed_cases_needs_include_closed(world: Any, leader: Client) -> None:
    closed = make_case(world, title="Gymnasium", status=Status.CLOSED)
    assert listed(leader.post(URL, {"q": "gymnasium"})) == set()
    assert listed(leader.post(URL, {"q": "gymnasium", "include_closed": "on"})) == {closed.pk}


@pytest.mark.django_db
def test_search_pages_are_posts_of_the_form(world: Any, leader: Client) -> None:
    for i in range(27):
        make_case(world, title=f"Gymnasium {i}", updated_at=at("2026-03-01") + dt.timedelta(minutes=i))
    first = leader.post(URL, {"q": "gymnasium"})
    body = first.content.decode()
    assert len(listed(first)) == 25 and "27 cases match the search" in body
    assert 'form="case-filter-form" name="page" value="2"' in body
    assert "page=2" not in body.replace('name="page" value="2"', "")  # no page link carrying the search
    second = leader.post(URL, {"q": "gymnasium", "page": "2"}, headers=HTMX)
    assert len(listed(second)) == 2 and listed(first).isdisjoint(listed(second))


@pytest.mark.django_db
def test_the_search_words_are_never_in_an_address_a_saved_filter_or_the_audit_trail(world: Any, leader: Client) -> None:
    make_case(world, title="Gymnasium threat")
    response = leader.post(URL, {"q": "gymnasium", "stage": "screening"})
    body = response.content.decode()
    assert "gymnasium" not in "".join(str(v) for v in response.headers.values()).lower()
    # The save form of the results carries the filters only.
    assert 'name="query" value="stage=screening"' in body
    assert "?q=" not in body and "&amp;q=" not in body
    event = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type=LIST_TARGET_TYPE).get()
    assert event.detail["searched"] is True
    assert "gymnasium" not in str(event.detail).lower() + event.reason.lower()


@pytest.mark.django_db
def test_search_words_in_a_url_are_not_used(world: Any, leader: Client) -> None:
    make_case(world, title="Gymnasium threat")
    other = make_case(world, title="Other")
    response = leader.get(URL, {"q": "gymnasium"})
    assert response.status_code == 200
    assert len(listed(response)) == 2 and other.pk in listed(response)
    assert "Search words never go in the address" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("x" * 10_000, "The search is too long: at most 200 characters (it has 10000)."),
        ("! ? .", "Enter at least one word of two letters or digits or more."),
        (" ".join(f"w{i}" for i in range(12)), "Search for at most 10 words at a time."),
    ],
)
def test_a_bad_search_gets_a_message_and_a_400(world: Any, leader: Client, words: str, message: str) -> None:
    make_case(world, title="Gymnasium threat")
    response = leader.post(URL, {"q": words})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'data-testid="case-list"' not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "words",
    ["'; DROP TABLE cases_case; --", '" OR "1"="1', "<script>alert('x')</script>", "gymnasium* OR NEAR(x y)"],
)
def test_sql_html_and_query_syntax_are_searched_as_words_and_shown_escaped(
    world: Any, leader: Client, words: str
) -> None:
    make_case(world, title="Gymnasium threat")
    response = leader.post(URL, {"q": words})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body
    assert "No case holds every one of these words" in body
    assert leader.get(URL).status_code == 200  # the table is still there


@pytest.mark.django_db
def test_a_search_finds_only_what_the_user_may_see(world: Any) -> None:
    make_case(world, title="Gymnasium threat")
    response = client_for(world.outsider).post(URL, {"q": "gymnasium"})
    assert response.status_code == 200 and listed(response) == set()


@pytest.mark.django_db
def test_a_search_post_needs_the_csrf_token(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["team_leader"])
    assert client.post(URL, {"q": "gymnasium"}).status_code == 403


@pytest.mark.django_db
def test_a_search_matching_too_many_cases_lists_the_first_ones_and_says_so(
    world: Any, leader: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btam.cases import list_views

    monkeypatch.setattr(list_views, "MAX_SEARCH_RESULTS", 4)
    for i in range(6):
        make_case(world, title=f"Gymnasium {i}", updated_at=at("2026-03-01") + dt.timedelta(minutes=i))
    first = leader.post(URL, {"q": "gymnasium"})
    body = first.content.decode()
    assert "More than 4 cases match the search" in body
    assert "Only the first 4 of them, in the order chosen, can be listed" in body
    assert len(listed(first)) == 4
    # Without a search, every case counts.
    assert "6 cases" in leader.get(URL).content.decode()
