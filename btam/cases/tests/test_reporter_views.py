"""The Reporter tab: threads labelled both ways, a plain warning that messages reach the reporter,
replies' files through the case's audited address, writing, and the case's access rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import User
from btam.cases import reporter_actions
from btam.cases.models import Case
from btam.cases.tests.documents_timeline_helpers import (
    close,
    open_case,
    png_bytes,
    read_only_member,
    report_with_thread,
    school_member,
    team_member,
    upload,
)
from btam.intake.actions import do_post_reporter_message
from btam.intake.attachments import prepare_upload
from btam.intake.models import Attachment, Report, ReporterMessage
from btam.intake.tests.triage_helpers import staff_referral

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(case: Case) -> str:
    return reverse("cases:reporter", args=[case.pk])


def post_url(case: Case, report: Report) -> str:
    return reverse("cases:message_reporter", args=[case.pk, report.pk])


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field(report: Report) -> str:
    return f"report{report.pk}-body"


def test_the_tab_shows_each_thread_labelled_and_says_plainly_where_messages_go(world: Any) -> None:
    report = report_with_thread(world.school)
    referral = staff_referral(world.school, team_member(world))
    case = open_case(world, reports=(report, referral))
    reporter_actions.do_message_reporter(actor=team_member(world), case=case, report=report, body="Was anyone hurt?")
    prepared = prepare_upload(upload(png_bytes(), "screenshot.png"))
    do_post_reporter_message(report=report, body="No one was hurt.", attachments=[prepared])
    attachment = Attachment.objects.get(report=report)

    html = text_of(client_for(team_member(world)).get(url(case)))

    assert "Messages written here go to the reporter." in html
    assert "never reach the reporter" in html and "Notes tab" in html
    assert f"Report {report.reference}" in html and html.index("Was anyone hurt?") < html.index("No one was hurt.")
    assert "Team → reporter" in html and "Reporter → team" in html
    assert reverse("cases:attachment_download", args=[case.pk, attachment.pk]) in html
    assert reverse("intake:attachment", args=[attachment.pk]) not in html
    assert "1 report of this case has no reporter thread" in html
    assert f"Send to the reporter of {report.reference}" in html
    assert f"Report {referral.reference}" not in html


def test_opening_the_tab_marks_the_reporters_messages_read_and_shows_them_as_new_once(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    reply = do_post_reporter_message(report=report, body="One more thing.")
    client = client_for(team_member(world))

    assert ">New<" in client.get(url(case)).content.decode()
    reply.refresh_from_db()
    assert reply.read_at is not None
    assert ">New<" not in client.get(url(case)).content.decode()


def test_a_read_only_school_reads_without_marking_read_or_writing(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    reply = do_post_reporter_message(report=report, body="One more thing.")
    client = client_for(read_only_member(world, case))

    html = text_of(client.get(url(case)))
    assert "One more thing." in html and "Send to the reporter" not in html
    assert "read only: you cannot write to the reporter" in html
    reply.refresh_from_db()
    assert reply.read_at is None
    assert client.post(post_url(case, report), {field(report): "Hello"}).status_code == 403
    assert ReporterMessage.objects.count() == 1


def test_writing_to_the_reporter_through_the_page(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    response = client_for(team_member(world)).post(post_url(case, report), {field(report): "Thank you for telling us."})
    assert response.status_code == 302 and response["Location"] == f"{url(case)}#report-{report.pk}"
    message = ReporterMessage.objects.get(report=report)
    assert message.body == "Thank you for telling us." and message.author == team_member(world)


def test_a_100000_character_message_is_refused_with_a_message(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    response = client_for(team_member(world)).post(post_url(case, report), {field(report): "x" * 100_000})
    assert response.status_code == 400
    html = text_of(response)
    assert "The message is too long: at most 10000 characters (it has 100000)." in html
    assert "The message was not sent." in html
    assert not ReporterMessage.objects.exists()


def test_an_empty_message_keeps_nothing_and_says_so(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    response = client_for(team_member(world)).post(post_url(case, report), {field(report): "   "})
    assert response.status_code == 400 and "Write a message." in text_of(response)


def test_html_in_a_message_is_escaped_and_kept_after_an_error(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    close(case, world)
    body = "<script>alert(1)</script>"
    response = client_for(team_member(world)).post(post_url(case, report), {field(report): body})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This case is closed. Reopen it to change it." in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not ReporterMessage.objects.exists()


def test_a_closed_case_shows_no_form(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    close(case, world)
    html = text_of(client_for(team_member(world)).get(url(case)))
    assert "Send to the reporter" not in html and "reopen it to write to a reporter" in html


def test_a_report_not_on_the_case_is_a_404(world: Any) -> None:
    case = open_case(world, reports=(report_with_thread(world.school),))
    elsewhere = report_with_thread(world.school)
    client = client_for(team_member(world))
    assert client.post(post_url(case, elsewhere), {field(elsewhere): "Hello"}).status_code == 404
    assert not ReporterMessage.objects.exists()


@pytest.mark.parametrize("who", ["other_school", "outsider"])
def test_people_who_cannot_see_the_case_get_404_whatever_the_method(world: Any, who: str) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    user = school_member(world, world.other_school) if who == "other_school" else world.outsider
    client = client_for(user)
    assert client.get(url(case)).status_code == 404
    assert client.post(post_url(case, report), {field(report): "Hello"}).status_code == 404
    assert client.get(post_url(case, report)).status_code == 404
    assert not ReporterMessage.objects.exists()


def test_a_get_of_the_message_address_is_not_allowed(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    assert client_for(team_member(world)).get(post_url(case, report)).status_code == 405
