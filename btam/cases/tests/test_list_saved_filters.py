"""Saved filters of the case list: the actions (save, delete) and their views."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from btam.audit.models import AuditEvent, Verb
from btam.cases import list_actions
from btam.cases.actions import CaseError
from btam.cases.list_filters import CaseFilterForm
from btam.cases.models import SavedFilter, Status
from btam.cases.tests.list_helpers import make_case
from btam.cases.tests.test_list_views import client_for, listed

FIELDS = CaseFilterForm.FILTER_FIELDS


def save(user: Any, name: str = "Overdue at North", query: str = "stage=evaluation&overdue=1") -> SavedFilter:
    return list_actions.do_save_filter(actor=user, name=name, query=query, allowed=FIELDS)


# Actions -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_saves_the_filters_under_a_name_and_audits_it_without_the_name(world: Any) -> None:
    leader = world.users["team_leader"]
    saved = save(leader, name="  Jordan's cases  ")
    assert (saved.user, saved.name, saved.query) == (leader, "Jordan's cases", "stage=evaluation&overdue=1")
    event = AuditEvent.objects.filter(verb=Verb.CREATED, target_type="cases.savedfilter").get()
    assert event.target_id == str(saved.pk) and event.detail == {"filters": ["overdue", "stage"]}
    assert "Jordan" not in str(event.detail) + event.reason


@pytest.mark.django_db
def test_a_name_is_needed_and_not_too_long(world: Any) -> None:
    leader = world.users["team_leader"]
    with pytest.raises(CaseError, match="The name is required"):
        save(leader, name="   ")
    with pytest.raises(CaseError, match="at most 100 characters"):
        save(leader, name="n" * 101)
    assert not SavedFilter.objects.exists()


@pytest.mark.django_db
def test_two_filters_of_one_user_cannot_share_a_name_whatever_the_capitals(world: Any) -> None:
    leader = world.users["team_leader"]
    save(leader, name="Overdue")
    with pytest.raises(CaseError, match="already have a saved filter with this name"):
        save(leader, name="OVERDUE")
    save(world.users["team_member"], name="Overdue")  # another user's own
    assert SavedFilter.objects.count() == 2


@pytest.mark.django_db
def test_search_words_or_unknown_keys_are_never_saved(world: Any) -> None:
    leader = world.users["team_leader"]
    for query in ("q=jordan", "stage=evaluation&q=jordan", "page=2", "x=1"):
        with pytest.raises(CaseError, match="Only the filters can be saved"):
            save(leader, query=query)
    with pytest.raises(CaseError, match="too many to save"):
        save(leader, query="stage=evaluation&" * 100)
    assert not SavedFilter.objects.exists()


@pytest.mark.django_db
def test_a_user_keeps_at_most_fifty_filters(world: Any) -> None:
    leader = world.users["team_leader"]
    for i in range(list_actions.MAX_SAVED_FILTERS):
        save(leader, name=f"Filter {i}")
    with pytest.raises(CaseError, match="delete one first"):
        save(leader, name="One more")


@pytest.mark.django_db
def test_it_deletes_only_the_users_own_filter(world: Any) -> None:
    leader, member = world.users["team_leader"], world.users["team_member"]
    saved = save(leader)
    with pytest.raises(CaseError, match="no longer exists"):
        list_actions.do_delete_filter(actor=member, saved_filter=saved)
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    list_actions.do_delete_filter(actor=leader, saved_filter=saved)
    assert not SavedFilter.objects.exists()
    assert AuditEvent.objects.filter(
        verb=Verb.DELETED, target_type="cases.savedfilter", target_id=str(saved.pk)
    ).exists()


# Views -------------------------------------------------------------------------------------------
@pytest.fixture
def leader(world: Any) -> Client:
    return client_for(world.users["team_leader"])


@pytest.mark.django_db
def test_saving_from_the_list_stores_the_canonical_filters_and_shows_them(world: Any, leader: Client) -> None:
    response = leader.post("/cases/filters/", {"name": "Evaluation", "query": "overdue=on&stage=evaluation&page=3"})
    assert response.status_code == 302
    saved = SavedFilter.objects.get()
    assert saved.query == "stage=evaluation&overdue=1"
    assert response["Location"] == "/cases/?stage=evaluation&overdue=1"
    body = leader.get(response["Location"]).content.decode()
    assert 'href="/cases/?stage=evaluation&amp;overdue=1">Evaluation</a>' in body


@pytest.mark.django_db
def test_applying_a_saved_filter_lists_its_cases(world: Any, leader: Client) -> None:
    evaluation = make_case(world, status=Status.EVALUATION)
    make_case(world)
    saved = save(world.users["team_leader"], name="Evaluation", query="stage=evaluation")
    assert listed(leader.get(f"/cases/?{saved.query}")) == {evaluation.pk}


@pytest.mark.django_db
def test_a_duplicate_name_is_refused_with_a_message_keeping_the_name(world: Any, leader: Client) -> None:
    save(world.users["team_leader"], name="Mine")
    response = leader.post("/cases/filters/", {"name": "mine", "query": "stage=screening"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "already have a saved filter with this name" in body
    assert 'value="mine"' in body
    assert SavedFilter.objects.count() == 1


@pytest.mark.django_db
def test_bad_filters_or_search_words_cannot_be_saved(world: Any, leader: Client) -> None:
    response = leader.post("/cases/filters/", {"name": "Bad", "query": "stage=bogus"})
    assert response.status_code == 400
    assert "correct them first" in response.content.decode()
    # Search words sent along are not a filter: they are dropped, never stored.
    response = leader.post("/cases/filters/", {"name": "Words", "query": "q=jordan&stage=screening"})
    assert response.status_code == 302
    assert SavedFilter.objects.get().query == "stage=screening"


@pytest.mark.django_db
def test_an_html_name_is_shown_escaped(world: Any, leader: Client) -> None:
    save(world.users["team_leader"], name="<script>alert(1)</script>")
    body = leader.get("/cases/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.django_db
def test_a_user_sees_only_their_own_saved_filters(world: Any) -> None:
    save(world.users["team_leader"], name="Leader's own")
    body = client_for(world.users["team_member"]).get("/cases/").content.decode()
    assert "Leader&#x27;s own" not in body and "Leader's own" not in body


@pytest.mark.django_db
def test_deleting_a_filter(world: Any, leader: Client) -> None:
    saved = save(world.users["team_leader"])
    response = leader.post(f"/cases/filters/{saved.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert not SavedFilter.objects.exists()


@pytest.mark.django_db
def test_someone_elses_filter_is_not_found_whatever_the_method(world: Any) -> None:
    saved = save(world.users["team_leader"])
    member = client_for(world.users["team_member"])
    assert member.post(f"/cases/filters/{saved.pk}/delete/").status_code == 404
    assert member.get(f"/cases/filters/{saved.pk}/delete/").status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()


@pytest.mark.django_db
def test_saving_and_deleting_need_a_post(world: Any, leader: Client) -> None:
    saved = save(world.users["team_leader"])
    assert leader.get("/cases/filters/").status_code == 405
    assert leader.get(f"/cases/filters/{saved.pk}/delete/").status_code == 405
    assert SavedFilter.objects.filter(pk=saved.pk).exists()


@pytest.mark.django_db
def test_roles_without_cases_cannot_save_filters(world: Any) -> None:
    auditor = client_for(world.users["auditor"])
    assert auditor.post("/cases/filters/", {"name": "x", "query": ""}).status_code == 403
    assert not SavedFilter.objects.exists()
