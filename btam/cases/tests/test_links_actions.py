"""Related cases (link, unlink, find by number) and splitting a report off into a new case."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import link_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseLink, CaseMember, CaseParticipant, CaseReport, Status, StatusChange
from btam.cases.tests.people_links_helpers import SECRET_NAME, close, open_case, report, school_member
from btam.intake.models import Report, TriageDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


# Finding a case by number ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "2026", "abc", "2026-", "'; DROP TABLE cases_case; --", "<b>1</b>"])
def test_a_malformed_number_asks_for_the_format(world: Any, member: Any, text: str) -> None:
    with pytest.raises(CaseError, match="like 2026-0042"):
        link_actions.find_case_by_number(member, district_id=world.district.pk, number=text)


def test_a_number_is_found_with_or_without_the_leading_zeros(world: Any, member: Any, case: Case) -> None:
    short = f"{case.year}-{case.seq}"
    assert link_actions.find_case_by_number(member, district_id=world.district.pk, number=case.number) == case
    assert link_actions.find_case_by_number(member, district_id=world.district.pk, number=f"  {short} ") == case


def test_a_missing_and_an_invisible_case_get_the_same_message(world: Any, member: Any) -> None:
    south_case = open_case(world, actor=member, school=world.other_school)
    north_member = school_member(world, world.school)
    with pytest.raises(CaseError) as invisible:
        link_actions.find_case_by_number(north_member, district_id=world.district.pk, number=south_case.number)
    missing = f"{south_case.year}-9999"
    with pytest.raises(CaseError) as absent:
        link_actions.find_case_by_number(north_member, district_id=world.district.pk, number=missing)
    assert str(invisible.value).replace(south_case.number, "N") == str(absent.value).replace(missing, "N")


# Related cases ---------------------------------------------------------------------------------------


def test_two_cases_are_related_once_audited_on_both(member: Any, world: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=other, other=case, note=f"Same bus, {SECRET_NAME}")
    assert (link.from_case_id, link.to_case_id) == (case.pk, other.pk)  # lower id first
    events = AuditEvent.objects.filter(target_type="cases.caselink", verb=Verb.CREATED)
    assert {e.detail["case"] for e in events} == {case.pk, other.pk}
    assert SECRET_NAME not in repr(list(AuditEvent.objects.values()))
    with pytest.raises(CaseError, match="already related"):
        link_actions.do_link_cases(actor=member, case=case, other=other)


def test_a_case_cannot_be_related_to_itself(member: Any, case: Case) -> None:
    with pytest.raises(CaseError, match="itself"):
        link_actions.do_link_cases(actor=member, case=case, other=case)


def test_relating_a_case_the_actor_cannot_see_is_refused(world: Any, member: Any, case: Case) -> None:
    south_case = open_case(world, actor=member, school=world.other_school)
    north_member = school_member(world, world.school)
    with pytest.raises(CaseError, match="no case"):
        link_actions.do_link_cases(actor=north_member, case=case, other=south_case)
    assert not CaseLink.objects.exists()


def test_relating_a_case_of_another_district_is_refused(world: Any, case: Case, member: Any) -> None:
    from btam.orgs.models import School

    elsewhere = open_case(world, actor=world.outsider, school=School.objects.get(district=world.other_district))
    with pytest.raises(CaseError):
        link_actions.do_link_cases(actor=member, case=case, other=elsewhere)
    assert not CaseLink.objects.exists()


def test_a_closed_case_may_be_the_other_end_but_not_the_one_changed(world: Any, member: Any, case: Case) -> None:
    old = open_case(world, actor=member)
    close(old, world)
    link_actions.do_link_cases(actor=member, case=case, other=old)
    with pytest.raises(CaseError, match="closed"):
        link_actions.do_link_cases(actor=member, case=old, other=open_case(world, actor=member))


def test_unlinking_removes_the_relation_from_either_side(world: Any, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=case, other=other)
    link_actions.do_unlink_cases(actor=member, case=other, link=link)
    assert not CaseLink.objects.exists()
    assert AuditEvent.objects.filter(verb=Verb.DELETED, detail__link=link.pk).count() == 2
    with pytest.raises(CaseError, match="no longer related"):
        link_actions.do_unlink_cases(actor=member, case=case, link=link)


def test_a_link_of_other_cases_cannot_be_removed_through_this_one(world: Any, member: Any, case: Case) -> None:
    a, b = open_case(world, actor=member), open_case(world, actor=member)
    link = link_actions.do_link_cases(actor=member, case=a, other=b)
    with pytest.raises(CaseError):
        link_actions.do_unlink_cases(actor=member, case=case, link=link)
    assert CaseLink.objects.filter(pk=link.pk).exists()


# Splitting -----------------------------------------------------------------------------------------


@pytest.fixture
def two_reports(world: Any, member: Any) -> tuple[Case, Report, Report]:
    first = report(world, names=("Alex Example",))
    second = report(world, names=(SECRET_NAME,), reporter_name="Robin Reporter")
    case = open_case(world, actor=member, reports=(first, second))
    return case, first, second


def test_a_report_is_split_off_into_a_new_related_case(member: Any, two_reports: tuple[Case, Report, Report]) -> None:
    case, first, second = two_reports
    decisions_before = TriageDecision.objects.filter(report=second).count()
    new = link_actions.do_split_report(actor=member, case=case, report=second, title="The second concern")
    assert new.pk != case.pk and new.school_id == case.school_id and new.title == "The second concern"
    assert new.status == Status.SCREENING
    assert CaseReport.objects.get(report=second).case_id == new.pk
    assert CaseReport.objects.get(report=first).case_id == case.pk
    # The report's triage decision is not made again.
    assert TriageDecision.objects.filter(report=second).count() == decisions_before
    names = {p.name for p in CaseParticipant.objects.filter(case=new)}
    assert names == {SECRET_NAME, "Robin Reporter"}
    assert CaseLink.objects.filter(from_case=case, to_case=new).exists()
    assert AuditEvent.objects.filter(target_id=str(case.pk), detail__split_to=new.pk).exists()
    assert AuditEvent.objects.filter(target_id=str(new.pk), detail__split_from=case.pk).exists()
    assert StatusChange.objects.filter(case=new).count() == 1


def test_the_only_report_of_a_case_cannot_be_split_off(world: Any, member: Any) -> None:
    only = report(world)
    case = open_case(world, actor=member, reports=(only,))
    with pytest.raises(CaseError, match="at least two reports"):
        link_actions.do_split_report(actor=member, case=case, report=only)
    assert Case.objects.count() == 1


def test_a_report_of_another_case_cannot_be_split_off_this_one(
    world: Any, member: Any, two_reports: tuple[Case, Report, Report]
) -> None:
    case, _first, _second = two_reports
    elsewhere = report(world)
    open_case(world, actor=member, reports=(elsewhere,))
    with pytest.raises(CaseError, match="not on this case"):
        link_actions.do_split_report(actor=member, case=case, report=elsewhere)


def test_a_closed_case_cannot_be_split(world: Any, member: Any, two_reports: tuple[Case, Report, Report]) -> None:
    case, _first, second = two_reports
    close(case, world)
    with pytest.raises(CaseError, match="closed"):
        link_actions.do_split_report(actor=member, case=case, report=second)
    assert CaseReport.objects.get(report=second).case_id == case.pk


def test_splitting_a_restricted_case_gives_a_restricted_case_with_the_same_members(world: Any, member: Any) -> None:
    first, second = report(world), report(world)
    case = open_case(world, actor=member, reports=(first, second), restricted=True)
    named = world.users[Role.TEAM_LEADER]
    from btam.lib import clock

    CaseMember.objects.create(case=case, user=named, added_at=clock.now(), added_by=member)
    new = link_actions.do_split_report(actor=member, case=case, report=second)
    assert new.restricted
    assert set(CaseMember.objects.filter(case=new).values_list("user_id", flat=True)) >= {member.pk, named.pk}


def test_an_oversize_title_is_refused_and_nothing_is_split(
    member: Any, two_reports: tuple[Case, Report, Report]
) -> None:
    case, _first, second = two_reports
    with pytest.raises(CaseError, match="too long"):
        link_actions.do_split_report(actor=member, case=case, report=second, title="x" * 201)
    assert Case.objects.count() == 1
