"""The "Schools and access" tab: transfer, the schools' access, and the banner when the subject
moved (access_views.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import actions
from btam.cases.access_actions import do_add_member, do_break_glass, do_transfer_case
from btam.cases.models import Case, CaseParticipant, CaseSchool
from btam.cases.tests.access_helpers import client_for, open_case, school_user
from btam.lib import clock
from btam.people.models import Enrollment, Person, SourceStatus
from btam.testing import SchoolFactory, make_member

REASON = "The subject enrolled at the other school this week."
GLASS_REASON = "Police called about an imminent threat at the school."


@pytest.fixture
def north_leader(world: Any) -> Any:
    return school_user(world, Role.TEAM_LEADER, world.school)


@pytest.fixture
def case(world: Any, north_leader: Any) -> Case:
    return open_case(world, actor=north_leader)


def _transfer(client: Any, case: Case, **data: Any) -> Any:
    post = {f"transfer-{k}": v for k, v in data.items()}
    return client.post(reverse("cases:transfer", args=[case.pk]), post)


def test_the_tab_lists_the_schools_and_offers_the_transfer(world: Any, case: Case, north_leader: Any) -> None:
    response = client_for(north_leader).get(reverse("cases:access", args=[case.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.school.name in body and "Leads the case" in body and "Full access" in body
    assert f'action="/cases/{case.pk}/access/transfer/"' in body
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="access").exists()


def test_posting_a_transfer_moves_the_case_and_returns_to_the_tab(world: Any, case: Case, north_leader: Any) -> None:
    response = _transfer(
        client_for(north_leader), case, to_school=world.other_school.pk, keep_read_access="on", reason=REASON
    )
    assert response.status_code == 302 and response["Location"] == reverse("cases:access", args=[case.pk])
    assert Case.objects.get(pk=case.pk).school_id == world.other_school.pk
    assert CaseSchool.objects.get(case=case, school=world.school).access == CaseSchool.Access.READ


def test_the_old_school_reads_the_case_after_a_transfer_but_gets_403_on_a_post(
    world: Any, case: Case, north_leader: Any
) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    client = client_for(school_user(world, Role.TEAM_MEMBER, world.school))

    page = client.get(reverse("cases:access", args=[case.pk]))
    assert page.status_code == 200
    assert "Read only" in page.content.decode()
    assert "cases:transfer" not in page.content.decode() and "/access/transfer/" not in page.content.decode()
    assert _transfer(client, case, to_school=world.school.pk, reason=REASON).status_code == 403
    assert client.post(reverse("cases:edit", args=[case.pk]), {"edit-title": "x"}).status_code == 403
    assert Case.objects.get(pk=case.pk).school_id == world.other_school.pk


def test_unticking_read_access_as_the_old_school_sends_the_user_to_the_case_list(
    world: Any, case: Case, north_leader: Any
) -> None:
    response = _transfer(client_for(north_leader), case, to_school=world.other_school.pk, reason=REASON)
    assert response.status_code == 302 and response["Location"] == reverse("cases:list")
    assert client_for(north_leader).get(reverse("cases:access", args=[case.pk])).status_code == 404


def test_another_schools_member_gets_404_whatever_the_method(world: Any, case: Case) -> None:
    client = client_for(school_user(world, Role.TEAM_LEADER, world.other_school))
    assert client.get(reverse("cases:access", args=[case.pk])).status_code == 404
    assert _transfer(client, case, to_school=world.other_school.pk, reason=REASON).status_code == 404
    assert client.get(reverse("cases:transfer", args=[case.pk])).status_code == 404
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": REASON}, "This field is required."),
        ({"to_school": "999999", "reason": REASON}, "Select a valid choice."),
        ({"to_school": "north", "reason": REASON}, "Select a valid choice."),
        ({"reason": "x" * (actions.MAX_REASON_CHARS + 1), "to_school": "SCHOOL"}, "at most"),
        ({"to_school": "SCHOOL", "reason": ""}, "This field is required."),
    ],
)
def test_bad_transfer_input_answers_400_with_the_message_and_changes_nothing(
    world: Any, case: Case, north_leader: Any, data: dict[str, str], message: str
) -> None:
    data = {k: str(world.other_school.pk) if v == "SCHOOL" else v for k, v in data.items()}
    response = _transfer(client_for(north_leader), case, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


def test_a_school_of_another_district_is_not_a_choice(world: Any, case: Case, north_leader: Any) -> None:
    elsewhere = world.other_district.schools.get()
    response = _transfer(client_for(north_leader), case, to_school=elsewhere.pk, reason=REASON)
    assert response.status_code == 400
    assert elsewhere.name not in response.content.decode()
    assert Case.objects.get(pk=case.pk).school_id == world.school.pk


def test_html_and_sql_in_the_reason_are_kept_as_typed_and_escaped(world: Any, case: Case, north_leader: Any) -> None:
    typed = "<script>alert(1)</script> '; DROP TABLE cases_case; --"
    response = _transfer(client_for(north_leader), case, reason=typed)
    body = response.content.decode()
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#x27;; DROP TABLE cases_case; --" in body
    assert Case.objects.filter(pk=case.pk).exists()


def test_a_closed_case_answers_400_with_the_reason(world: Any, case: Case, north_leader: Any) -> None:
    actions.do_request_closure(actor=north_leader, case=case, reason="no_threat", note="Transient remark.")
    response = _transfer(client_for(north_leader), case, to_school=world.other_school.pk, reason=REASON)
    assert response.status_code == 400
    assert "This case is closed" in response.content.decode()


def test_get_on_an_action_is_405(world: Any, case: Case, north_leader: Any) -> None:
    client = client_for(north_leader)
    for name in ["cases:transfer", "cases:remove_school", "cases:restore_school"]:
        assert client.get(reverse(name, args=[case.pk])).status_code == 405


def test_the_school_access_buttons_remove_and_restore(world: Any, case: Case, north_leader: Any) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    client = client_for(school_user(world, Role.TEAM_LEADER, world.other_school))

    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert f"Remove {world.school.name}" in page
    response = client.post(reverse("cases:remove_school", args=[case.pk]), {"school-school": world.school.pk})
    assert response.status_code == 302
    assert CaseSchool.objects.get(case=case, school=world.school).removed_at is not None
    assert "Access removed" in client.get(reverse("cases:access", args=[case.pk])).content.decode()

    response = client.post(reverse("cases:restore_school", args=[case.pk]), {"school-school": world.school.pk})
    assert response.status_code == 302
    assert CaseSchool.objects.get(case=case, school=world.school).removed_at is None


def test_removing_the_lead_school_or_a_stranger_school_answers_400(world: Any, case: Case, north_leader: Any) -> None:
    client = client_for(north_leader)
    url = reverse("cases:remove_school", args=[case.pk])
    response = client.post(url, {"school-school": world.school.pk})
    assert response.status_code == 400 and "Transfer the case first" in response.content.decode()
    for school in [world.other_school, world.other_district.schools.get()]:
        response = client.post(url, {"school-school": school.pk})
        assert response.status_code == 400 and "has no access to this case" in response.content.decode()
    assert client.post(url, {}).status_code == 400
    assert CaseSchool.objects.get(case=case, school=world.school).removed_at is None


# The banner when the subject moved ----------------------------------------------------------------


def _subject_enrolled_at(world: Any, case: Case, *schools: Any) -> Person:
    person = Person.objects.create(district=world.district, given_name="Alex", family_name="Testcase")
    for school in schools:
        Enrollment.objects.create(district=world.district, person=person, school=school, role="student")
    CaseParticipant.objects.create(
        case=case,
        role=CaseParticipant.Role.SUBJECT,
        person=person,
        added_at=clock.now(),
        added_by=case.opened_by,
    )
    return person


def test_the_tab_offers_the_transfer_when_the_subject_is_enrolled_elsewhere(
    world: Any, case: Case, north_leader: Any
) -> None:
    _subject_enrolled_at(world, case, world.other_school)
    client = client_for(north_leader)

    body = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert f"The subject is now enrolled at {world.other_school.name}: transfer the case?" in body
    assert f'<option value="{world.other_school.pk}" selected>' in body
    # Only the access tab says so.
    assert "The subject is now enrolled" not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


@pytest.mark.parametrize("situation", ["still_at_the_case_school", "ended", "inactive", "not_a_subject"])
def test_no_banner_when_the_subject_has_not_moved(world: Any, case: Case, north_leader: Any, situation: str) -> None:
    if situation == "still_at_the_case_school":
        _subject_enrolled_at(world, case, world.school, world.other_school)
    else:
        person = _subject_enrolled_at(world, case, world.other_school)
        if situation == "ended":
            Enrollment.objects.filter(person=person).update(end_date=clock.now().date() - dt.timedelta(days=1))
        elif situation == "inactive":
            Enrollment.objects.filter(person=person).update(status=SourceStatus.INACTIVE)
        else:
            CaseParticipant.objects.filter(person=person).update(role=CaseParticipant.Role.WITNESS)
    body = client_for(north_leader).get(reverse("cases:access", args=[case.pk])).content.decode()
    assert "The subject is now enrolled" not in body


def _queries_of_the_tab(client: Any, case: Case) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("cases:access", args=[case.pk])).status_code == 200
    return len(queries)


def test_the_tab_reads_the_same_number_of_queries_whatever_the_rows(world: Any, case: Case, north_leader: Any) -> None:
    do_transfer_case(actor=north_leader, case=case, to_school=world.other_school, reason=REASON)
    south_leader = school_user(world, Role.TEAM_LEADER, world.other_school)
    client = client_for(south_leader)
    _subject_enrolled_at(world, case, world.other_school)
    do_break_glass(actor=world.users[Role.DATABASE_MANAGER], case=case, reason=GLASS_REASON)
    _queries_of_the_tab(client, case)  # session and caches warm
    few = _queries_of_the_tab(client, case)

    district_leader = world.users[Role.TEAM_LEADER]
    for school in SchoolFactory.create_batch(3, district=world.district):
        do_transfer_case(actor=district_leader, case=case, to_school=school, reason=REASON)
        do_transfer_case(actor=district_leader, case=case, to_school=world.other_school, reason=REASON)
    for _ in range(4):
        do_add_member(actor=south_leader, case=case, user=school_user(world, Role.TEAM_MEMBER, world.school))
        _subject_enrolled_at(world, case, world.other_school)
        do_break_glass(actor=make_member(Role.BACKUP_ADMIN, world.district), case=case, reason=GLASS_REASON)

    assert _queries_of_the_tab(client, case) == few
    assert few <= 20
