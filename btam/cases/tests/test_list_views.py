"""The case list (cases:list): who sees what, filters, sorting, pages, htmx, bad input."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases.list_filters import CaseFilterForm
from btam.cases.list_views import LIST_TARGET_TYPE
from btam.cases.models import Case, Status
from btam.cases.tests.list_helpers import HTMX, at, make_case
from btam.testing import make_member

URL = "/cases/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def numbers(response: Any) -> list[str]:
    """The case numbers listed, in order."""
    return re.findall(
        r'<th scope="row" data-label="[^"]*"><a class="usa-link" href="/cases/\d+/">([\d-]+)</a>',
        response.content.decode(),
    )


def listed(response: Any) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr data-case="(\d+)">', response.content.decode())}


@pytest.fixture
def leader(world: Any) -> Client:
    return client_for(world.users["team_leader"])


# Who sees what -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_lists_the_open_cases_the_user_may_see(world: Any, leader: Client) -> None:
    mine = make_case(world, title="Gymnasium threat")
    closed = make_case(world, title="Old matter", status=Status.CLOSED)
    response = leader.get(URL)
    assert response.status_code == 200
    assert listed(response) == {mine.pk}
    assert "Gymnasium threat" in response.content.decode()
    assert closed.pk not in listed(response)
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_member_of_another_school_or_district_does_not_see_the_case(world: Any) -> None:
    make_case(world, title="North only")
    south = make_member(Role.TEAM_MEMBER, world.district, schools=[world.other_school])
    for user in (south, world.outsider):
        response = client_for(user).get(URL)
        assert response.status_code == 200
        assert listed(response) == set()
        assert "North only" not in response.content.decode()


@pytest.mark.django_db
def test_a_restricted_case_hides_from_the_team_but_not_from_its_members(world: Any) -> None:
    leader = world.users["team_leader"]
    case = make_case(world, title="Staff matter", restricted=True)
    member = world.users["team_member"]
    assert case.pk in listed(client_for(leader).get(URL))  # its manager
    assert case.pk not in listed(client_for(member).get(URL))


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN, Role.REFERRING_STAFF])
def test_roles_that_never_see_a_case_are_refused(world: Any, role: str) -> None:
    assert client_for(world.users[role]).get(URL).status_code == 403


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_title_is_shown_escaped(world: Any, leader: Client) -> None:
    make_case(world, title="<script>alert('x')</script> & <b>bold</b>")
    body = leader.get(URL).content.decode()
    assert "<script>alert" not in body and "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body


@pytest.mark.django_db
def test_each_row_shows_its_school_stage_risk_manager_and_dates(world: Any, leader: Client, clock: Any) -> None:
    clock.freeze(at("2026-03-10"))
    make_case(world, title="Row", status=Status.MANAGEMENT, risk_level="high", next_due_on=dt.date(2026, 3, 1))
    body = leader.get(URL).content.decode()
    row = body[body.index("<tbody>") : body.index("</tbody>")]
    manager = world.users["team_leader"]
    for text in ("North Test High", "Management", "High", manager.full_name, 'datetime="2026-03-01"', ">Overdue<"):
        assert text in row


# Filters -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_filters_by_several_stages(world: Any, leader: Client) -> None:
    screening = make_case(world)
    evaluation = make_case(world, status=Status.EVALUATION)
    management = make_case(world, status=Status.MANAGEMENT)
    assert listed(leader.get(URL, {"stage": ["evaluation", "management"]})) == {evaluation.pk, management.pk}
    assert listed(leader.get(URL, {"stage": "screening"})) == {screening.pk}


@pytest.mark.django_db
def test_closed_cases_come_with_include_closed_or_the_closed_stage(world: Any, leader: Client) -> None:
    open_ = make_case(world, status=Status.EVALUATION)
    closed = make_case(world, status=Status.CLOSED)
    assert listed(leader.get(URL)) == {open_.pk}
    assert listed(leader.get(URL, {"include_closed": "1"})) == {open_.pk, closed.pk}
    assert listed(leader.get(URL, {"stage": "closed"})) == {closed.pk}
    assert listed(leader.get(URL, {"stage": "evaluation", "include_closed": "1"})) == {open_.pk, closed.pk}


@pytest.mark.django_db
def test_it_filters_by_school_risk_level_and_case_manager(world: Any, leader: Client) -> None:
    member = world.users["team_member"]
    north = make_case(world, risk_level="high")
    south = make_case(world, school=world.other_school, manager=member)
    assert listed(leader.get(URL, {"school": world.other_school.pk})) == {south.pk}
    assert listed(leader.get(URL, {"risk": "high"})) == {north.pk}
    assert listed(leader.get(URL, {"risk": "none"})) == {south.pk}
    assert listed(leader.get(URL, {"manager": "me"})) == {north.pk}
    assert listed(leader.get(URL, {"manager": str(member.pk)})) == {south.pk}
    Case.objects.filter(pk=south.pk).update(manager=None)
    assert listed(leader.get(URL, {"manager": "none"})) == {south.pk}


@pytest.mark.django_db
def test_overdue_means_an_open_case_with_a_due_date_before_today(world: Any, leader: Client, clock: Any) -> None:
    clock.freeze(at("2026-03-10"))
    late = make_case(world, next_due_on=dt.date(2026, 3, 9))
    make_case(world, next_due_on=dt.date(2026, 3, 10))  # due today: not overdue
    make_case(world)  # nothing due
    make_case(world, next_due_on=dt.date(2026, 3, 1), status=Status.CLOSED)
    response = leader.get(URL, {"overdue": "1", "include_closed": "1"})
    assert listed(response) == {late.pk}
    assert response.content.decode().count('data-testid="overdue"') == 1


@pytest.mark.django_db
def test_it_filters_by_opening_and_activity_dates_inclusive(world: Any, leader: Client) -> None:
    march = make_case(world, opened_at=at("2026-03-01", 23), updated_at=at("2026-03-20"))
    april = make_case(world, opened_at=at("2026-04-01", 0), updated_at=at("2026-04-02"))
    assert listed(leader.get(URL, {"opened_from": "2026-03-01", "opened_to": "2026-03-31"})) == {march.pk}
    assert listed(leader.get(URL, {"opened_from": "2026-04-01"})) == {april.pk}
    assert listed(leader.get(URL, {"active_to": "2026-03-20"})) == {march.pk}
    assert listed(leader.get(URL, {"active_from": "2026-03-21", "active_to": "2026-04-02"})) == {april.pk}


# Sorting and pages -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_sorts_by_last_activity_first_by_default_and_by_other_columns(world: Any, leader: Client) -> None:
    a = make_case(world, updated_at=at("2026-03-03"), opened_at=at("2026-01-01"), next_due_on=dt.date(2026, 5, 1))
    b = make_case(world, updated_at=at("2026-03-01"), opened_at=at("2026-02-01"))
    c = make_case(world, updated_at=at("2026-03-02"), opened_at=at("2026-01-15"), next_due_on=dt.date(2026, 4, 1))
    assert numbers(leader.get(URL)) == [a.number, c.number, b.number]
    assert numbers(leader.get(URL, {"order": "asc"})) == [b.number, c.number, a.number]
    assert numbers(leader.get(URL, {"sort": "opened"})) == [b.number, c.number, a.number]
    assert numbers(leader.get(URL, {"sort": "number", "order": "asc"})) == [a.number, b.number, c.number]
    # Next due: soonest first ascending; cases with nothing due last either way.
    assert numbers(leader.get(URL, {"sort": "due", "order": "asc"})) == [c.number, a.number, b.number]
    assert numbers(leader.get(URL, {"sort": "due"})) == [a.number, c.number, b.number]


@pytest.mark.django_db
def test_pages_of_25_with_links_that_keep_the_filters(world: Any, leader: Client) -> None:
    for i in range(27):
        make_case(world, updated_at=at("2026-03-01") + dt.timedelta(minutes=i), status=Status.EVALUATION)
    first = leader.get(URL, {"stage": "evaluation"})
    assert len(listed(first)) == 25
    body = first.content.decode()
    assert "27 cases" in body and "Page 1 of 2" in body
    assert 'href="?stage=evaluation&amp;page=2"' in body
    second = leader.get(URL, {"stage": "evaluation", "page": "2"})
    assert len(listed(second)) == 2
    assert listed(first).isdisjoint(listed(second))


@pytest.mark.django_db
def test_a_page_past_the_end_shows_the_last_page(world: Any, leader: Client) -> None:
    make_case(world)
    response = leader.get(URL, {"page": "99"})
    assert response.status_code == 200 and len(listed(response)) == 1


@pytest.mark.django_db
def test_an_htmx_page_link_swaps_only_the_results(world: Any, leader: Client) -> None:
    case = make_case(world)
    response = leader.get(URL, {"page": "1"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and listed(response) == {case.pk}
    assert "<html" not in body and 'id="case-filter-form"' not in body


@pytest.mark.django_db
def test_a_filter_form_post_redirects_to_the_address_of_its_filters(world: Any, leader: Client) -> None:
    response = leader.post(URL, {"stage": ["evaluation", "management"], "overdue": "on", "school": "", "q": ""})
    assert response.status_code == 302
    assert response["Location"] == "/cases/?stage=evaluation&stage=management&overdue=1"


@pytest.mark.django_db
def test_an_htmx_filter_post_gets_the_results_and_the_address(world: Any, leader: Client) -> None:
    case = make_case(world, status=Status.EVALUATION)
    response = leader.post(URL, {"stage": "evaluation", "q": ""}, headers=HTMX)
    assert response.status_code == 200 and listed(response) == {case.pk}
    assert response["HX-Push-Url"] == "/cases/?stage=evaluation"
    assert "<html" not in response.content.decode()


@pytest.mark.django_db
def test_listing_records_who_saw_which_cases(world: Any, leader: Client) -> None:
    case = make_case(world, status=Status.EVALUATION)
    leader.get(URL, {"stage": "evaluation"})
    event = AuditEvent.objects.filter(verb=Verb.VIEWED, target_type=LIST_TARGET_TYPE).get()
    assert event.actor == world.users["team_leader"]
    assert event.detail["case_ids"] == [case.pk]
    assert event.detail["filters"] == {"stage": ["evaluation"]}
    assert event.detail["searched"] is False
    assert event.district_id == world.district.pk


# Bad input ---------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"stage": "bogus"}, "bogus is not a stage of a case."),
        ({"stage": "<img src=x onerror=alert(1)>"}, "&lt;img src=x onerror=alert(1)&gt; is not a stage of a case."),
        ({"opened_from": "2026-13-45"}, "Enter a real date as year-month-day"),
        ({"active_to": "yesterday"}, "Enter a real date as year-month-day"),
        ({"opened_from": "2026-03-02", "opened_to": "2026-03-01"}, "the wrong way round"),
        ({"page": "-1"}, "The page number must be a whole number, 1 or more."),
        ({"page": "abc"}, "The page number must be a whole number, 1 or more."),
        ({"page": "0"}, "The page number must be a whole number, 1 or more."),
        ({"page": "99999999999999999999"}, "There is no page 100000 or beyond."),
        ({"sort": "title; DROP TABLE cases_case"}, "is not a way to sort the list."),
        ({"order": "sideways"}, "sideways is not an order."),
        ({"risk": "extreme"}, "extreme is not a risk level."),
        ({"school": "abc"}, "That school is not one of yours"),
        ({"manager": "99999"}, "That person is not on a team of your district."),
    ],
)
def test_bad_filters_get_a_clear_message_and_a_400(
    world: Any, leader: Client, params: dict[str, str], message: str
) -> None:
    make_case(world)
    response = leader.get(URL, params)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<img src=x" not in body
    assert 'data-testid="case-list"' not in body  # no results from a bad query


@pytest.mark.django_db
def test_a_school_of_another_district_is_not_a_choice(world: Any, leader: Client) -> None:
    elsewhere = world.other_district.schools.get()
    response = leader.get(URL, {"school": elsewhere.pk})
    assert response.status_code == 400
    assert "That school is not one of yours" in response.content.decode()


@pytest.mark.django_db
def test_a_school_scoped_member_chooses_among_their_schools_only(world: Any) -> None:
    south = make_member(Role.TEAM_MEMBER, world.district, schools=[world.other_school])
    client = client_for(south)
    assert client.get(URL, {"school": world.other_school.pk}).status_code == 200
    assert client.get(URL, {"school": world.school.pk}).status_code == 400


@pytest.mark.django_db
def test_bad_input_keeps_what_was_typed(world: Any, leader: Client) -> None:
    params = {"opened_from": "2026-13-45", "stage": "evaluation", "manager": "me", "risk": "high", "sort": "due"}
    body = leader.get(URL, params).content.decode()
    assert 'value="2026-13-45"' in body
    assert re.search(r'value="evaluation" checked', body)
    for name, value in (("manager", "me"), ("risk", "high"), ("sort", "due")):
        select = re.search(rf'<select [^>]*name="{name}"[^>]*>(.*?)</select>', body, re.S)
        assert select and f'<option value="{value}" selected>' in select.group(1)
        assert select.group(1).count(" selected>") == 1
    assert '<label class="usa-label" for="id_manager">Case manager</label>' in body
    assert '<select class="usa-select" id="id_manager" name="manager">' in body


@pytest.mark.django_db
def test_bad_input_by_htmx_swaps_the_whole_panel_with_the_message(world: Any, leader: Client) -> None:
    response = leader.post(URL, {"opened_from": "2026-13-45", "q": ""}, headers=HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#case-list" and response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert 'id="case-filter-form"' in body and "Enter a real date" in body and "<html" not in body


@pytest.mark.django_db
def test_other_methods_are_not_allowed(world: Any, leader: Client) -> None:
    assert leader.put(URL).status_code == 405
    assert leader.delete(URL).status_code == 405


@pytest.mark.django_db
def test_a_list_counts_up_to_its_limit_and_says_how_to_reach_the_others(
    world: Any, leader: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btam.cases import list_views

    monkeypatch.setattr(list_views, "MAX_LISTED", 3)
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    cases = [make_case(world, updated_at=at("2026-03-01") + dt.timedelta(minutes=i)) for i in range(5)]
    first = leader.get(URL)
    body = first.content.decode()
    assert "More than 3 cases" in body and "reverse the order to reach the others" in body
    assert "Page 1 of 2" in body
    assert listed(first) == {cases[4].pk, cases[3].pk}
    assert listed(leader.get(URL, {"page": "2"})) == {cases[2].pk}
    assert listed(leader.get(URL, {"order": "asc"})) == {cases[0].pk, cases[1].pk}
    monkeypatch.setattr(list_views, "MAX_LISTED", 5)
    assert "More than" not in leader.get(URL).content.decode()


GARBAGE = ["", "\x00", "9" * 40, "-1", "abc", "<b>x</b>", "' OR 1=1 --", "é" * 6000, "0001-01-01", "99999-01-01"]
FIELDS = [*CaseFilterForm.FILTER_FIELDS, "q", "page", "name", "query"]


@pytest.mark.django_db
def test_no_value_in_any_field_makes_a_500(world: Any, leader: Client) -> None:
    make_case(world, title="Gymnasium threat", status=Status.EVALUATION)
    bad = []
    # Every field through the address (a plain GET) and the form (an htmx POST); the other two ways
    # in (htmx GET, plain POST) read the same form and differ only in what they render, so they get
    # the fields that change what is rendered; saving a filter reads its name and query.
    ways: dict[str, list[Any]] = {
        "plain GET": [lambda d: leader.get(URL, d)],
        "htmx POST": [lambda d: leader.post(URL, d, headers=HTMX)],
    }
    for field in FIELDS:
        sends = [*ways["plain GET"], *ways["htmx POST"]]
        if field in ("q", "page", "sort", "order"):
            sends += [lambda d: leader.get(URL, d, headers=HTMX), lambda d: leader.post(URL, d)]
        if field in ("name", "query"):
            sends.append(lambda d: leader.post("/cases/filters/", d))
        for value in GARBAGE:
            for send in sends:
                response = send({"stage": "evaluation", field: value})
                if response.status_code >= 500:
                    bad.append((field, value[:10], response.status_code))
    for pk in ("0", "99999999999999999999"):
        assert leader.post(f"/cases/filters/{pk}/delete/").status_code == 404
    assert not bad, bad
