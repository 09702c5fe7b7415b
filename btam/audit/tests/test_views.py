"""The auditor's list of the trail (filters, pages, scope) and its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from btam.accounts.models import Role, User
from btam.audit import chain, triggers
from btam.audit.models import AuditEvent, Verb
from btam.audit.views import PAGE_SIZE, TRAIL_TARGET_TYPE, safe_cell
from btam.conftest import World
from btam.testing import make_member

LIST = "/audit/"
EXPORT = "/audit/export.csv"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def auditor(world: World) -> User:
    return world.users[Role.AUDITOR]


def _event(**fields: Any) -> AuditEvent:
    created_at = fields.pop("created_at", None)
    fields.setdefault("verb", Verb.UPDATED)
    fields.setdefault("actor", None)
    event = AuditEvent.objects.record(**fields)
    if created_at is not None:
        with triggers.suspended():  # back-date it: tests only
            AuditEvent.objects.filter(pk=event.pk).update(created_at=created_at)
        event.refresh_from_db()
    return event


def _csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _trail_reads(verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb, target_type=TRAIL_TARGET_TYPE))


# Who sees what -------------------------------------------------------------------------------
def test_an_auditor_sees_their_district_and_not_another(world: World, auditor: User) -> None:
    _event(target=world.school, reason="ours")
    _event(district_id=world.other_district.pk, target_type="orgs.school", target_id="9", reason="theirs")
    page = _client(auditor).get(LIST)
    assert page.status_code == 200
    assert "ours" in page.content.decode()
    assert "theirs" not in page.content.decode()


def test_an_auditor_sees_sign_ins_of_their_district_members_only(world: World, auditor: User) -> None:
    member = world.users[Role.TEAM_MEMBER]
    AuditEvent.objects.record(actor=member, verb=Verb.LOGIN, target=member)
    AuditEvent.objects.record(actor=world.outsider, verb=Verb.LOGIN, target=world.outsider)
    AuditEvent.objects.record(
        actor=None, actor_label=member.email, verb=Verb.LOGIN_FAILED, target=member, reason="demo account refused"
    )
    AuditEvent.objects.record(actor=None, actor_label="stranger@example.test", verb=Verb.LOGIN_FAILED)
    visible = AuditEvent.objects.visible_to(auditor)
    assert {(e.verb, e.target_id) for e in visible} == {
        (Verb.LOGIN, str(member.pk)),
        (Verb.LOGIN_FAILED, str(member.pk)),
    }


def test_a_system_admin_reads_the_trail_too(world: World) -> None:
    _event(target=world.school, reason="ours")
    assert "ours" in _client(world.users[Role.SYSTEM_ADMIN]).get(LIST).content.decode()


@pytest.mark.parametrize("role", [Role.TEAM_LEADER, Role.DATABASE_MANAGER, Role.DISTRICT_VIEWER])
def test_other_roles_cannot_read_or_export_the_trail(world: World, role: str) -> None:
    client = _client(world.users[role])
    assert client.get(LIST).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_an_auditor_of_another_district_sees_nothing_of_ours(world: World) -> None:
    _event(target=world.school, reason="ours")
    other_auditor = make_member(Role.AUDITOR, world.other_district)
    page = _client(other_auditor).get(LIST).content.decode()
    assert "ours" not in page
    assert AuditEvent.objects.visible_to(other_auditor).filter(reason="ours").count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(EXPORT)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# The list ------------------------------------------------------------------------------------
def test_it_lists_newest_first_fifty_to_a_page(world: World, auditor: User) -> None:
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(PAGE_SIZE + 5):
        _event(target=world.school, reason=f"event-{i:03d}", created_at=start + dt.timedelta(minutes=i))
    client = _client(auditor)
    first = client.get(LIST).content.decode()
    assert first.index("event-054") < first.index("event-053")
    assert "event-005" in first
    assert "event-004" not in first
    # Follow the "Next" link: the page stays put although viewing page 1 added an event.
    found = re.search(r'href="([^"]+)" class="usa-pagination__link usa-pagination__next', first)
    assert found is not None
    next_link = html.unescape(found[1])
    second = client.get(LIST + next_link).content.decode()
    assert "event-004" in second and "event-000" in second
    assert "event-005" not in second
    assert 'aria-current="page"' in second


def test_paging_keeps_to_the_events_there_were_at_the_first_page(world: World, auditor: User) -> None:
    first = _event(target=world.school, reason="before")
    _event(target=world.school, reason="after")
    page = _client(auditor).get(LIST, {"until": first.pk}).content.decode()
    assert "before" in page
    assert "after" not in page
    assert f"until={first.pk}" in page


@pytest.mark.parametrize("page", ["abc", "-1", "99999", ""])
def test_a_bad_page_number_still_shows_a_page(world: World, auditor: User, page: str) -> None:
    _event(target=world.school, reason="still here")
    response = _client(auditor).get(LIST, {"page": page})
    assert response.status_code == 200
    assert "still here" in response.content.decode()


def test_it_filters_by_date_actor_verb_and_target(world: World, auditor: User) -> None:
    leader = world.users[Role.TEAM_LEADER]
    old = timezone.now() - dt.timedelta(days=10)
    _event(target=world.school, reason="old one", created_at=old)
    _event(actor=leader, target=world.school, verb=Verb.VIEWED, reason="leader viewed")
    _event(target=world.other_school, verb=Verb.DELETED, reason="school deleted")
    client = _client(auditor)

    def shown(**params: str) -> set[str]:
        response = client.get(LIST, params)
        assert response.status_code == 200
        return {e.reason for e in response.context["events"] if e.target_type != TRAIL_TARGET_TYPE}

    today = timezone.localdate().isoformat()
    assert shown(date_from=today) == {"leader viewed", "school deleted"}
    assert shown(date_to=(timezone.localdate() - dt.timedelta(days=5)).isoformat()) == {"old one"}
    assert shown(date_from=today, date_to=today) == {"leader viewed", "school deleted"}
    assert shown(actor=leader.full_name.split()[0].upper()) == {"leader viewed"}
    assert shown(actor=leader.email) == {"leader viewed"}
    assert shown(verb=Verb.DELETED) == {"school deleted"}
    assert shown(target_type="ORGS.SCHOOL", target_id=str(world.other_school.pk)) == {"school deleted"}
    assert shown(target_type="people.person") == set()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2024-02-30"}, "Enter a valid date."),
        ({"date_to": "yesterday"}, "Enter a valid date."),
        ({"date_from": "0001-01-01"}, "Enter a date between"),
        ({"date_to": "9999-12-31"}, "Enter a date between"),
        ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "The end date is before the start date."),
        ({"verb": "teleported"}, "Select a valid choice."),
        ({"actor": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"target_id": "1" * 65}, "Ensure this value has at most 64 characters"),
        ({"until": "latest"}, "Enter a whole number."),
        ({"until": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_filters_get_a_clear_message_not_an_error(
    world: World, auditor: User, params: dict[str, str], message: str
) -> None:
    _event(target=world.school, reason="hidden until fixed")
    client = _client(auditor)
    for url in (LIST, EXPORT):
        response = client.get(url, params)
        assert response.status_code == 200
        body = response.content.decode()
        assert message in body
        assert "Some filters are not valid" in body
        assert "hidden until fixed" not in body
    assert _trail_reads(Verb.VIEWED) == []
    assert _trail_reads(Verb.EXPORTED) == []


def test_viewing_the_trail_is_itself_recorded(world: World, auditor: User) -> None:
    _client(auditor).get(LIST, {"verb": Verb.LOGIN, "actor": "smith"}, REMOTE_ADDR="198.51.100.7")
    (event,) = _trail_reads(Verb.VIEWED)
    assert event.actor_id == auditor.pk
    assert event.actor_name == auditor.full_name
    assert event.district_id == world.district.pk
    assert event.ip_address == "198.51.100.7"
    assert event.request_id
    assert event.detail["filters"] == {"verb": "login", "actor": "smith"}
    assert event.detail["page"] == 1


def test_the_list_shows_whether_an_event_is_sealed(world: World, auditor: User) -> None:
    _event(target=world.school, reason="sealed one")
    chain.seal_pending()
    _event(target=world.school, reason="pending one")
    body = _client(auditor).get(LIST).content.decode()
    assert "#1" in body
    assert "pending" in body


# The export ----------------------------------------------------------------------------------
def test_it_exports_the_filtered_events_as_streamed_csv(world: World, auditor: User) -> None:
    _event(target=world.school, verb=Verb.DELETED, reason="in the export", before={"name": "North"})
    _event(target=world.school, verb=Verb.CREATED, reason="filtered out")
    _event(district_id=world.other_district.pk, verb=Verb.DELETED, reason="other district")
    response = _client(auditor).get(EXPORT, {"verb": Verb.DELETED})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    rows = _csv(response)
    assert [r["reason"] for r in rows] == ["in the export"]
    assert rows[0]["verb"] == "deleted"
    assert rows[0]["target_type"] == "orgs.school"
    assert rows[0]["before"] == '{"name": "North"}'
    assert rows[0]["district_id"] == str(world.district.pk)


def test_the_export_is_itself_recorded(world: World, auditor: User) -> None:
    _event(target=world.school)
    response = _client(auditor).get(EXPORT, {"target_type": "orgs.school"})
    _csv(response)
    (event,) = _trail_reads(Verb.EXPORTED)
    assert event.actor_id == auditor.pk
    assert event.detail["filters"] == {"target_type": "orgs.school"}
    assert event.detail["format"] == "csv"


def test_the_export_holds_what_existed_when_it_was_asked_for(world: World, auditor: User) -> None:
    _event(target=world.school, reason="exported")
    rows = _csv(_client(auditor).get(EXPORT))
    assert [r["reason"] for r in rows] == ["exported"]
    assert _trail_reads(Verb.EXPORTED)


def test_an_empty_trail_exports_just_the_header(world: World) -> None:
    other_auditor = make_member(Role.AUDITOR, world.other_district)
    client = _client(other_auditor)
    page = client.get(LIST)
    assert page.status_code == 200
    assert "No events match these filters." in page.content.decode()
    response = client.get(EXPORT + "?" + page.context["query"])
    assert response.status_code == 200
    assert _csv(response) == []


def test_the_export_cannot_smuggle_spreadsheet_formulas(world: World, auditor: User) -> None:
    _event(target=world.school, reason='=HYPERLINK("http://evil.example","click")', actor_label="+cmd|calc")
    _event(target=world.school, reason="@SUM(A1:A2)", actor_label="-2+3")
    rows = _csv(_client(auditor).get(EXPORT, {"verb": Verb.UPDATED}))
    cells = [value for row in rows for value in row.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'@SUM(A1:A2)" in cells
    assert "'-2+3" in cells


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("plain", "plain"), (None, "")],
)
def test_a_cell_that_would_run_as_a_formula_is_quoted(value: Any, expected: str) -> None:
    assert safe_cell(value) == expected


def test_a_reader_of_two_districts_trails_is_recorded_in_each(world: World, auditor: User) -> None:
    """Each district's auditors filter by district: a read that may show both is filed in both."""
    from btam.accounts.models import Membership

    Membership.objects.create(user=auditor, district=world.other_district, role=Role.AUDITOR)
    assert _client(auditor).get(LIST).status_code == 200
    reads = _trail_reads(Verb.VIEWED)
    assert sorted(e.district_id or 0 for e in reads) == sorted([world.district.pk, world.other_district.pk])
    assert len({e.request_id for e in reads}) == 1
