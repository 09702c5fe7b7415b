"""The Timeline tab: filter by kind (codes only in the address), pages of 100, a constant number of
queries whatever the case's size, and the case's access rules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases import reporter_actions
from btam.cases.models import Case, Note, Task
from btam.cases.tests.documents_timeline_helpers import (
    open_case,
    read_only_member,
    report_with_thread,
    school_member,
    team_member,
)
from btam.cases.tests.test_timeline_entries import LONG_NOTE, full_story, note
from btam.intake.actions import do_post_reporter_message
from btam.lib import clock

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(case: Case) -> str:
    return reverse("cases:timeline", args=[case.pk])


def subs_of(response: Any) -> list[str]:
    return re.findall(r'data-sub="(\w+)"', response.content.decode())


def test_the_tab_shows_the_story_and_is_audited(world: Any) -> None:
    case, _other = full_story(world)
    response = client_for(team_member(world)).get(url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Screening decision: Needs a detailed evaluation" in html
    assert 'name="kind" value="note"' in html and '<label class="usa-checkbox__label" for="kind-note">' in html
    assert subs_of(response)[0] == "status"  # the reopening was the last thing done
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="timeline").exists()


def test_a_long_note_is_shown_truncated_with_a_link_to_the_notes_tab(world: Any) -> None:
    case = open_case(world)
    created = note(case, team_member(world), body=LONG_NOTE)
    html = client_for(team_member(world)).get(url(case)).content.decode()
    assert LONG_NOTE.strip() not in html and "Interviewed the student with the counselor present." in html
    assert f'href="{reverse("cases:notes", args=[case.pk])}#note-{created.pk}"' in html


def test_filtering_by_kind_through_the_query_string(world: Any) -> None:
    case, _other = full_story(world)
    response = client_for(team_member(world)).get(url(case), {"kind": ["message", "document"]})
    assert response.status_code == 200
    assert set(subs_of(response)) == {"message", "document"}
    html = response.content.decode()
    assert 'value="message" checked' in html and 'value="note" checked' not in html


@pytest.mark.parametrize("kind", ["nonsense", "<script>alert(1)</script>", "' OR 1=1 --", ""])
def test_an_unknown_kind_is_ignored_never_a_500(world: Any, kind: str) -> None:
    case, _other = full_story(world)
    response = client_for(team_member(world)).get(url(case), {"kind": kind, "page": "x'; --"})
    assert response.status_code == 200
    assert "alert(1)" not in response.content.decode()
    assert "status" in subs_of(response) and "note" in subs_of(response)  # everything shown


def test_page_links_keep_the_filter_and_carry_only_codes(world: Any) -> None:
    case = open_case(world)
    user = team_member(world)
    Task.objects.bulk_create(
        [
            Task(case=case, title=f"Task {i}", created_at=case.opened_at + dt.timedelta(minutes=i), created_by=user)
            for i in range(120)
        ]
    )
    client = client_for(user)
    first = client.get(url(case), {"kind": "task"})
    html = first.content.decode()
    assert len(subs_of(first)) == 100 and "Page 1 of 2." in html
    assert 'href="?kind=task&amp;page=2"' in html
    second = client.get(url(case), {"kind": "task", "page": "2"})
    assert len(subs_of(second)) == 20


def test_htmx_gets_the_results_only(world: Any) -> None:
    case = open_case(world)
    response = client_for(team_member(world)).get(url(case), {"kind": "status"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="timeline-results"')
    assert "<h1" not in html


def _grow(case: Case, world: Any, n: int) -> None:
    """n rows of every kind that can grow without bound."""
    user = team_member(world)
    report = case.report_links.first().report  # type: ignore[union-attr]
    for i in range(n):
        note(case, user, body=f"Note {i}")
        Task.objects.create(case=case, title=f"Task {i}", created_at=clock.now(), created_by=user)
        reporter_actions.do_message_reporter(actor=user, case=case, report=report, body=f"Question {i}")
        do_post_reporter_message(report=report, body=f"Answer {i}")


def _queries(client: Client, case: Case) -> int:
    # The same kinds on both pages (each table on a page costs one query to read its rows back).
    query = {"kind": ["note", "task", "message"]}
    client.get(url(case), query)  # warm up the session
    with CaptureQueriesContext(connection) as context:
        assert client.get(url(case), query).status_code == 200
    return len(context.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_case(world: Any, django_assert_max_num_queries: Any) -> None:
    small = open_case(world, reports=(report_with_thread(world.school),))
    big = open_case(world, reports=(report_with_thread(world.school),))
    _grow(small, world, 2)
    _grow(big, world, 60)
    client = client_for(team_member(world))
    assert Note.objects.filter(case=big).count() == 60
    assert _queries(client, small) == _queries(client, big)
    # Every table on one page: the count, the page, at most 12 tables, the users, and the page's own.
    with django_assert_max_num_queries(25):
        client.get(url(big), {"page": "2"})


@pytest.mark.parametrize("who", ["other_school", "outsider"])
def test_people_who_cannot_see_the_case_get_404(world: Any, who: str) -> None:
    case = open_case(world)
    user = school_member(world, world.other_school) if who == "other_school" else world.outsider
    client = client_for(user)
    assert client.get(url(case)).status_code == 404
    assert client.post(url(case)).status_code == 404


def test_a_read_only_school_sees_the_timeline(world: Any) -> None:
    case = open_case(world)
    assert client_for(read_only_member(world, case)).get(url(case)).status_code == 200


def test_the_timeline_is_read_only(world: Any) -> None:
    case = open_case(world)
    assert client_for(team_member(world)).post(url(case)).status_code == 405


def test_a_page_with_every_kind_reads_each_table_once(world: Any) -> None:
    case, _other = full_story(world)
    client = client_for(team_member(world))
    client.get(url(case))
    with CaptureQueriesContext(connection) as context:
        client.get(url(case))
    tables = [q["sql"] for q in context.captured_queries if "tl_sub" not in q["sql"]]
    for table in ("cases_note", "cases_task", "cases_casemerge", "cases_caseschool", "audit_auditevent"):
        reads = [sql for sql in tables if sql.startswith("SELECT") and f'FROM "{table}"' in sql]
        assert len(reads) == 1, (table, reads)
