"""Review findings on the reporter thread: a reporter's reply to a report on a case is told to the
team working the case (after a transfer, the new school's; on a restricted case, its named
members), with a link to the case's Reporter tab."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from btam.accounts.models import Role
from btam.cases import access_actions
from btam.cases.tests.people_links_helpers import open_case, report, school_member
from btam.intake.actions import do_post_reporter_message
from btam.notifications.models import Notification
from btam.notifications.tests.helpers import drain


def _told(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(kind=Notification.Kind.REPORTER_MESSAGE, recipient=user))


def test_a_reply_on_a_transferred_case_reaches_the_new_schools_team_not_the_removed_one(world: Any) -> None:
    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), actor=leader)
    access_actions.do_transfer_case(
        actor=leader, case=case, to_school=world.other_school, keep_read_access=False, reason="The student moved."
    )
    new_team, old_team = school_member(world, world.other_school), school_member(world, world.school)
    drain()

    do_post_reporter_message(report=rep, body="Synthetic reply: he said it again today.")
    drain()

    told = _told(new_team)
    assert len(told) == 1
    assert told[0].link == reverse("cases:reporter", args=[case.pk]) + f"#report-{rep.pk}"
    assert _told(old_team) == []


def test_a_reply_on_a_restricted_case_reaches_its_named_members_only(world: Any) -> None:
    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    open_case(world, reports=(rep,), actor=leader, restricted=True)
    outside = school_member(world, world.school)
    drain()

    do_post_reporter_message(report=rep, body="Synthetic reply.")
    drain()

    assert len(_told(leader)) == 1
    assert _told(outside) == []


def test_a_reply_on_a_report_without_a_case_still_reaches_the_schools_team(world: Any) -> None:
    rep = report(world)
    team = school_member(world, world.school)
    drain()
    do_post_reporter_message(report=rep, body="Synthetic reply.")
    drain()
    told = _told(team)
    assert len(told) == 1
    assert told[0].link == reverse("intake:report", args=[rep.pk])
