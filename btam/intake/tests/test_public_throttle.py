"""Throttles of the public pages: wrong receipt codes (per address and overall), reports (per
address and per school), replies; the client's address; counters that never hold an address."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from btam.audit.models import AuditEvent, Verb
from btam.intake import public_views, receipt, throttle
from btam.intake.models import Report, ReporterMessage
from btam.intake.tests.public_helpers import (
    form_url,
    isolated,
    jpeg,
    make_school,
    open_thread,
    receipt_code,
    report_data,
    submit,
)
from btam.orgs.models import School
from btam.testing import SchoolFactory

pytestmark = pytest.mark.django_db

FOLLOWUP = reverse("report:followup")
THREAD = reverse("report:followup_thread")
# 12:00:01 UTC starts a 10-minute, a 15-minute and an hour-long window alike.
WINDOW_START = dt.datetime(2030, 1, 7, 12, 0, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, clock: Any) -> Iterator[None]:
    clock.freeze(WINDOW_START)
    with isolated(tmp_path):
        yield


@pytest.fixture
def school() -> School:
    return make_school(crisis_line="1-800-555-0199")


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sent(school: School, address: str = "198.51.100.1") -> str:
    return receipt_code(submit(from_address(address), school))


# Wrong receipt codes ---------------------------------------------------------------------------------------


@override_settings(BTAM_FOLLOWUP_FAILURES_PER_ADDRESS=3, BTAM_FOLLOWUP_FAILURES_GLOBAL=1000)
def test_wrong_codes_from_one_address_are_throttled_and_then_not_even_checked(
    school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = sent(school)
    guesser = from_address("203.0.113.7")
    for _ in range(3):
        assert guesser.post(FOLLOWUP, {"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}).status_code == 400

    def not_checked(_code: str) -> None:
        raise AssertionError("a throttled code was checked")

    monkeypatch.setattr(public_views, "find_report_by_code", not_checked)
    response = guesser.post(FOLLOWUP, {"code": code})  # even the right code

    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many tries" in html and "Wait 15 minutes" in html
    assert 'href="tel:911"' in html
    assert public_views.SESSION_KEY not in guesser.session
    monkeypatch.undo()
    assert open_thread(from_address("198.51.100.99"), code)["Location"] == THREAD  # others are not blocked


@override_settings(BTAM_FOLLOWUP_FAILURES_PER_ADDRESS=3, BTAM_FOLLOWUP_FAILURES_GLOBAL=1000)
def test_the_address_throttle_lifts_once_the_failures_are_15_minutes_old(school: School, clock: Any) -> None:
    code = sent(school)
    guesser = from_address("203.0.113.7")
    for _ in range(3):
        guesser.post(FOLLOWUP, {"code": "nope"})
    assert guesser.post(FOLLOWUP, {"code": code}).status_code == 429
    clock.advance(minutes=14, seconds=59)
    assert guesser.post(FOLLOWUP, {"code": code}).status_code == 429
    clock.advance(seconds=1)
    assert guesser.post(FOLLOWUP, {"code": code})["Location"] == THREAD


@override_settings(BTAM_FOLLOWUP_FAILURES_PER_ADDRESS=100, BTAM_FOLLOWUP_FAILURES_GLOBAL=5)
def test_wrong_codes_from_many_addresses_trip_the_overall_throttle(school: School) -> None:
    code = sent(school)
    for i in range(5):
        assert from_address(f"203.0.113.{i + 10}").post(FOLLOWUP, {"code": "nope"}).status_code == 400
    assert from_address("198.51.100.50").post(FOLLOWUP, {"code": code}).status_code == 429


@override_settings(BTAM_FOLLOWUP_FAILURES_PER_ADDRESS=2, BTAM_FOLLOWUP_FAILURES_GLOBAL=2)
def test_right_codes_do_not_count(school: School) -> None:
    code = sent(school)
    reporter = from_address("198.51.100.1")
    for _ in range(5):
        assert open_thread(reporter, code)["Location"] == THREAD


def test_a_thousand_wrong_codes_get_nowhere(school: School) -> None:
    """The defaults: 10 wrong per address, then every try is refused unchecked. (The view is called
    directly, without the middleware, to keep a thousand requests fast.)"""
    code = sent(school)
    factory = RequestFactory(REMOTE_ADDR="203.0.113.7")

    def attempt(typed: str) -> int:
        request = factory.post(FOLLOWUP, {"code": typed})
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        request.session = SessionStore()
        request.user = AnonymousUser()
        return public_views.followup(request).status_code

    statuses = [attempt(f"{i:04d}-AAAA-AAAA-AAAA") for i in range(1000)]
    assert statuses[:10] == [400] * 10 and set(statuses[10:]) == {429}
    assert attempt(code) == 429
    assert from_address("203.0.113.7").post(FOLLOWUP, {"code": code}).status_code == 429


@override_settings(BTAM_FOLLOWUP_FAILURES_PER_ADDRESS=2)
def test_the_receipt_download_counts_wrong_codes_too(school: School) -> None:
    code = sent(school)
    guesser = from_address("203.0.113.7")
    download = reverse("report:receipt_download")
    assert guesser.post(download, {"code": "AAAA-AAAA-AAAA-AAAA"}).status_code == 400
    assert guesser.post(download, {"code": "BBBB-BBBB-BBBB-BBBB"}).status_code == 400
    assert guesser.post(download, {"code": code}).status_code == 429
    assert guesser.post(FOLLOWUP, {"code": code}).status_code == 429


def test_counters_are_kept_under_keyed_hashes_never_the_address(school: School) -> None:
    from_address("203.0.113.77").post(FOLLOWUP, {"code": "nope"})
    submit(from_address("203.0.113.77"), school)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM btam_cache")
        keys = [row[0] for row in cursor.fetchall()]
    hashed = receipt.keyed_hash("203.0.113.77", purpose="throttle")
    assert any(hashed in key for key in keys)
    assert not any("203.0.113" in key for key in keys)


# Reports ---------------------------------------------------------------------------------------------------


@override_settings(BTAM_REPORTS_PER_ADDRESS=2, BTAM_REPORTS_PER_SCHOOL=600)
def test_too_many_reports_from_one_address_get_429_with_everything_kept(school: School) -> None:
    reporter = from_address("198.51.100.1")
    for _ in range(2):
        assert submit(reporter, school).status_code == 200

    data = report_data(location="Bus 12", person_1_name="Jordan Testperson", danger_now="on", attachments=[jpeg()])
    response = submit(reporter, school, data)

    assert response.status_code == 429
    html = response.content.decode()
    assert "Your report was not sent yet" in html
    assert "Many reports were sent from your connection" in html
    assert "If someone is in danger right now, do not wait: call 911." in html
    assert 'href="tel:18005550199"' in html
    assert "A student in my class said" in html and 'value="Bus 12"' in html
    assert 'value="Jordan Testperson"' in html and 'name="danger_now" checked' in html
    assert f'value="{data["submission_token"]}"' in html  # the same report when sent again
    assert "choose them again" in html
    assert Report.objects.count() == 2
    event = AuditEvent.objects.get(verb=Verb.ACCESS_DENIED)
    assert event.target_type == "intake.report_throttle" and event.district_id == school.district_id
    assert event.detail == {"school": school.pk, "limit": "address", "max": 2, "window_minutes": 10}
    assert event.ip_address is None and event.actor is None
    # Further refusals in the window are not recorded again; other addresses are not affected.
    assert submit(reporter, school).status_code == 429
    assert AuditEvent.objects.filter(verb=Verb.ACCESS_DENIED).count() == 1
    assert submit(from_address("198.51.100.2"), school).status_code == 200


@override_settings(BTAM_REPORTS_PER_ADDRESS=100, BTAM_REPORTS_PER_SCHOOL=2)
def test_too_many_reports_for_one_school_get_429(school: School) -> None:
    other = SchoolFactory.create(district=school.district)
    for i in range(2):
        assert submit(from_address(f"198.51.100.{i + 1}"), school).status_code == 200

    response = submit(from_address("198.51.100.9"), school)

    assert response.status_code == 429
    assert "This school is getting a very large number of reports" in response.content.decode()
    event = AuditEvent.objects.get(verb=Verb.ACCESS_DENIED)
    assert event.detail["limit"] == "school" and event.detail["school"] == school.pk
    assert submit(from_address("198.51.100.9"), other).status_code == 200


@override_settings(BTAM_REPORTS_PER_ADDRESS=2)
def test_the_report_throttle_slides_instead_of_resetting_at_a_window_boundary(school: School, clock: Any) -> None:
    reporter = from_address("198.51.100.1")
    clock.advance(minutes=9)  # 12:09: late in a 10-minute window
    submit(reporter, school)
    submit(reporter, school)
    assert submit(reporter, school).status_code == 429
    clock.advance(minutes=1)  # 12:10:01, a new window: fixed windows would take two more at once
    assert submit(reporter, school).status_code == 200
    assert submit(reporter, school).status_code == 429
    clock.advance(minutes=10)  # 12:20:01: the earlier window no longer counts
    assert submit(reporter, school).status_code == 200


@override_settings(BTAM_REPORTS_PER_ADDRESS=1)
def test_only_reports_taken_count(school: School) -> None:
    reporter = from_address("198.51.100.1")
    for _ in range(3):
        assert submit(reporter, school, report_data(narrative="")).status_code == 400
    data = report_data()
    assert submit(reporter, school, data).status_code == 200
    assert submit(reporter, school).status_code == 429


@override_settings(BTAM_REPORTS_PER_ADDRESS=1)
def test_a_resend_at_the_limit_is_told_its_report_was_taken(school: School) -> None:
    """Refreshing the receipt page re-sends the form: that report was taken, so say so."""
    reporter = from_address("198.51.100.1")
    data = report_data()
    assert submit(reporter, school, data).status_code == 200

    response = submit(reporter, school, data)

    assert response.status_code == 200
    assert "We already have this report." in response.content.decode()
    assert Report.objects.count() == 1 and not AuditEvent.objects.filter(verb=Verb.ACCESS_DENIED).exists()


@override_settings(BTAM_REPORTS_PER_ADDRESS=0, BTAM_REPORTS_PER_SCHOOL=0)
def test_zero_turns_the_report_throttles_off(school: School) -> None:
    reporter = from_address("198.51.100.1")
    assert all(submit(reporter, school).status_code == 200 for _ in range(25))
    assert Report.objects.count() == 25


@override_settings(BTAM_REPORTS_PER_ADDRESS=1)
def test_a_cache_that_fails_never_costs_a_report(school: School, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("cache table is gone")

    for name in ("get_many", "add", "incr", "set"):
        monkeypatch.setattr(cache, name, broken)
    reporter = from_address("198.51.100.1")
    assert submit(reporter, school).status_code == 200
    assert submit(reporter, school).status_code == 200
    assert Report.objects.count() == 2


@override_settings(BTAM_REPORTS_PER_ADDRESS=1)
def test_too_many_replies_get_429_with_the_text_kept(school: School) -> None:
    reporter = from_address("198.51.100.1")
    code = receipt_code(submit(reporter, school))
    open_thread(reporter, code)
    assert reporter.post(THREAD, {"body": "First reply."}).status_code == 302

    response = reporter.post(THREAD, {"body": "Second reply, kept."})

    assert response.status_code == 429
    assert "Second reply, kept." in response.content.decode()
    assert ReporterMessage.objects.count() == 1


# The client's address --------------------------------------------------------------------------------------


def address_of(remote: str = "192.0.2.1", forwarded: str | None = None) -> str:
    extra: dict[str, Any] = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return throttle.client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert address_of("192.0.2.1", "203.0.113.5") == "192.0.2.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "10.6.6.6, 203.0.113.5", "203.0.113.5"),  # a client's own entry stays on the left
        (2, "10.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (3, "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # fewer entries than proxies: the first
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_trusted_proxies_take_the_nth_address_from_the_right(proxies: int, forwarded: str, expected: str) -> None:
    with override_settings(BTAM_TRUSTED_PROXY_COUNT=proxies):
        assert address_of("192.0.2.1", forwarded) == expected


def test_ipv6_clients_count_per_64_network_and_mapped_ipv4_as_ipv4() -> None:
    assert address_of("2001:db8:1:2:aaaa::1") == address_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_of("2001:db8:1:3::1") != address_of("2001:db8:1:2::1")
    assert address_of("::ffff:192.0.2.9") == "192.0.2.9"
    assert address_of("") == "unknown"


def test_each_public_form_is_throttled_on_its_own_counter(school: School) -> None:
    """Reports, replies and wrong codes never eat into each other's limits."""
    names = {
        throttle.FOLLOWUP_FAILURES_PER_ADDRESS.name,
        throttle.FOLLOWUP_FAILURES_GLOBAL.name,
        throttle.REPORTS_PER_ADDRESS.name,
        throttle.REPORTS_PER_SCHOOL.name,
        throttle.REPLIES_PER_ADDRESS.name,
    }
    assert len(names) == 5
    assert form_url(school)  # the school's form exists for these limits to apply to


def test_the_audit_trail_takes_the_same_address_behind_trusted_proxies(db: None) -> None:
    from django.http import HttpResponse

    from btam.audit.models import AuditEvent, Verb
    from btam.core.middleware import RequestIdMiddleware
    from btam.lib import request_context

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.6.6.6, 203.0.113.5")
    with override_settings(BTAM_TRUSTED_PROXY_COUNT=1):

        def view(request: Any) -> Any:
            event = AuditEvent.objects.record(actor=None, verb=Verb.VIEWED, target_type="test", target_id="1")
            assert event.ip_address == "203.0.113.5"
            return HttpResponse("ok")

        assert RequestIdMiddleware(view)(request).status_code == 200
    assert request_context.current().ip_address is None
