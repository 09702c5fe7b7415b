"""The discussion on the case's timeline, and the tab's cost as the discussion grows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import User
from btam.cases import timeline
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.discussion.actions import do_post_comment

pytestmark = pytest.mark.django_db


def test_comments_and_replies_are_timeline_entries_with_an_excerpt_and_a_link(
    case: Case, leader: User, counselor: User
) -> None:
    first = do_post_comment(actor=leader, case=case, body="@marcus.oyelaran   who calls\nthe parents?")
    reply = do_post_comment(actor=counselor, case=case, body="I do.", parent=first)
    _page, entries = timeline.page_of(case, kinds=["discussion"], page_number=1)
    assert [(e.sub, e.what, e.who) for e in entries] == [
        ("comment", "Reply in the discussion", str(counselor)),
        ("comment", "Comment in the discussion", str(leader)),
    ]
    assert entries[1].excerpt == "@marcus.oyelaran who calls the parents?"
    assert entries[0].link == reverse("discussion:case", args=[case.pk]) + f"#comment-{reply.pk}"


def _queries(client: Client, case: Case) -> int:
    url = reverse("discussion:case", args=[case.pk])
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_tab_costs_the_same_queries_whatever_the_size_of_the_discussion(
    world: Any, client: Client, leader: User, counselor: User
) -> None:
    small, big = open_case(world, actor=leader), open_case(world, actor=leader)
    do_post_comment(actor=leader, case=small, body="@marcus.oyelaran one")
    for i in range(15):
        first = do_post_comment(actor=leader, case=big, body=f"@marcus.oyelaran thread {i}")
        do_post_comment(actor=counselor, case=big, body=f"reply {i} @dana.whitfield", parent=first)
    client.force_login(leader)
    assert _queries(client, small) == _queries(client, big)
