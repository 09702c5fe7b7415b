"""Review findings on access: a case's restriction and a school's removed access also cover the
reports on the case where the intake pages show them, and the timeline names no related case the
reader may not see."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from btam.accounts.models import Role
from btam.cases import access_actions, link_actions
from btam.cases.models import Case
from btam.cases.tests.people_links_helpers import client_for, open_case, report, school_member
from btam.intake.models import Report


def _restricted_case_with_report(world: Any) -> tuple[Case, Report]:
    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), restricted=True, actor=leader)
    return case, rep


def test_a_restricted_cases_report_is_hidden_from_the_schools_team_in_intake(world: Any) -> None:
    case, rep = _restricted_case_with_report(world)
    member = school_member(world, world.school)
    team = client_for(member)
    assert team.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert team.get(reverse("intake:report", args=[rep.pk])).status_code == 404
    attachment_url = reverse("intake:post_message", args=[rep.pk])
    assert team.post(attachment_url, {"message-body": "Hello"}).status_code == 404
    assert rep.reference not in team.get(reverse("intake:queue"), {"status": "all"}).content.decode()
    assert not Report.objects.visible_to(member).filter(pk=rep.pk).exists()


def test_a_named_member_still_reads_the_report_of_a_restricted_case(world: Any) -> None:
    case, rep = _restricted_case_with_report(world)
    member = school_member(world, world.school)
    access_actions.do_add_member(actor=world.users[Role.TEAM_LEADER], case=case, user=member)
    assert client_for(member).get(reverse("intake:report", args=[rep.pk])).status_code == 200


def test_a_report_not_on_a_case_stays_with_the_schools_team(world: Any) -> None:
    rep = report(world)
    member = school_member(world, world.school)
    assert client_for(member).get(reverse("intake:report", args=[rep.pk])).status_code == 200


def test_a_school_whose_access_was_removed_no_longer_reads_the_cases_report(world: Any) -> None:
    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), actor=leader)
    access_actions.do_transfer_case(
        actor=leader, case=case, to_school=world.other_school, keep_read_access=False, reason="The student moved."
    )
    old_team = client_for(school_member(world, world.school))
    assert old_team.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert old_team.get(reverse("intake:report", args=[rep.pk])).status_code == 404


def test_the_old_school_keeping_read_access_still_reads_the_cases_report(world: Any) -> None:
    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), actor=leader)
    access_actions.do_transfer_case(actor=leader, case=case, to_school=world.other_school, reason="The student moved.")
    old_team = client_for(school_member(world, world.school))
    assert old_team.get(reverse("intake:report", args=[rep.pk])).status_code == 200


def test_triage_still_locks_a_report_on_a_case_it_may_see(world: Any) -> None:
    """Triage locks rows of the scoped queryset FOR UPDATE: the case scope is subqueries, not an
    outer join PostgreSQL would refuse to lock."""
    from btam.intake.actions import do_post_team_message

    case, rep = _restricted_case_with_report(world)
    leader = world.users[Role.TEAM_LEADER]
    message = do_post_team_message(actor=leader, report=rep, body="Thank you, we are looking into it.")
    assert message.report_id == rep.pk
    assert Report.objects.visible_to(leader).filter(pk=rep.pk).exists()


def test_the_timeline_does_not_name_a_related_case_the_reader_cannot_see(world: Any) -> None:
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, actor=leader)
    hidden = open_case(world, actor=leader, restricted=True, title="Staff matter")
    link_actions.do_link_cases(actor=leader, case=case, other=hidden)
    member = school_member(world, world.school)
    page = client_for(member).get(reverse("cases:timeline", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert hidden.number not in body
    assert reverse("cases:detail", args=[hidden.pk]) not in body
    # The leader, a named member of both, still sees the link.
    assert hidden.number in client_for(leader).get(reverse("cases:timeline", args=[case.pk])).content.decode()


def test_a_school_with_read_access_cannot_write_to_the_reporter_from_the_report_page(world: Any) -> None:
    """Who writes in the thread of a report on a case is decided by the case (its working team),
    on the report's page as on the case's Reporter tab."""
    from btam.intake.models import ReporterMessage

    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), actor=leader)
    access_actions.do_transfer_case(actor=leader, case=case, to_school=world.other_school, reason="The student moved.")
    old_team = client_for(school_member(world, world.school))
    assert old_team.get(reverse("cases:detail", args=[case.pk])).status_code == 200  # read access kept

    response = old_team.post(reverse("intake:post_message", args=[rep.pk]), {"message-body": "Which bus was it?"})

    assert response.status_code == 400
    assert not ReporterMessage.objects.filter(report=rep, direction=ReporterMessage.Direction.FROM_TEAM).exists()


def test_nobody_writes_to_the_reporter_of_a_closed_cases_report_from_the_report_page(world: Any) -> None:
    from btam.cases.tests.people_links_helpers import close
    from btam.intake.models import ReporterMessage

    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    case = open_case(world, reports=(rep,), actor=leader)
    close(case, world)

    response = client_for(leader).post(reverse("intake:post_message", args=[rep.pk]), {"message-body": "Hello?"})

    assert response.status_code == 400
    assert not ReporterMessage.objects.filter(report=rep, direction=ReporterMessage.Direction.FROM_TEAM).exists()


def test_the_team_working_the_case_still_writes_from_the_report_page(world: Any) -> None:
    from btam.intake.models import ReporterMessage

    rep = report(world)
    leader = world.users[Role.TEAM_LEADER]
    open_case(world, reports=(rep,), actor=leader)
    response = client_for(leader).post(reverse("intake:post_message", args=[rep.pk]), {"message-body": "Which bus?"})
    assert response.status_code == 302
    assert ReporterMessage.objects.filter(report=rep, direction=ReporterMessage.Direction.FROM_TEAM).exists()
