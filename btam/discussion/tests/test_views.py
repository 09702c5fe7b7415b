"""The Discussion tab: the threads, posting (with and without htmx), replies in place, the refusals
with the text kept, who sees a form, and the access rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case
from btam.discussion.actions import MAX_COMMENT_CHARS, do_post_comment
from btam.discussion.models import Comment
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team(client: Client, leader: User) -> Client:
    client.force_login(leader)
    return client


def tab(case: Case) -> str:
    return reverse("discussion:case", args=[case.pk])


def post_url(case: Case) -> str:
    return reverse("discussion:post", args=[case.pk])


def new(body: str) -> dict[str, str]:
    return {"form": "comment", "comment-body": body}


def reply(to: Comment, body: str) -> dict[str, str]:
    return {"form": f"reply-{to.pk}", f"reply-{to.pk}-body": body, f"reply-{to.pk}-parent": str(to.pk)}


def views_of(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="cases.case", target_id=str(case.pk)))


# Reading ------------------------------------------------------------------------------------------


def test_the_tab_shows_threads_oldest_first_with_replies_under_them_and_records_the_view(
    team: Client, case: Case, leader: User, counselor: User
) -> None:
    first = do_post_comment(actor=leader, case=case, body="First thread")
    do_post_comment(actor=leader, case=case, body="Second thread")
    do_post_comment(actor=counselor, case=case, body="A reply to the first", parent=first)
    response = team.get(tab(case))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("First thread") < body.index("A reply to the first") < body.index("Second thread")
    assert "3 comments." in body and f'id="comment-{first.pk}"' in body
    assert "Marcus Oyelaran" in body and 'aria-current="page"' in body
    assert "no-store" in response["Cache-Control"]
    (event,) = views_of(case)
    assert event.detail["tab"] == "discussion" and event.actor == leader


def test_the_tab_is_listed_among_the_case_tabs(team: Client, case: Case) -> None:
    overview = team.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'href="{tab(case)}"' in overview


def test_comment_text_is_escaped_and_mentions_are_bold(team: Client, case: Case, leader: User, counselor: User) -> None:
    do_post_comment(actor=leader, case=case, body='<script>alert("x")</script> @marcus.oyelaran see this')
    body = team.get(tab(case)).content.decode()
    assert '<script>alert("x")' not in body and "&lt;script&gt;" in body
    assert '<strong class="btam-mention">@marcus.oyelaran</strong>' in body


def test_the_form_lists_the_people_who_can_be_mentioned_with_their_handles(
    team: Client, case: Case, counselor: User, south_member: User
) -> None:
    body = team.get(tab(case)).content.decode()
    assert "<code>@marcus.oyelaran</code> — Marcus Oyelaran" in body
    assert "@sam.south" not in body


def test_opening_the_tab_marks_the_readers_discussion_notifications_read(
    client: Client, case: Case, leader: User, counselor: User
) -> None:
    do_post_comment(actor=leader, case=case, body="@marcus.oyelaran can you call?")
    client.force_login(counselor)
    assert Notification.objects.filter(recipient=counselor, read_at__isnull=True).count() == 1
    assert client.get(tab(case)).status_code == 200
    assert Notification.objects.filter(recipient=counselor, read_at__isnull=True).count() == 0


# Posting ------------------------------------------------------------------------------------------


def test_a_plain_post_adds_the_comment_and_goes_to_it(team: Client, case: Case, counselor: User) -> None:
    response = team.post(post_url(case), new("Spoke to the teacher. @marcus.oyelaran please follow up."))
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{tab(case)}#comment-{comment.pk}"
    assert list(comment.mentioned.all()) == [counselor]
    assert "Comment posted." in team.get(response["Location"]).content.decode()


def test_an_htmx_post_returns_the_panel_with_the_comment_and_an_empty_form(team: Client, case: Case) -> None:
    response = team.post(post_url(case), new("Posted with htmx."), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="discussion-panel"' in body and "<html" not in body
    assert "Posted with htmx." in body and "Comment posted." in body
    assert body.count("Posted with htmx.") == 1  # not left in the form


def test_a_reply_is_posted_in_place_with_htmx(team: Client, case: Case, counselor: User) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    response = team.post(post_url(case), reply(first, "I will, today."), headers=HTMX)
    assert response.status_code == 200
    the_reply = Comment.objects.get(parent=first)
    assert the_reply.body == "I will, today." and f'id="comment-{the_reply.pk}"' in response.content.decode()
    assert Notification.objects.get(recipient=counselor).kind == Notification.Kind.DISCUSSION_REPLY


def test_a_plain_reply_goes_to_the_reply(team: Client, case: Case, counselor: User) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    response = team.post(post_url(case), reply(first, "Me."))
    the_reply = Comment.objects.get(parent=first)
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{the_reply.pk}")


def test_a_reply_forms_thread_wins_over_a_tampered_hidden_field(
    world: Any, team: Client, case: Case, leader: User
) -> None:
    first = do_post_comment(actor=leader, case=case, body="Thread one")
    other_case_comment = do_post_comment(actor=leader, case=open_case(world, actor=leader), body="Elsewhere")
    data = reply(first, "Answer")
    data[f"reply-{first.pk}-parent"] = str(other_case_comment.pk)
    team.post(post_url(case), data)
    assert Comment.objects.get(parent=first).case == case


# Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Write the comment before posting it."),
        ("x" * (MAX_COMMENT_CHARS + 1), f"Ensure this value has at most {MAX_COMMENT_CHARS} characters"),
        (
            "@sam.south please look",
            "@sam.south cannot see this case; they were not mentioned. Remove the mention or give them access first.",
        ),
        ("@no.such.person please look", "Nobody who can be mentioned has the handle @no.such.person."),
    ],
)
def test_a_refused_comment_keeps_the_text_and_says_why(
    team: Client, case: Case, south_member: User, typed: str, message: str
) -> None:
    plain = team.post(post_url(case), new(typed))
    assert plain.status_code == 400
    body = plain.content.decode()
    assert message in body
    if typed.strip():
        assert typed in body  # in the form again
    with_htmx = team.post(post_url(case), new(typed), headers=HTMX)
    assert with_htmx.status_code == 200 and message in with_htmx.content.decode()
    assert Comment.objects.count() == 0 and Notification.objects.count() == 0


def test_a_refused_reply_stays_open_in_its_thread_with_its_text(team: Client, case: Case, leader: User) -> None:
    first = do_post_comment(actor=leader, case=case, body="Thread one")
    response = team.post(post_url(case), reply(first, "@sam.nobody thoughts?"), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    thread = body[body.index(f'id="comment-{first.pk}"') :]
    assert "<details" in thread and " open>" in thread
    assert "@sam.nobody thoughts?</textarea>" in thread
    assert "Nobody who can be mentioned has the handle @sam.nobody." in thread
    assert Comment.objects.count() == 1


def test_a_reply_to_a_comment_of_another_case_is_refused_and_the_text_kept(
    world: Any, team: Client, case: Case, leader: User
) -> None:
    elsewhere = do_post_comment(actor=leader, case=open_case(world, actor=leader), body="Elsewhere")
    response = team.post(post_url(case), reply(elsewhere, "My careful answer"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "The comment you are replying to is not in this case&#x27;s discussion." in body
    assert "My careful answer</textarea>" in body
    assert Comment.objects.filter(case=case).count() == 0


def test_a_reply_to_a_missing_comment_is_refused_and_the_text_kept(team: Client, case: Case) -> None:
    response = team.post(post_url(case), {"form": "reply-987654", "reply-987654-body": "Kept text"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "not in this case&#x27;s discussion" in body and "Kept text</textarea>" in body
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("form", ["reply-abc", "reply-", "nonsense", ""])
def test_a_form_name_that_is_not_a_reply_form_is_the_new_comment_form(team: Client, case: Case, form: str) -> None:
    response = team.post(post_url(case), {"form": form, "comment-body": "A new thread"})
    assert response.status_code == 302
    assert Comment.objects.get().parent is None


def test_a_closed_case_shows_no_form_and_refuses_a_post(world: Any, team: Client, case: Case, leader: User) -> None:
    do_post_comment(actor=leader, case=case, body="Before closing")
    close(case, world)
    page = team.get(tab(case)).content.decode()
    assert "Before closing" in page and post_url(case) not in page
    response = team.post(post_url(case), new("After closing"))
    assert response.status_code == 400
    assert "This case is closed. Reopen it to change it." in response.content.decode()
    assert Comment.objects.count() == 1


# Access -------------------------------------------------------------------------------------------


def test_a_read_only_school_reads_without_a_form_and_gets_403_on_a_post(
    world: Any, client: Client, case: Case, leader: User, south_member: User
) -> None:
    do_post_comment(actor=leader, case=case, body="Visible to readers")
    give_read_access(case, world.other_school, leader)
    client.force_login(south_member)
    page = client.get(tab(case))
    body = page.content.decode()
    assert page.status_code == 200 and "Visible to readers" in body
    assert post_url(case) not in body and "You can read this discussion." in body
    assert client.post(post_url(case), new("May I?")).status_code == 403
    assert Comment.objects.count() == 1


def test_a_case_not_visible_is_404_whatever_the_method(
    world: Any, client: Client, case: Case, leader: User, south_member: User
) -> None:
    do_post_comment(actor=leader, case=case, body="Secret thread")
    for user in (south_member, world.outsider):
        client.force_login(user)
        assert client.get(tab(case)).status_code == 404
        assert client.post(tab(case)).status_code == 404
        assert client.post(post_url(case), new("Hi")).status_code == 404
        assert client.get(post_url(case)).status_code == 404
    assert Comment.objects.count() == 1 and not views_of(case)


def test_roles_without_case_work_are_refused(world: Any, client: Client, case: Case) -> None:
    for role in (Role.AUDITOR, Role.DISTRICT_VIEWER, Role.REFERRING_STAFF, Role.SYSTEM_ADMIN):
        client.force_login(world.users[role])
        assert client.get(tab(case)).status_code == 403
        assert client.post(post_url(case), new("Hi")).status_code == 403
    assert Comment.objects.count() == 0


def test_wrong_methods_are_405(team: Client, case: Case) -> None:
    assert team.post(tab(case)).status_code == 405
    assert team.get(post_url(case)).status_code == 405


# Suggestions while typing -------------------------------------------------------------------------


def suggest(client: Client, case: Case, text: str, form: str = "comment") -> Any:
    return client.post(
        reverse("discussion:suggest", args=[case.pk]), {"form": form, f"{form}-body": text}, headers=HTMX
    )


def test_typing_an_at_lists_the_people_who_can_be_mentioned_by_handle_or_name(
    team: Client, case: Case, counselor: User, south_member: User
) -> None:
    by_handle = suggest(team, case, "Can you call, @mar").content.decode()
    assert "<code>@marcus.oyelaran</code>" in by_handle and "dana.whitfield" not in by_handle
    by_name = suggest(team, case, "Thanks\n@oye").content.decode()
    assert "<code>@marcus.oyelaran</code>" in by_name
    assert "sam.south" not in suggest(team, case, "@sa").content.decode()  # cannot see the case
    first = do_post_comment(actor=counselor, case=case, body="Thread")
    assert "@marcus.oyelaran" in suggest(team, case, "@m", form=f"reply-{first.pk}").content.decode()


def test_no_suggestion_without_an_at_being_typed(team: Client, case: Case, counselor: User) -> None:
    assert suggest(team, case, "Plain text").content.decode().strip() == ""
    assert suggest(team, case, "mail me at x@mar").content.decode().strip() == ""  # an address, not a mention
    assert suggest(team, case, "@marcus.oyelaran done").content.decode().strip() == ""  # finished
    nobody = suggest(team, case, "@zzz").content.decode()
    assert "Nobody who can be mentioned here" in nobody


def test_suggestions_follow_the_case_access(
    world: Any, client: Client, case: Case, leader: User, south_member: User
) -> None:
    give_read_access(case, world.other_school, leader)
    client.force_login(south_member)
    assert suggest(client, case, "@m").status_code == 403  # a reader posts nothing
    client.force_login(world.outsider)
    assert suggest(client, case, "@m").status_code == 404
    assert client.get(reverse("discussion:suggest", args=[case.pk])).status_code == 404


def test_the_comment_field_asks_for_suggestions_by_post(team: Client, case: Case) -> None:
    body = team.get(tab(case)).content.decode()
    assert f'hx-post="{reverse("discussion:suggest", args=[case.pk])}"' in body
    assert 'id="comment-suggestions"' in body
    assert team.get(reverse("discussion:suggest", args=[case.pk])).status_code == 405
