"""The teams in the escalation chain: the rapid-response subgroup, the team's leader, the deputy,
and, with the leader away, the deputy reached at once; a real SMTP server receives the email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from btam.accounts.models import Role
from btam.notifications import escalation
from btam.notifications.delivery import report_path
from btam.notifications.models import Escalation, Notification
from btam.notifications.tests.helpers import (
    LOCATION,
    NARRATIVE,
    PERSON_NAME,
    REPORTER_EMAIL,
    REPORTER_NAME,
    Received,
    drain,
    free_port,
    submit,
)
from btam.teams import actions
from btam.teams.tests.conftest import Staff
from btam.testing import make_member
from btam.worker.models import OutboxMessage

Kind = Notification.Kind
TODAY = dt.date(2030, 3, 6)


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Received]:
    """A real SMTP server on a free local port, and Django's SMTP backend pointed at it."""
    received = Received()
    controller = Controller(received, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.BTAM_PUBLIC_BASE_URL = "https://btam.example.test"
    try:
        yield received
    finally:
        controller.stop()


def build_team(staff: Staff) -> None:
    """Leader Lena, deputy Cole, Pia in the rapid-response subgroup, Tara and Sam members."""
    for user, codes in [
        (staff.leader, ["administration"]),
        (staff.counselor, ["counseling"]),
        (staff.teacher, ["instruction"]),
        (staff.sro, ["public_safety"]),
    ]:
        actions.do_add_member(actor=staff.dbm, team=staff.team, user=user, disciplines=codes)
    actions.do_add_member(actor=staff.dbm, team=staff.team, user=staff.psychologist, rapid_response=True)
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.leader, deputy=staff.counselor)


def told(kind: str) -> set[Any]:
    return {n.recipient for n in Notification.objects.filter(kind=kind).select_related("recipient")}


def test_with_the_leader_away_the_deputys_email_arrives_at_a_real_smtp_server(
    staff: Staff, frozen: Any, smtp_server: Received
) -> None:
    build_team(staff)
    actions.do_mark_away(
        actor=staff.leader, district=staff.district, starts_on=TODAY, ends_on=TODAY, backups=[staff.teacher]
    )
    report = submit(staff.school, danger_now=True)
    drain()
    # Step 0: the rapid-response members, the team's subgroup included.
    assert told(Kind.URGENT_REPORT) == {staff.sro, staff.psychologist}
    smtp_server.envelopes.clear()

    frozen.advance(minutes=15)
    drain()

    # Step 1: the leader is away: their backup and, at once, the deputy. Not the leader.
    assert told(Kind.ESCALATION) == {staff.teacher, staff.counselor}
    deputy_item = Notification.objects.get(kind=Kind.ESCALATION, recipient=staff.counselor)
    assert deputy_item.urgent
    assert deputy_item.title == "Urgent report for Lincoln Test High not acknowledged after 15 minutes"
    assert deputy_item.email_outbox is not None and deputy_item.email_outbox.state == OutboxMessage.State.SENT
    esc = Escalation.objects.get()
    assert esc.history[1]["group"] == "team_leader"
    assert set(esc.history[1]["recipients"]) == {staff.teacher.pk, staff.counselor.pk}

    received = {
        rcpt: body for e, body in zip(smtp_server.envelopes, smtp_server.bodies(), strict=True) for rcpt in e.rcpt_tos
    }
    assert set(received) == {staff.counselor.email, staff.teacher.email}
    body = received[staff.counselor.email]
    assert f"open OpenBTAM https://btam.example.test{report_path(report)}" in body
    assert "Urgent report for Lincoln Test High not acknowledged after 15 minutes" in body
    for message in smtp_server.messages():
        whole = message.as_string()
        for secret in (NARRATIVE, "Quillon", PERSON_NAME, LOCATION, REPORTER_NAME, REPORTER_EMAIL, "Lena", "Leader"):
            assert secret not in whole
    assert staff.leader.email not in received

    frozen.advance(minutes=15)
    drain()
    esc.refresh_from_db()
    assert (esc.history[2]["group"], esc.history[2]["outcome"]) == ("deputy", "notified")
    assert esc.history[2]["recipients"] == [staff.counselor.pk]


def test_without_absences_the_leader_is_told_then_the_deputy(staff: Staff, frozen: Any) -> None:
    build_team(staff)
    submit(staff.school, danger_now=True)
    drain()
    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {staff.leader}

    frozen.advance(minutes=15)
    drain()
    assert told(Kind.ESCALATION) == {staff.leader, staff.counselor}
    esc = Escalation.objects.get()
    assert [(h["group"], h["outcome"]) for h in esc.history[:3]] == [
        ("rapid_response", "notified"),
        ("team_leader", "notified"),
        ("deputy", "notified"),
    ]


def test_a_district_wide_leader_who_leads_the_school_team_is_told_at_the_leader_step(staff: Staff) -> None:
    actions.do_add_member(actor=staff.dbm, team=staff.team, user=staff.district_leader)
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=staff.district_leader, deputy=None)
    report = submit(staff.school)

    # Named-on-school leaders (Lena) and the team's own leader (Dale).
    assert set(escalation.team_leaders(report)) == {staff.leader, staff.district_leader}


def test_the_deputy_step_falls_back_to_the_district_teams_deputy(staff: Staff) -> None:
    district_team = actions.do_create_team(actor=staff.dbm, district=staff.district, school=None)
    actions.do_add_member(actor=staff.dbm, team=district_team, user=staff.district_leader)
    district_member = make_member(Role.TEAM_MEMBER, staff.district, full_name="Dina Districtwide")
    actions.do_add_member(actor=staff.dbm, team=district_team, user=district_member)
    actions.do_set_leaders(actor=staff.dbm, team=district_team, leader=staff.district_leader, deputy=district_member)
    report = submit(staff.school)

    assert escalation.deputies(report) == [district_member]

    actions.do_add_member(actor=staff.dbm, team=staff.team, user=staff.counselor)
    actions.do_set_leaders(actor=staff.dbm, team=staff.team, leader=None, deputy=staff.counselor)
    assert escalation.deputies(report) == [staff.counselor]


def test_a_deputy_who_is_not_active_is_skipped(staff: Staff) -> None:
    build_team(staff)
    staff.counselor.is_active = False
    staff.counselor.save(update_fields=["is_active"])
    report = submit(staff.school)

    assert escalation.deputies(report) == []
