"""The triage queue page: ordering, scoping, filters, surge groups as one item, pagination, queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.intake import surge
from btam.intake.models import Report
from btam.intake.tests.triage_helpers import FAST_HASHERS, HookSpy, emergency, install_hook_spy, submit, urgent
from btam.intake.triage_actions import (
    do_acknowledge,
    do_mark_abuse,
    do_mark_duplicate,
    do_open_case,
    do_refer,
    do_screen_out,
)
from btam.intake.triage_views import QUEUE_PAGE_SIZE
from btam.testing import make_member

QUEUE = reverse("intake:queue")
_ROW = re.compile(r'data-testid="report-row" data-report="(\d+)"')


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    return install_hook_spy(monkeypatch)


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


def rows(response: Any) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in _ROW.findall(response.content.decode())]


def test_the_most_urgent_come_first_then_the_oldest(world: Any, client: Any, member: Any, clock: Any) -> None:
    routine_old = submit(world.school, "An old routine note about a lost bag.")
    clock.advance(minutes=5)
    urgent_older = urgent(world.school, "A weapon was mentioned in the gym.")
    clock.advance(minutes=5)
    urgent_newer = urgent(world.other_school, "A knife was seen at the bus stop.")
    clock.advance(minutes=5)
    emergency_new = emergency(world.school, "Someone is in danger right now near the field.")
    client.force_login(member)

    assert rows(client.get(QUEUE)) == [emergency_new.pk, urgent_older.pk, urgent_newer.pk, routine_old.pk]


def test_a_row_shows_urgency_in_words_reasons_school_age_channel_and_acknowledgement(
    world: Any, client: Any, member: Any, clock: Any, hooks: HookSpy
) -> None:
    report = emergency(world.school, "Someone is in danger right now near the field.")
    clock.advance(minutes=12)
    client.force_login(member)
    body = client.get(QUEUE).content.decode()
    assert 'data-urgency="emergency"' in body and ">Emergency</span>" in body  # colour and words
    assert "Someone is in danger now" in body  # the reason, from urgency.REASON_LABELS
    assert "North Test High" in body
    assert "12\xa0minutes ago" in body
    assert "Public web form" in body
    assert "Not yet" in body

    do_acknowledge(actor=world.users[Role.TEAM_LEADER], report=report)
    clock.advance(minutes=3)
    body = client.get(QUEUE).content.decode()
    assert f"{world.users[Role.TEAM_LEADER]}, 3\xa0minutes ago" in body


def test_a_team_member_of_one_school_sees_only_that_schools_reports(world: Any, client: Any) -> None:
    north_only = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    north = submit(world.school)
    south = submit(world.other_school)
    client.force_login(north_only)
    assert rows(client.get(QUEUE)) == [north.pk]
    # Asking for the other school is not a way in: the filter is refused and the default shown.
    assert rows(client.get(QUEUE, {"school": world.other_school.pk})) == [north.pk]
    assert south.pk not in rows(client.get(QUEUE, {"status": "open"}))


def test_a_team_leader_of_another_district_sees_none_of_these_reports(world: Any, client: Any) -> None:
    submit(world.school)
    client.force_login(world.outsider)
    assert rows(client.get(QUEUE)) == []


@pytest.mark.parametrize("role", [Role.REFERRING_STAFF, Role.AUDITOR, Role.SYSTEM_ADMIN, Role.DISTRICT_VIEWER])
def test_roles_outside_the_team_are_refused(world: Any, client: Any, role: str) -> None:
    client.force_login(world.users[role])
    assert client.get(QUEUE).status_code == 403


def test_the_school_filter_narrows_the_list(world: Any, client: Any, member: Any) -> None:
    north, south = submit(world.school), submit(world.other_school)
    client.force_login(member)
    assert rows(client.get(QUEUE, {"school": world.other_school.pk})) == [south.pk]
    assert rows(client.get(QUEUE, {"school": world.school.pk})) == [north.pk]


def test_the_status_filters(world: Any, client: Any, member: Any, hooks: HookSpy) -> None:
    new, acked, screened, duplicate, case, abuse, original = (submit(world.school) for _ in range(7))
    referred_in = submit(world.other_school)
    do_acknowledge(actor=member, report=acked)
    do_screen_out(actor=member, report=screened, reason="Not a threat.")
    do_mark_duplicate(actor=member, report=duplicate, original=original)
    do_open_case(actor=member, report=case)
    do_mark_abuse(actor=member, report=abuse, reason="Spam.")
    do_refer(actor=member, report=referred_in, school=world.school, reason="Their student.")
    client.force_login(member)

    assert set(rows(client.get(QUEUE))) == {new.pk, acked.pk, original.pk, referred_in.pk}
    assert rows(client.get(QUEUE, {"status": "screened_out"})) == [screened.pk]
    assert rows(client.get(QUEUE, {"status": "duplicate"})) == [duplicate.pk]
    assert rows(client.get(QUEUE, {"status": "case_opened"})) == [case.pk]
    assert rows(client.get(QUEUE, {"status": "abuse"})) == [abuse.pk]
    assert rows(client.get(QUEUE, {"status": "referred"})) == [referred_in.pk]
    # An unknown filter value shows the default list rather than an error.
    assert set(rows(client.get(QUEUE, {"status": "everything", "school": "x"}))) == {
        new.pk,
        acked.pk,
        original.pk,
        referred_in.pk,
    }


def test_a_surge_group_is_one_item_with_its_reports_listed_and_a_link(
    world: Any, client: Any, member: Any, hooks: HookSpy, clock: Any
) -> None:
    group_reports = [
        submit(world.school, f"Rumour {i} about the dance.", names=("Rowan Testperson",)) for i in range(3)
    ]
    clock.advance(minutes=1)
    alone = urgent(world.school, "A knife in a backpack, seen by a teacher.")
    for r in [*group_reports, alone]:
        surge.assign_group(r)
    group = Report.objects.get(pk=group_reports[0].pk).surge_group
    assert group is not None
    client.force_login(member)
    body = client.get(QUEUE).content.decode()
    assert body.count('data-testid="surge-group"') == 1
    assert "Group of 3 reports" in body
    assert reverse("intake:surge_group", args=[group.pk]) in body
    for r in group_reports:
        assert reverse("intake:report", args=[r.pk]) in body  # listed inside the item
    assert rows(client.get(QUEUE)) == [alone.pk]  # the urgent lone report first, then the group
    assert body.index(f'data-report="{alone.pk}"') < body.index('data-testid="surge-group"')
    assert "0 of 3" in body and reverse("intake:acknowledge_group", args=[group.pk]) in body


def test_a_group_takes_the_urgency_of_its_most_urgent_report(world: Any, client: Any, member: Any, clock: Any) -> None:
    routine = submit(world.school, "First rumour about the field.", names=("Rowan Testperson",))
    clock.advance(minutes=1)
    lone_urgent = urgent(world.school, "A weapon is mentioned in the art room.")
    clock.advance(minutes=1)
    grouped_emergency = emergency(world.school, "Danger now at the field.", names=("Rowan Testperson",))
    for r in (routine, lone_urgent, grouped_emergency):
        surge.assign_group(r)
    client.force_login(member)
    body = client.get(QUEUE).content.decode()
    assert body.index('data-testid="surge-group"') < body.index(f'data-report="{lone_urgent.pk}"')


def test_the_queue_pages(world: Any, client: Any, member: Any) -> None:
    reports = [submit(world.school, f"Note {i} about something at school.") for i in range(QUEUE_PAGE_SIZE + 3)]
    client.force_login(member)
    first = client.get(QUEUE, {"status": "open", "school": world.school.pk})
    assert len(rows(first)) == QUEUE_PAGE_SIZE
    body = first.content.decode()
    assert f"status=open&amp;school={world.school.pk}&amp;page=2" in body
    second = rows(client.get(QUEUE, {"status": "open", "school": world.school.pk, "page": 2}))
    assert len(second) == 3
    assert set(rows(first)) | set(second) == {r.pk for r in reports}
    assert rows(client.get(QUEUE, {"page": "nonsense"})) == rows(first)


def test_htmx_gets_the_results_only(world: Any, client: Any, member: Any) -> None:
    report = submit(world.school)
    client.force_login(member)
    response = client.get(QUEUE, {"status": "open"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and f'data-report="{report.pk}"' in body


def test_the_queue_costs_the_same_queries_for_3_or_60_reports(world: Any, client: Any, member: Any) -> None:
    """One query for the count, one for the page, one for its reports: no query per row or group."""
    client.force_login(member)
    leader = world.users[Role.TEAM_LEADER]

    def make(n: int, start: int) -> None:
        for i in range(start, start + n):
            r = submit(world.school if i % 2 else world.other_school, f"Report {i}.", names=(f"Person Number{i % 4}",))
            surge.assign_group(r)
            if i % 3 == 0:
                do_acknowledge(actor=leader, report=r)

    def count() -> int:
        client.get(QUEUE)  # warm the session and membership caches alike
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(QUEUE).status_code == 200
        return len(ctx)

    make(3, 0)
    for i in range(6):  # lone reports too, with different names
        r = submit(world.school, f"Lone report {i}.", names=(f"Lonely Person{i}",))
        do_acknowledge(actor=leader, report=r)
    small = count()
    make(60, 100)
    for i in range(20):
        submit(world.school, f"Another lone report {i}.", names=(f"Single Soul{i}",))
    assert count() <= small


def test_every_urgency_reason_label_is_marked_for_translation() -> None:
    from btam.intake.templatetags.triage_tags import TRANSLATED_REASON_LABELS
    from btam.intake.urgency import REASON_LABELS

    assert set(TRANSLATED_REASON_LABELS) == set(REASON_LABELS.values())
