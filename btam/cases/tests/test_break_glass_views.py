"""The break-glass page and the banner on case pages viewed under a grant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from btam.accounts.models import Membership, Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import access
from btam.cases.access_actions import do_break_glass, do_set_restricted
from btam.cases.models import BreakGlassGrant, Case
from btam.cases.tests.access_helpers import client_for, open_case, school_user
from btam.notifications.models import Notification

REASON = "Police called about an imminent threat; the leader cannot be reached."
URL = "/cases/break-glass/"
NOT_FOUND = "There is no case with this number in your district."


@pytest.fixture
def case(world: Any) -> Case:
    return open_case(world)


def _post(client: Any, number: str, reason: str = REASON, **extra: Any) -> Any:
    return client.post(URL, {"number": number, "reason": reason, **extra})


def test_the_url_is_stable() -> None:
    assert reverse("cases:break_glass") == URL


def test_a_data_role_breaks_the_glass_and_lands_on_the_case_with_the_banner(world: Any, case: Case) -> None:
    user = world.users[Role.DATABASE_MANAGER]
    client = client_for(user)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.get(URL).status_code == 200

    response = _post(client, case.number)

    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    grant = BreakGlassGrant.objects.get(user=user, case=case)
    assert grant.reason == REASON
    assert AuditEvent.objects.filter(verb=Verb.BREAK_GLASS, actor=user, target_id=str(case.pk)).exists()
    assert Notification.objects.filter(kind="break_glass", urgent=True).exists()
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "You are viewing this case under break-glass access until" in body
    assert f'datetime="{timezone.localtime(grant.expires_at).isoformat()}"' in body
    # Every page seen under the grant is in the audit trail.
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, actor=user, target_id=str(case.pk)).count() == 1
    assert "break-glass access until" in client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert client.get(URL).content.decode().count(f"Case {case.number}") == 1


def test_the_banner_goes_and_the_case_closes_to_the_user_when_the_grant_expires(
    world: Any, case: Case, clock: Any
) -> None:
    client = client_for(world.users[Role.BACKUP_ADMIN])
    _post(client, case.number)
    clock.advance(hours=access.BREAK_GLASS_HOURS, seconds=1)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_the_team_sees_no_banner_on_its_own_cases(world: Any, case: Case) -> None:
    body = client_for(world.users[Role.TEAM_MEMBER]).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "break-glass access until" not in body


def test_a_district_team_member_breaks_into_a_restricted_case(world: Any) -> None:
    manager = school_user(world, Role.TEAM_MEMBER, world.school)
    case = open_case(world, actor=manager)
    do_set_restricted(actor=manager, case=case, restricted=True, reason="A staff member is involved.")
    client = client_for(world.users[Role.RAPID_RESPONSE])
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404

    assert _post(client, case.number).status_code == 302
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "under break-glass access" in body


def test_a_case_the_user_already_sees_opens_without_a_grant(world: Any, case: Case) -> None:
    response = _post(client_for(world.users[Role.TEAM_LEADER]), f" {case.year}-{case.seq} ", reason="")
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert not BreakGlassGrant.objects.exists()


def test_a_number_of_another_district_gets_the_same_answer_as_one_that_does_not_exist(world: Any, case: Case) -> None:
    for _ in range(2):
        elsewhere = open_case(world, actor=world.outsider, school=world.other_district.schools.get())
    assert elsewhere.number != case.number
    assert not Case.objects.filter(district=world.district, year=elsewhere.year, seq=elsewhere.seq).exists()
    user = world.users[Role.DATABASE_MANAGER]
    client = client_for(user)
    missing = _post(client, "2019-0042")
    other = _post(client, elsewhere.number)
    answers = []
    for response in (missing, other):
        assert response.status_code == 400
        answers.append(re.findall(r'class="usa-error-message"[^>]*>([^<]*)<', response.content.decode()))
    assert answers[0] == answers[1] == [NOT_FOUND]
    assert not BreakGlassGrant.objects.exists()
    assert not Notification.objects.filter(kind="break_glass").exists()
    assert AuditEvent.objects.filter(verb=Verb.ACCESS_DENIED, actor=user, detail__break_glass="no_case").count() == 2


def test_the_outsider_cannot_reach_a_case_of_this_district_by_its_number(world: Any, case: Case) -> None:
    client = client_for(world.outsider)
    response = _post(client, case.number)
    assert response.status_code == 400 and NOT_FOUND in response.content.decode()
    assert not BreakGlassGrant.objects.exists()
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


@pytest.mark.parametrize(
    ("number", "reason", "message"),
    [
        ("CASE_NUMBER", "too short", "at least 20 characters"),
        ("CASE_NUMBER", "", "This field is required."),
        ("", REASON, "This field is required."),
        ("42", REASON, "Enter a case number like 2026-0042."),
        ("2026-0001' OR '1'='1", REASON, "Enter a case number like 2026-0042."),
        ("<b>2026-0001</b>", REASON, "Enter a case number like 2026-0042."),
        ("9" * 30, REASON, "at most 20 characters"),
    ],
)
def test_bad_input_answers_400_with_the_message_and_keeps_what_was_typed(
    world: Any, case: Case, number: str, reason: str, message: str
) -> None:
    number = case.number if number == "CASE_NUMBER" else number
    response = _post(client_for(world.users[Role.DATABASE_MANAGER]), number, reason)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<b>2026-0001</b>" not in body
    if reason:
        assert escape(reason) in body
    assert not BreakGlassGrant.objects.exists()


def test_a_team_member_of_named_schools_only_is_refused_the_page(world: Any, case: Case) -> None:
    client = client_for(school_user(world, Role.TEAM_LEADER, world.other_school))
    assert client.get(URL).status_code == 403
    assert _post(client, case.number).status_code == 403
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT_VIEWER, Role.SYSTEM_ADMIN, Role.REFERRING_STAFF])
def test_roles_without_case_access_are_refused_the_page(world: Any, case: Case, role: str) -> None:
    client = client_for(world.users[role])
    assert client.get(URL).status_code == 403
    assert _post(client, case.number).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_a_user_of_two_districts_chooses_the_district(world: Any, case: Case) -> None:
    user = world.users[Role.DATABASE_MANAGER]
    Membership.objects.create(user=user, district=world.other_district, role=Role.DATABASE_MANAGER)
    client = client_for(user)
    assert 'name="district"' in client.get(URL).content.decode()
    response = _post(client, case.number, district=world.other_district.pk)
    assert response.status_code == 400 and NOT_FOUND in response.content.decode()
    response = _post(client, case.number, district=world.district.pk)
    assert response.status_code == 302
    assert BreakGlassGrant.objects.filter(user=user, case=case).count() == 1


def test_only_get_and_post(world: Any) -> None:
    assert client_for(world.users[Role.DATABASE_MANAGER]).put(URL).status_code == 405


def test_the_tab_lists_the_grants_with_their_reason(world: Any, case: Case) -> None:
    do_break_glass(actor=world.users[Role.DATABASE_MANAGER], case=case, reason=REASON)
    body = client_for(world.users[Role.TEAM_LEADER]).get(reverse("cases:access", args=[case.pk])).content.decode()
    assert escape(REASON) in body and "Active" in body
