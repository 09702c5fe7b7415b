"""load_demo adds one held case conference (minutes, attendance, decisions that became tasks) and
one upcoming conference on open demo cases, through the real actions, once."""

from __future__ import annotations

import pytest

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases.demo import load_demo_cases
from btam.core.demo import DEMO_DOMAIN, load_demo_district, load_demo_roster
from btam.intake.demo import load_demo_reports
from btam.lib import clock
from btam.meetings.demo import load_demo_meetings
from btam.meetings.models import Meeting, MeetingDecision
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_conferences_are_loaded_once_through_the_actions(settings_for_demo: None) -> None:
    clock.freeze(clock.now().replace(microsecond=0))
    now = clock.now()
    try:
        # What the conferences need of load_demo (the district, its roster, reports and cases).
        district, _created = load_demo_district()
        load_demo_roster(district, students=60)
        load_demo_reports(district)
        load_demo_cases(district)
        assert load_demo_meetings(district) == 2
        assert clock.now() == now  # put back
    finally:
        clock.reset()

    held = Meeting.objects.get(district=district, state=Meeting.State.HELD)
    assert held.minutes and held.outside_participants and held.starts_at < held.recorded_at < now  # type: ignore[operator]
    assert set(held.invitees.values_list("attendance", flat=True)) == {"present", "excused"}
    decisions = list(MeetingDecision.objects.filter(meeting=held).select_related("task"))
    assert len(decisions) == 2
    assert all(d.task is not None and d.task.case_id == held.case_id and d.task.assignee_id for d in decisions)

    upcoming = Meeting.objects.get(district=district, state=Meeting.State.SCHEDULED)
    assert upcoming.starts_at > now and upcoming.invitees.count() == 3
    counselor = User.objects.get(email=f"counselor@{DEMO_DOMAIN}")
    assert Notification.objects.filter(recipient=counselor, kind=Notification.Kind.MEETING_SCHEDULED).count() == 2
    for meeting in (held, upcoming):
        case = meeting.case
        assert case.opened_at < meeting.created_at <= case.updated_at <= now
        assert AuditEvent.objects.filter(
            verb=Verb.CREATED, target_type="meetings.meeting", target_id=str(meeting.pk)
        ).exists()

    counts = (Meeting.objects.count(), Notification.objects.count())
    assert load_demo_meetings(district) == 0
    assert (Meeting.objects.count(), Notification.objects.count()) == counts
