"""Referrals and surges: the team leaders concerned get an inbox item, once per event."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from btam.intake.models import Report, SurgeGroup, TriageDecision
from btam.notifications import intake_hooks
from btam.notifications.models import Notification
from btam.notifications.tests.helpers import T0, Team, drain, submit

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def told(kind: str) -> list[Any]:
    return sorted((n.recipient for n in Notification.objects.filter(kind=kind)), key=lambda u: u.pk)


def by_pk(*users: Any) -> list[Any]:
    return sorted(users, key=lambda u: u.pk)


def refer(team: Team, report: Report, school: Any) -> Report:
    TriageDecision.objects.create(
        report=report,
        kind=TriageDecision.Kind.REFER,
        actor=team.leader_named,
        detail={"school": school.pk},
        created_at=T0,
    )
    Report.objects.filter(pk=report.pk).update(school=school, referred_from=report.school)
    report.refresh_from_db()
    return report


def test_a_referral_tells_the_receiving_schools_leaders_once(team: Team) -> None:
    report = submit(team.school)
    drain()
    report = refer(team, report, team.other_school)
    intake_hooks.report_referred(report)
    intake_hooks.report_referred(report)  # called again for the same referral
    assert told(Kind.REFERRAL) == by_pk(team.leader_other_school, team.leader_wide)
    item = Notification.objects.filter(kind=Kind.REFERRAL).first()
    assert item is not None
    assert item.title == "A report was referred to Maple Test Middle"
    assert not item.urgent and item.email_outbox is None
    # Referred back: the first school's leaders are told.
    report = refer(team, report, team.school)
    intake_hooks.report_referred(report)
    assert Notification.objects.filter(kind=Kind.REFERRAL, recipient=team.leader_named).count() == 1
    assert Notification.objects.filter(kind=Kind.REFERRAL, recipient=team.leader_wide).count() == 2


@pytest.mark.parametrize(
    ("count", "size"),
    [(0, None), (1, None), (2, 2), (4, 2), (5, 5), (9, 5), (10, 10), (999, 500), (1000, 1000), (2500, 2000)],
)
def test_surge_notice_sizes(count: int, size: int | None) -> None:
    assert intake_hooks.surge_notice_size(count) == size


def test_a_growing_surge_tells_the_leaders_at_each_size_not_each_report(team: Team) -> None:
    group = SurgeGroup.objects.create(district=team.district, first_report_at=T0, last_report_at=T0, created_at=T0)

    def add(school: Any) -> None:
        report = submit(school, narrative=f"Synthetic narrative {Report.objects.count()}")
        Report.objects.filter(pk=report.pk).update(surge_group=group)
        intake_hooks.surge_grown(group)

    add(team.school)
    assert not told(Kind.SURGE)
    add(team.other_school)
    # District-wide leaders, and the leaders of the schools whose reports are in the group.
    assert told(Kind.SURGE) == by_pk(team.leader_named, team.leader_wide, team.leader_other_school)
    first = Notification.objects.filter(kind=Kind.SURGE).first()
    assert first is not None
    assert first.title == "At least 2 reports may be about the same thing"
    assert first.link == reverse("intake:surge_group", args=[group.pk])
    assert (first.target_type, first.target_id) == ("intake.surgegroup", str(group.pk))
    add(team.school)
    add(team.school)
    assert Notification.objects.filter(kind=Kind.SURGE).count() == 3
    add(team.school)
    assert Notification.objects.filter(kind=Kind.SURGE).count() == 6
    assert Notification.objects.filter(kind=Kind.SURGE, title__startswith="At least 5 ").count() == 3


def test_titles_are_written_in_the_site_language_whoever_triggers_them(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import translation

    languages: list[str | None] = []

    def spy(**kwargs: Any) -> list[Notification]:
        languages.append(translation.get_language())
        return []

    monkeypatch.setattr(intake_hooks, "notify", spy)
    report = submit(team.school)
    with translation.override("es"):  # a Spanish-speaking colleague's request
        intake_hooks.report_received(report)
        intake_hooks.report_referred(report)
        assert translation.get_language() == "es"
    assert languages == ["en", "en"]
