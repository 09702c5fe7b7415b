"""Marking oneself away, and urgent notifications going to the backups meanwhile."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from btam.accounts.models import Membership
from btam.notifications.delivery import notify
from btam.notifications.models import Notification
from btam.teams import actions
from btam.teams.actions import TeamError
from btam.teams.availability import away_today, route_urgent
from btam.teams.models import Absence
from btam.teams.tests.conftest import Staff

TODAY = dt.date(2030, 3, 6)


def away(staff: Staff, user: Any, start: dt.date, end: dt.date, *backups: Any) -> Absence:
    return actions.do_mark_away(
        actor=user, district=staff.district, starts_on=start, ends_on=end, backups=list(backups)
    )


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def urgent(staff: Staff, people: list[Any], scope: str = "test:1") -> list[Notification]:
    return notify(
        recipients=people,
        district_id=staff.district.pk,
        kind=Notification.Kind.URGENT_REPORT,
        title="A new urgent report for Lincoln Test High needs attention",
        link="/intake/",
        target=None,
        urgent=True,
        dedupe_scope=scope,
        email=True,
    )


def test_someone_away_today_is_replaced_by_their_backup(staff: Staff) -> None:
    away(staff, staff.leader, days(-1), days(3), staff.counselor)

    assert route_urgent([staff.leader, staff.sro], staff.district.pk) == [staff.counselor, staff.sro]


def test_the_urgent_notification_reaches_the_backup_with_the_same_generic_title(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, TODAY, staff.counselor)

    items = urgent(staff, [staff.leader])

    assert [i.recipient for i in items] == [staff.counselor]
    assert items[0].title == "A new urgent report for Lincoln Test High needs attention"
    assert not Notification.objects.filter(recipient=staff.leader, kind=Notification.Kind.URGENT_REPORT).exists()


def test_someone_whose_backups_are_all_away_too_still_gets_it(staff: Staff) -> None:
    away(staff, staff.leader, days(-1), days(3), staff.counselor)
    away(staff, staff.counselor, TODAY, days(1), staff.teacher)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.leader]
    assert [i.recipient for i in urgent(staff, [staff.leader])] == [staff.leader]


def test_only_the_available_backups_are_told(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, days(2), staff.counselor, staff.teacher)
    away(staff, staff.counselor, TODAY, days(1), staff.sro)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.teacher]


def test_an_absence_last_week_changes_nothing(staff: Staff, frozen: Any) -> None:
    frozen.advance(days=-10)
    away(staff, staff.leader, TODAY - dt.timedelta(days=10), TODAY - dt.timedelta(days=7), staff.counselor)
    frozen.advance(days=10)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.leader]
    assert away_today([staff.leader.pk], staff.district.pk) == set()


def test_a_planned_absence_starts_on_its_day(staff: Staff, frozen: Any) -> None:
    away(staff, staff.leader, days(2), days(4), staff.counselor)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.leader]
    frozen.advance(days=2)
    assert route_urgent([staff.leader], staff.district.pk) == [staff.counselor]


def test_ending_an_absence_early_brings_the_notifications_back(staff: Staff) -> None:
    absence = away(staff, staff.leader, TODAY, days(4), staff.counselor)

    actions.do_end_absence(actor=staff.leader, absence=absence)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.leader]
    with pytest.raises(TeamError, match="already over"):
        actions.do_end_absence(actor=staff.leader, absence=absence)


def test_nobody_ends_someone_elses_absence(staff: Staff) -> None:
    absence = away(staff, staff.leader, TODAY, days(4), staff.counselor)

    with pytest.raises(PermissionDenied):
        actions.do_end_absence(actor=staff.counselor, absence=absence)


def test_a_backup_who_lost_their_case_role_is_passed_over(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, days(4), staff.counselor)
    Membership.objects.filter(user=staff.counselor).update(is_active=False)

    assert route_urgent([staff.leader], staff.district.pk) == [staff.leader]


def test_non_urgent_notifications_are_not_rerouted(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, days(4), staff.counselor)

    items = notify(
        recipients=[staff.leader],
        district_id=staff.district.pk,
        kind=Notification.Kind.TASK_ASSIGNED,
        title="A task was assigned to you",
        link="/cases/",
        target=None,
        urgent=False,
        dedupe_scope="test:task",
        email=False,
    )

    assert [i.recipient for i in items] == [staff.leader]


def test_backups_are_told_without_names(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, days(4), staff.counselor)

    notice = Notification.objects.get(recipient=staff.counselor, kind=Notification.Kind.COVERING)
    assert "Lena" not in notice.title and "Leader" not in notice.title
    assert notice.link == "/teams/away/"


# Bad dates and backups -------------------------------------------------------------------------------


def test_the_last_day_cannot_be_before_the_first(staff: Staff) -> None:
    with pytest.raises(TeamError, match="cannot be before the first"):
        away(staff, staff.leader, days(3), days(1), staff.counselor)


def test_an_absence_wholly_in_the_past_is_refused(staff: Staff) -> None:
    with pytest.raises(TeamError, match="These dates are over"):
        away(staff, staff.leader, days(-5), days(-1), staff.counselor)


def test_an_absence_longer_than_a_year_is_refused(staff: Staff) -> None:
    with pytest.raises(TeamError, match="at most a year"):
        away(staff, staff.leader, TODAY, days(400), staff.counselor)


def test_at_least_one_backup_is_needed(staff: Staff) -> None:
    with pytest.raises(TeamError, match="at least one backup"):
        away(staff, staff.leader, TODAY, days(1))


def test_a_backup_whose_access_does_not_cover_the_schools_is_refused(staff: Staff) -> None:
    with pytest.raises(TeamError, match="does not cover all of your schools"):
        away(staff, staff.leader, TODAY, days(1), staff.other_school_member)
    with pytest.raises(TeamError, match="does not cover all of your schools"):
        away(staff, staff.leader, TODAY, days(1), staff.referring)
    # A district-wide case role covers every school; a school's member does not cover the district.
    away(staff, staff.leader, TODAY, days(1), staff.district_leader)
    with pytest.raises(TeamError, match="does not cover all of your schools"):
        away(staff, staff.district_leader, TODAY, days(1), staff.counselor)


def test_overlapping_absences_are_refused(staff: Staff) -> None:
    away(staff, staff.leader, TODAY, days(5), staff.counselor)

    with pytest.raises(TeamError, match="already marked away"):
        away(staff, staff.leader, days(3), days(8), staff.counselor)
    assert Absence.objects.filter(user=staff.leader).count() == 1


def test_only_case_roles_mark_themselves_away(staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        away(staff, staff.referring, TODAY, days(1), staff.counselor)
