"""A case's discussion as a browser sees it: the leader posts a comment mentioning a team member
(with htmx, after suggestions while typing and a refused mention that keeps the text); the member
signs in, sees the unread count, finds the notification in the inbox, follows it to the comment
and replies in place. axe-core checks the discussion tab and the inbox.

No worker runs here: the inbox item is written by the action itself (its email waits in the outbox).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case
from btam.discussion.models import Comment
from btam.notifications.models import Notification
from btam.orgs.models import District
from btam.testing import make_member
from e2e.conftest import AxeCheck, PageMaker
from e2e.helpers import sign_in

COMMENT = "@robin.member could you call the family today and add a note afterwards?"


def post_comment(page: Page, text: str) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Post the comment"))
    form.get_by_label(re.compile(r"^Comment")).fill(text)
    form.get_by_role("button", name="Post the comment").click()


def test_a_mentioned_member_finds_the_comment_through_the_inbox_and_replies(
    new_page: PageMaker, axe_check: AxeCheck, district: District, team_leader: User
) -> None:
    school = district.schools.get(name="North Test High")
    member = make_member(
        Role.TEAM_MEMBER, district, schools=[school], email="robin.member@example.test", full_name="Robin Member"
    )
    make_member(
        Role.TEAM_MEMBER,
        district,
        schools=[district.schools.get(name="South Test Middle")],
        email="sam.south@example.test",
        full_name="Sam South",
    )
    case: Case = actions.do_open_case(actor=team_leader, school=school, title="Concern in the north building (test)")

    # The leader opens the Discussion tab from the case's tabs.
    leader = new_page()
    sign_in(leader, team_leader.email)
    leader.goto(f"/cases/{case.pk}/")
    leader.get_by_role("navigation", name="Case sections").get_by_role("link", name="Discussion").click()
    expect(leader).to_have_url(re.compile(rf"/cases/{case.pk}/discussion/$"))
    expect(leader.get_by_role("heading", level=2, name="Discussion")).to_be_visible()
    expect(leader.get_by_test_id("comment-count")).to_have_text("0 comments.")
    axe_check(leader)

    # Typing "@rob" lists the people it may mean.
    leader.get_by_label(re.compile(r"^Comment")).press_sequentially("Hello @rob")
    expect(leader.get_by_test_id("suggestions")).to_contain_text("@robin.member")
    expect(leader.get_by_test_id("suggestions")).to_contain_text("Robin Member")

    # A mention of someone who cannot see the case is refused; the text stays.
    leader.get_by_text(re.compile(r"people you can mention$")).click()
    expect(leader.get_by_test_id("mentionable")).to_contain_text("@robin.member")
    expect(leader.get_by_test_id("mentionable")).not_to_contain_text("@sam.south")
    post_comment(leader, "@sam.south " + COMMENT)
    expect(leader.get_by_test_id("discussion-error")).to_have_text(
        "@sam.south cannot see this case; they were not mentioned. Remove the mention or give them access first."
    )
    expect(leader.get_by_label(re.compile(r"^Comment"))).to_have_value("@sam.south " + COMMENT)
    assert not Comment.objects.exists()

    # Without the mention of Sam, the comment is posted in place (htmx) and Robin is told.
    post_comment(leader, COMMENT)
    expect(leader.get_by_role("status").filter(has_text="Comment posted.")).to_be_visible()
    comment = Comment.objects.get()
    posted = leader.locator(f"#comment-{comment.pk}")
    expect(posted).to_contain_text(COMMENT)
    expect(posted.locator("strong.btam-mention")).to_have_text("@robin.member")
    expect(leader.get_by_test_id("comment-count")).to_have_text("1 comment.")
    expect(leader.get_by_label(re.compile(r"^Comment"))).to_have_value("")
    assert list(comment.mentioned.all()) == [member]
    axe_check(leader)

    # Robin signs in: one unread item, found in the inbox, leads to the comment.
    robin = new_page()
    sign_in(robin, member.email)
    expect(robin.get_by_test_id("unread-count")).to_have_text(re.compile(r"^\s*1\s+unread\s*$"))
    robin.get_by_role("link", name=re.compile(r"^Inbox")).click()
    expect(robin).to_have_url(re.compile(r"/inbox/$"))
    title = f"You were mentioned in the discussion of case {case.number}"
    item = robin.get_by_test_id("notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(title)
    expect(item).to_have_attribute("data-unread", "true")
    axe_check(robin)
    item.get_by_role("button", name=title).click()
    expect(robin).to_have_url(re.compile(rf"/cases/{case.pk}/discussion/#comment-{comment.pk}$"))
    expect(robin.locator(f"#comment-{comment.pk}")).to_contain_text(COMMENT)
    expect(robin.get_by_test_id("unread-count")).to_have_count(0)
    assert not Notification.objects.for_user(member).unread().exists()

    # Robin replies in place; the leader is told of the reply.
    thread = robin.get_by_test_id("thread")
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label(re.compile(r"^Reply")).fill("Called them at noon; note added.")
    thread.get_by_role("button", name="Post the reply").click()
    expect(robin.get_by_test_id("thread")).to_contain_text("Called them at noon; note added.")
    expect(robin.get_by_test_id("comment-count")).to_have_text("2 comments.")
    reply = Comment.objects.get(parent=comment)
    assert reply.author == member
    told = Notification.objects.for_user(team_leader).get()
    assert told.kind == Notification.Kind.DISCUSSION_REPLY and told.link.endswith(f"#comment-{reply.pk}")
    axe_check(robin)
