"""Posting to a case's discussion: threads, mentions and their notifications, the refusals, and
reading one's discussion notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.tests.notes_tasks_helpers import SECRET, close, give_read_access, open_case, raw_rows
from btam.discussion.actions import MAX_COMMENT_CHARS, CommentError, do_mark_discussion_read, do_post_comment
from btam.discussion.models import Comment
from btam.lib import clock as clock_module
from btam.notifications.models import Notification
from btam.testing import make_member
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def items(user: User, kind: str | None = None) -> list[Notification]:
    mine = Notification.objects.filter(recipient=user)
    return list(mine.filter(kind=kind) if kind else mine)


# Posting ------------------------------------------------------------------------------------------


def test_a_comment_is_stored_encrypted_and_audited_without_its_text(case: Case, leader: User) -> None:
    comment = do_post_comment(actor=leader, case=case, body=f"  {SECRET}  ")
    comment.refresh_from_db()
    assert comment.body == SECRET and comment.author == leader and comment.parent is None
    assert comment.district_id == case.district_id
    assert SECRET not in raw_rows("discussion_comment")
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="discussion.comment", target_id=str(comment.pk))
    assert event.detail["case"] == case.pk and event.detail["comment"] == comment.pk
    assert SECRET not in repr(event.detail) + repr(event.after) + repr(event.before)


def test_a_comment_records_activity_on_the_case(case: Case, leader: User, clock: Any) -> None:
    later = clock.now() + dt.timedelta(hours=2)
    clock.freeze(later)
    do_post_comment(actor=leader, case=case, body="Checked in with the family.")
    case.refresh_from_db()
    assert case.updated_at == later


def test_a_mention_puts_a_generic_item_in_the_inbox_and_queues_an_email_without_content(
    case: Case, leader: User, counselor: User
) -> None:
    comment = do_post_comment(actor=leader, case=case, body=f"@marcus.oyelaran {SECRET}")
    assert list(comment.mentioned.all()) == [counselor]
    (item,) = items(counselor)
    assert item.kind == Kind.MENTIONED and not item.urgent and item.read_at is None
    assert item.title == f"You were mentioned in the discussion of case {case.number}"
    assert item.link == f"/cases/{case.pk}/discussion/#comment-{comment.pk}"
    assert item.email_outbox is not None
    payload = repr(item.email_outbox.payload)
    assert counselor.email in payload and case.number in payload
    assert SECRET not in payload and case.title not in payload and "Quinby" not in payload


def test_the_author_mentioning_themselves_is_not_notified(case: Case, leader: User) -> None:
    comment = do_post_comment(actor=leader, case=case, body="Note to self, @dana.whitfield: call back.")
    assert list(comment.mentioned.all()) == [leader]
    assert items(leader) == []


def test_a_reply_notifies_the_author_of_the_comment_replied_to(case: Case, leader: User, counselor: User) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    reply = do_post_comment(actor=leader, case=case, body="I will.", parent=first)
    assert reply.parent == first
    (item,) = items(counselor)
    assert item.kind == Kind.DISCUSSION_REPLY
    assert item.title == f"New reply to your comment in the discussion of case {case.number}"
    assert item.link.endswith(f"#comment-{reply.pk}")


def test_a_reply_does_not_notify_an_author_who_lost_access_to_the_case(
    case: Case, leader: User, counselor: User
) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    counselor.memberships.update(is_active=False)  # left the north school's team

    reply = do_post_comment(actor=leader, case=case, body="I will.", parent=first)

    assert reply.parent == first  # the reply is posted all the same
    assert items(counselor) == []
    assert not OutboxMessage.objects.exists()


def test_a_reply_does_not_notify_an_author_whose_account_was_switched_off(
    case: Case, leader: User, counselor: User
) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    User.objects.filter(pk=counselor.pk).update(is_active=False)

    do_post_comment(actor=leader, case=case, body="I will.", parent=first)

    assert items(counselor) == []


def test_a_reply_on_a_case_restricted_since_does_not_notify_an_author_not_named_on_it(
    world: Any, case: Case, leader: User, counselor: User
) -> None:
    from btam.cases.access_actions import do_set_restricted

    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    do_set_restricted(actor=leader, case=case, restricted=True, reason="Staff involved")

    do_post_comment(actor=leader, case=case, body="I will.", parent=first)

    assert items(counselor) == []


def test_an_author_mentioned_in_the_reply_gets_one_item_not_two(case: Case, leader: User, counselor: User) -> None:
    first = do_post_comment(actor=counselor, case=case, body="Who calls the parents?")
    do_post_comment(actor=leader, case=case, body="@marcus.oyelaran I will.", parent=first)
    assert [i.kind for i in items(counselor)] == [Kind.MENTIONED]


def test_replying_to_ones_own_comment_notifies_nobody(case: Case, leader: User) -> None:
    first = do_post_comment(actor=leader, case=case, body="Waiting for the records.")
    do_post_comment(actor=leader, case=case, body="Records came in.", parent=first.pk)
    assert Notification.objects.count() == 0


def test_a_reply_to_a_reply_joins_the_same_thread_and_tells_who_was_answered(
    world: Any, case: Case, leader: User, counselor: User
) -> None:
    member = world.users[Role.TEAM_MEMBER]
    first = do_post_comment(actor=leader, case=case, body="Plan for Monday?")
    second = do_post_comment(actor=counselor, case=case, body="I meet the student at 9.", parent=first)
    third = do_post_comment(actor=member, case=case, body="I can join at 9.", parent=second)
    assert third.parent == first
    assert [i.kind for i in items(counselor)] == [Kind.DISCUSSION_REPLY]
    assert AuditEvent.objects.get(target_id=str(third.pk), target_type="discussion.comment").detail["replied_to"] == (
        second.pk
    )


def test_a_read_only_school_member_can_be_mentioned(world: Any, case: Case, leader: User, south_member: User) -> None:
    give_read_access(case, world.other_school, leader)
    comment = do_post_comment(actor=leader, case=case, body="@sam.south, your records please.")
    assert list(comment.mentioned.all()) == [south_member]
    assert [i.kind for i in items(south_member)] == [Kind.MENTIONED]


# Refusals -----------------------------------------------------------------------------------------


def refused(**kwargs: Any) -> CommentError:
    before = (Comment.objects.count(), Notification.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(CommentError) as caught:
        do_post_comment(**kwargs)
    assert (Comment.objects.count(), Notification.objects.count(), OutboxMessage.objects.count()) == before
    return caught.value


@pytest.mark.parametrize("body", ["", "   \n\t  "])
def test_an_empty_comment_is_refused(case: Case, leader: User, body: str) -> None:
    assert str(refused(actor=leader, case=case, body=body)) == "The comment is required."


def test_a_comment_over_the_limit_is_refused_with_its_length(case: Case, leader: User) -> None:
    error = refused(actor=leader, case=case, body="x" * (MAX_COMMENT_CHARS + 1))
    assert (
        str(error)
        == f"The comment is too long: at most {MAX_COMMENT_CHARS} characters (it has {MAX_COMMENT_CHARS + 1})."
    )
    do_post_comment(actor=leader, case=case, body="x" * MAX_COMMENT_CHARS)  # the limit itself is fine


def test_a_mention_of_someone_who_cannot_see_the_case_is_refused(
    case: Case, leader: User, counselor: User, south_member: User
) -> None:
    error = refused(actor=leader, case=case, body="@marcus.oyelaran and @sam.south: please look.")
    assert error.problems == [
        "@sam.south cannot see this case; they were not mentioned. Remove the mention or give them access first."
    ]


def test_a_mention_of_an_auditor_is_refused_as_outside_the_case(world: Any, case: Case, leader: User) -> None:
    handle = world.users[Role.AUDITOR].email.split("@")[0]
    assert "cannot see this case" in str(refused(actor=leader, case=case, body=f"@{handle} look"))


def test_an_unknown_handle_is_refused(case: Case, leader: User) -> None:
    error = refused(actor=leader, case=case, body="@nobody.here please look")
    assert error.problems == [
        "Nobody who can be mentioned has the handle @nobody.here. Check the list of people you can mention."
    ]


def test_a_person_of_another_district_is_an_unknown_handle_there(world: Any, case: Case, leader: User) -> None:
    handle = world.outsider.email.split("@")[0]
    assert "Nobody who can be mentioned has the handle" in str(refused(actor=leader, case=case, body=f"@{handle}"))


def test_a_restricted_case_refuses_a_mention_of_a_team_member_who_is_not_named(
    world: Any, leader: User, counselor: User
) -> None:
    case = open_case(world, actor=leader, restricted=True)
    assert "@marcus.oyelaran cannot see this case" in str(refused(actor=leader, case=case, body="@marcus.oyelaran"))


def test_a_reply_to_a_comment_of_another_case_is_refused(world: Any, case: Case, leader: User) -> None:
    other = open_case(world, actor=leader)
    elsewhere = do_post_comment(actor=leader, case=other, body="On the other case.")
    error = refused(actor=leader, case=case, body="A reply.", parent=elsewhere)
    assert str(error) == "The comment you are replying to is not in this case's discussion. Nothing was posted."


def test_a_reply_to_a_missing_comment_is_refused(case: Case, leader: User) -> None:
    error = refused(actor=leader, case=case, body="A reply.", parent=987654)
    assert "not in this case's discussion" in str(error)


def test_a_closed_case_takes_no_comment(world: Any, case: Case, leader: User) -> None:
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed. Reopen it to change it."):
        do_post_comment(actor=leader, case=case, body="One more thing.")
    assert Comment.objects.count() == 0


def test_a_reader_of_the_case_cannot_post(world: Any, case: Case, leader: User, south_member: User) -> None:
    give_read_access(case, world.other_school, leader)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        do_post_comment(actor=south_member, case=case, body="Can I add something?")
    assert Comment.objects.count() == 0


def test_someone_who_cannot_see_the_case_cannot_post(case: Case, south_member: User) -> None:
    with pytest.raises(CaseError):
        do_post_comment(actor=south_member, case=case, body="Hello?")
    assert Comment.objects.count() == 0


def test_too_many_mentions_are_refused(world: Any, case: Case, leader: User) -> None:
    body = " ".join(f"@person{i}" for i in range(21))
    assert "Mention at most 20 people" in str(refused(actor=leader, case=case, body=body))


# Reading ------------------------------------------------------------------------------------------


def test_opening_the_discussion_reads_only_that_cases_discussion_items(
    world: Any, case: Case, leader: User, counselor: User
) -> None:
    other = open_case(world, actor=leader, school=world.school)
    do_post_comment(actor=leader, case=case, body="@marcus.oyelaran here")
    do_post_comment(actor=leader, case=other, body="@marcus.oyelaran there")
    assigned = Notification.objects.create(
        recipient=counselor,
        district=world.district,
        kind=Kind.TASK_ASSIGNED,
        title="Task",
        target_type="cases.case",
        target_id=str(case.pk),
        dedupe_key="test-task",
        created_at=clock_module.now(),
    )
    assert do_mark_discussion_read(actor=counselor, case=case) == 1
    here, there = sorted(items(counselor, Kind.MENTIONED), key=lambda n: n.created_at and n.pk)
    assert here.read_at is not None and there.read_at is None
    assigned.refresh_from_db()
    assert assigned.read_at is None
    event = AuditEvent.objects.get(target_type="notifications.notification", actor=counselor)
    assert event.detail["count"] == 1 and event.detail["discussion"] is True
    assert do_mark_discussion_read(actor=counselor, case=case) == 0  # nothing more; no event
    assert AuditEvent.objects.filter(target_type="notifications.notification").count() == 1


def test_a_comment_dated_in_the_past_never_moves_the_case_back(case: Case, leader: User, clock: Any) -> None:
    case.refresh_from_db()
    before = case.updated_at
    clock.freeze(before - dt.timedelta(days=3))
    do_post_comment(actor=leader, case=case, body="Written in the past.")
    case.refresh_from_db()
    assert case.updated_at == before


def test_visible_to_follows_the_cases_access(world: Any, case: Case, leader: User, south_member: User) -> None:
    comment = do_post_comment(actor=leader, case=case, body="Only for the north team.")
    assert list(Comment.objects.visible_to(leader)) == [comment]
    assert list(Comment.objects.visible_to(south_member)) == []
    assert list(Comment.objects.visible_to(world.outsider)) == []
    other_leader = make_member(Role.TEAM_LEADER, world.other_district)
    assert list(Comment.objects.visible_to(other_leader)) == []
