"""Surge grouping (surge.py): each reason, the 72-hour window, merging, idempotency, abuse, scale."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from btam.accounts.models import Role
from btam.intake import features, surge
from btam.intake.models import Report, SurgeGroup
from btam.intake.tests.triage_helpers import FAST_HASHERS, HookSpy, install_hook_spy, png_attachment, submit
from btam.intake.triage_actions import do_mark_abuse
from btam.people.tests.person_helpers import enrol, person

FIXED_KEY = "surge-test-receipt-key-0123456789abcdef-fixed"

SENTENCE = (
    "Everyone is sharing a message that says a student from the robotics club will bring a gun to the "
    "spring assembly and that nobody should come to school on Thursday"
)
SENTENCE_EDITED = SENTENCE.replace("Thursday", "Wednesday")
UNRELATED = (
    "My friend has been very quiet since her parents split up and yesterday she posted that she does "
    "not want to be here anymore and gave away her favourite hoodie"
)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
    # Signatures and name keys are keyed: a fixed key makes every distance here the same on each run.
    settings.BTAM_RECEIPT_KEY = FIXED_KEY


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    return install_hook_spy(monkeypatch)


def group_of(report: Report) -> SurgeGroup | None:
    return Report.objects.get(pk=report.pk).surge_group


def grouped(*reports: Report) -> None:
    for r in reports:
        surge.assign_group(r)


# The text signature -------------------------------------------------------------------------------------
def test_the_signature_ignores_case_and_punctuation_and_needs_five_words(settings: Any) -> None:
    a = features.simhash(SENTENCE)
    assert a is not None
    assert features.hamming(a, features.simhash(SENTENCE.upper() + "!!!") or 0) == 0
    assert features.simhash("He said he would") is None


def test_one_changed_word_stays_within_the_threshold_and_unrelated_texts_stay_far() -> None:
    """The tuning of TEXT_MAX_DISTANCE, measured on many sentences rather than one."""
    rnd = random.Random(7)
    words = (
        "student teacher said would bring gun knife school bus friday monday class hallway locker phone video "
        "posted message group chat threat hurt everyone scared angry fight after lunch game dance party people "
        "laughed list names kill burn shoot tomorrow week parents police office counselor friend brother"
    ).split()
    within = 0
    sentences = [" ".join(rnd.choice(words) for _ in range(30)) for _ in range(100)]
    for text in sentences:
        edited = text.split()
        edited[rnd.randrange(len(edited))] = "zebra"
        a, b = features.simhash(text), features.simhash(" ".join(edited))
        assert a is not None and b is not None
        within += features.hamming(a, b) <= surge.TEXT_MAX_DISTANCE
    # One word changed in 30 groups most of the time (measured: about 9 in 10)...
    assert within >= 80
    # ...while texts drawn from the same small vocabulary, but different, never come that close.
    signatures = [features.simhash(t) for t in sentences[:60]]
    closest = min(features.hamming(a or 0, b or 0) for a, b in itertools.combinations(signatures, 2))
    assert closest > surge.TEXT_MAX_DISTANCE + 4


# Each reason ----------------------------------------------------------------------------------------------------
def test_reports_naming_the_same_person_group_whatever_the_spelling_of_the_name(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, "Something worrying happened at the bus stop this morning.", names=("Rowan Testperson",))
    b = submit(world.other_school, "A different story about a fight in the gym.", names=("TESTPERSON, Rówan",))
    c = submit(world.school, "An unrelated note about graffiti in the north stairwell.", names=("Someone Else",))
    grouped(a, b, c)
    group = group_of(b)
    assert group is not None and group == group_of(a)
    assert group_of(c) is None
    assert group.reasons == {"person": 2}
    assert Report.objects.get(pk=c.pk).surge_checked_at is not None


def test_reports_naming_the_same_registry_person_group(world: Any, hooks: HookSpy) -> None:
    student = person(world.district, "Avery", "Fictionalson")
    enrol(student, world.school)
    a = submit(world.school, "A teacher heard worrying talk in the library today.", person_ids=(student.pk,))
    b = submit(world.school, "Posts about a list of names are going around.", person_ids=(student.pk,))
    grouped(a, b)
    assert group_of(a) is not None and group_of(a) == group_of(b)


def test_blank_names_never_group(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, "Someone wrote a threat on the bathroom wall upstairs.", names=("  ",))
    b = submit(world.school, "Kids are scared of the older boys at the skate park.", names=("",))
    grouped(a, b)
    assert group_of(a) is None and group_of(b) is None


def test_reports_sharing_a_link_group_even_with_tracking_parameters(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, "Look at this video https://www.video.example/watch/abc123?utm_source=share please")
    b = submit(world.school, "He posted http://video.example/watch/abc123/ last night and it is scary")
    c = submit(world.school, "Another link https://video.example/watch/zzz999 about the dance")
    grouped(a, b, c)
    assert group_of(a) is not None and group_of(a) == group_of(b)
    assert group_of(c) is None
    assert group_of(a).reasons == {"link": 2}  # type: ignore[union-attr]


def test_reports_sharing_an_identical_attachment_group(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, "See the screenshot of the group chat attached here.", files=(png_attachment(),))
    b = submit(world.school, "I am sending a picture of what was posted online.", files=(png_attachment(),))
    c = submit(world.school, "Another picture that has nothing to do with it.", files=(png_attachment((1, 2, 3)),))
    grouped(a, b, c)
    assert group_of(a) is not None and group_of(a) == group_of(b)
    assert group_of(c) is None
    assert group_of(a).reasons == {"attachment": 2}  # type: ignore[union-attr]


def test_very_similar_texts_group_and_unrelated_texts_do_not(world: Any, hooks: HookSpy) -> None:
    a = features.simhash(SENTENCE)
    b = features.simhash(SENTENCE_EDITED)
    assert a is not None and b is not None and features.hamming(a, b) <= surge.TEXT_MAX_DISTANCE

    first = submit(world.school, SENTENCE)
    edited = submit(world.other_school, SENTENCE_EDITED)
    unrelated = submit(world.school, UNRELATED)
    grouped(first, edited, unrelated)
    assert group_of(first) is not None and group_of(first) == group_of(edited)
    assert group_of(first).reasons == {"text": 2}  # type: ignore[union-attr]
    assert group_of(unrelated) is None


# The window, other districts, abuse -------------------------------------------------------------------------------
def test_the_window_is_72_hours_inclusive(world: Any, hooks: HookSpy, clock: Any) -> None:
    start = timezone.now().replace(microsecond=0)
    clock.freeze(start)
    a = submit(world.school, "First note about the parking lot.", names=("Indigo Samplewood",))
    c = submit(world.school, "First note about the soccer field.", names=("Marlow Exampleton",))
    clock.freeze(start + surge.SURGE_WINDOW)
    b = submit(world.school, "Second note about the parking lot.", names=("Indigo Samplewood",))
    clock.freeze(start + surge.SURGE_WINDOW + dt.timedelta(seconds=1))
    d = submit(world.school, "Second note about the soccer field.", names=("Marlow Exampleton",))
    grouped(a, b, c, d)
    assert group_of(a) is not None and group_of(a) == group_of(b)
    assert group_of(c) is None and group_of(d) is None


def test_a_late_grouping_run_still_compares_by_the_reports_own_times(world: Any, hooks: HookSpy, clock: Any) -> None:
    a = submit(world.school, "Note one about the parking lot.", names=("Indigo Samplewood",))
    b = submit(world.school, "Note two about the parking lot.", names=("Indigo Samplewood",))
    clock.advance(hours=100)  # the worker was down for four days
    grouped(a, b)
    assert group_of(a) is not None and group_of(a) == group_of(b)


def test_reports_of_another_district_never_group(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, SENTENCE, names=("Rowan Testperson",))
    b = submit(world.other_district.schools.get(), SENTENCE, names=("Rowan Testperson",))
    grouped(a, b)
    assert group_of(a) is None and group_of(b) is None


def test_abuse_reports_are_not_grouped(world: Any, hooks: HookSpy) -> None:
    member = world.users[Role.TEAM_MEMBER]
    prank = submit(world.school, SENTENCE, names=("Rowan Testperson",), suspected_abuse=True)
    marked = submit(world.school, SENTENCE, names=("Rowan Testperson",))
    do_mark_abuse(actor=member, report=marked, reason="A prank.")
    real = submit(world.school, SENTENCE, names=("Rowan Testperson",))
    grouped(prank, marked, real)
    assert group_of(prank) is None and group_of(marked) is None and group_of(real) is None
    assert SurgeGroup.objects.count() == 0
    assert Report.objects.get(pk=prank.pk).surge_checked_at is not None


# Joining, merging, idempotency --------------------------------------------------------------------------------------
def test_a_report_joins_the_existing_group_and_the_span_follows(world: Any, hooks: HookSpy, clock: Any) -> None:
    a = submit(world.school, "One about the cafeteria.", names=("Rowan Testperson",))
    clock.advance(hours=1)
    b = submit(world.school, "Two about the cafeteria.", names=("Rowan Testperson",))
    grouped(a, b)
    group = group_of(a)
    assert group is not None
    clock.advance(hours=5)
    c = submit(world.school, "Three about the cafeteria.", names=("Rowan Testperson",))
    grouped(c)
    group.refresh_from_db()
    assert group_of(c) == group
    assert SurgeGroup.objects.count() == 1
    assert group.reasons == {"person": 3}
    assert group.first_report_at == Report.objects.get(pk=a.pk).created_at
    assert group.last_report_at == Report.objects.get(pk=c.pk).created_at
    assert [size for _, size in hooks.surges] == [2, 3]


def test_a_report_that_bridges_two_groups_merges_them_into_the_most_recent(
    world: Any, hooks: HookSpy, clock: Any
) -> None:
    link = "https://chat.example/group/88"
    a = submit(world.school, "About the locker room, first.", names=("Rowan Testperson",))
    b = submit(world.school, "About the locker room, second.", names=("Rowan Testperson",))
    grouped(a, b)
    clock.advance(hours=2)
    c = submit(world.school, f"The chat {link} has the threats in it.")
    d = submit(world.school, f"Please look at {link} now.")
    grouped(c, d)
    older, newer = group_of(a), group_of(c)
    assert older is not None and newer is not None and older != newer

    bridge = submit(world.school, f"Rowan is behind {link} I think.", names=("Rowan Testperson",))
    grouped(bridge)

    assert SurgeGroup.objects.count() == 1
    survivor = SurgeGroup.objects.get()
    assert survivor.pk == newer.pk  # the most recent group is kept
    assert {r.pk for r in survivor.reports.all()} == {a.pk, b.pk, c.pk, d.pk, bridge.pk}
    assert survivor.reasons == {"person": 3, "link": 3}
    assert survivor.first_report_at == Report.objects.get(pk=a.pk).created_at


def test_grouping_is_idempotent(world: Any, hooks: HookSpy, django_assert_max_num_queries: Any) -> None:
    a = submit(world.school, "About the parking lot.", names=("Rowan Testperson",))
    b = submit(world.school, "More about the parking lot.", names=("Rowan Testperson",))
    grouped(a, b)
    group = group_of(a)
    assert group is not None
    before = (group.reasons, group.first_report_at, group.last_report_at, Report.objects.get(pk=b.pk).surge_checked_at)
    grouped(a)
    with django_assert_max_num_queries(4):  # savepoint, district lock, report row, release: nothing else
        grouped(b)
    group.refresh_from_db()
    after = (group.reasons, group.first_report_at, group.last_report_at, Report.objects.get(pk=b.pk).surge_checked_at)
    assert before == after
    assert SurgeGroup.objects.count() == 1
    assert len(hooks.surges) == 1


def test_a_report_pulled_into_a_group_is_not_counted_twice_when_its_own_turn_comes(world: Any, hooks: HookSpy) -> None:
    a = submit(world.school, "One about the track.", names=("Rowan Testperson",))
    b = submit(world.school, "Two about the track.", names=("Rowan Testperson",))
    grouped(b)  # b is processed first and pulls a in
    grouped(a)
    group = group_of(a)
    assert group is not None and group == group_of(b)
    assert group.reasons == {"person": 2}


# Through the outbox ---------------------------------------------------------------------------------------------------
def test_the_report_received_handler_groups_the_report(world: Any, hooks: HookSpy) -> None:
    from btam.intake.outbox_handlers import report_received
    from btam.worker.models import OutboxMessage

    a = submit(world.school, "About the parking lot.", names=("Rowan Testperson",))
    b = submit(world.school, "More about the parking lot.", names=("Rowan Testperson",))
    for report in (a, b):
        report_received(OutboxMessage.objects.get(kind="intake.report_received", payload={"report": report.pk}))
    assert group_of(a) is not None and group_of(a) == group_of(b)


# Scale: 200 reports naming one person are one item of the queue ---------------------------------------------------
def test_200_reports_naming_one_person_are_one_item_of_the_queue(world: Any, client: Any, hooks: HookSpy) -> None:
    started = time.monotonic()
    reports = [
        submit(
            world.school if i % 2 else world.other_school,
            f"Report number {i} about the rumour.",
            names=("Rowan Testperson",),
        )
        for i in range(200)
    ]
    for r in reports:
        surge.assign_group(r)
    lone = submit(world.school, "A different matter entirely about the library.", names=("Someone Else",))
    surge.assign_group(lone)
    assert time.monotonic() - started < 30

    assert SurgeGroup.objects.count() == 1
    group = SurgeGroup.objects.get()
    assert group.reports.count() == 200
    assert group.reasons["person"] == 200

    client.force_login(world.users[Role.TEAM_MEMBER])
    response = client.get(reverse("intake:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="surge-group"') == 1
    assert 'data-count="200"' in body
    assert "Group of 200 reports" in body
    assert body.count('data-testid="report-row"') == 1  # the lone report
    assert "2 items." in body


# Two workers at once ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (SELECT FOR UPDATE) need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_grouping_at_once_make_one_group(settings: Any) -> None:
    import threading

    from django.db import connections

    from btam.testing import DistrictFactory, SchoolFactory

    settings.BTAM_RECEIPT_KEY = FIXED_KEY
    school = SchoolFactory.create(district=DistrictFactory.create())
    reports = [submit(school, f"Report {i} about the same rumour.", names=("Rowan Testperson",)) for i in range(6)]
    barrier = threading.Barrier(len(reports))
    errors: list[BaseException] = []

    def work(report: Report) -> None:
        try:
            barrier.wait(timeout=10)
            surge.assign_group(report)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(r,)) for r in reports]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert SurgeGroup.objects.count() == 1
    assert SurgeGroup.objects.get().reports.count() == 6
