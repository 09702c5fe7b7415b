"""Follow-up with the receipt code: the code form, the thread, replies, signing out, and that no
report or message is reachable without its receipt code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.intake import public_views
from btam.intake.actions import do_post_team_message
from btam.intake.models import Attachment, Report, ReporterMessage
from btam.intake.tests.public_helpers import (
    csrf_token,
    isolated,
    jpeg,
    make_school,
    open_thread,
    receipt_code,
    report_data,
    submit,
)
from btam.orgs.models import School
from btam.testing import make_member

pytestmark = pytest.mark.django_db

THREAD = reverse("report:followup_thread")
FOLLOWUP = reverse("report:followup")
GENERIC = "We could not find a report with that code. Check the code and try again."


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Iterator[None]:
    with isolated(tmp_path):
        yield


@pytest.fixture
def school() -> School:
    return make_school()


@pytest.fixture
def staff(school: School) -> User:
    return make_member(Role.TEAM_MEMBER, school.district, full_name="Dana Test-Leader")


def sent(client: Client, school: School, **data: Any) -> tuple[Report, str]:
    """Send a report through the form, as a reporter would: (the report, its receipt code)."""
    code = receipt_code(submit(client, school, report_data(**data)))
    return Report.objects.latest("pk"), code


def has_thread(client: Client) -> bool:
    return public_views.SESSION_KEY in client.session


# The whole journey -------------------------------------------------------------------------------------------


def test_report_then_follow_up_with_the_code_read_the_team_and_reply_with_a_file(school: School, staff: User) -> None:
    reporter = Client()
    report, code = sent(reporter, school, attachments=[jpeg()])
    do_post_team_message(actor=staff, report=report, body="Thank you. Was this in the morning or afternoon?")

    typed = code.lower().replace("-", "")
    response = open_thread(reporter, typed)

    assert response.status_code == 302 and response["Location"] == THREAD
    page = reporter.get(THREAD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Received: your report has reached the school&#x27;s team." in html
    assert "Was this in the morning or afternoon?" in html and "School team" in html
    assert "Dana Test-Leader" not in html and staff.email not in html
    assert ">New<" in html
    assert ReporterMessage.objects.get(direction="from_team").read_at is not None  # shown, so read

    reply = reporter.post(THREAD, {"body": "In the afternoon, after lunch.", "attachments": [jpeg(name="chat.jpg")]})

    assert reply.status_code == 302 and reply["Location"] == THREAD
    message = ReporterMessage.objects.get(direction="from_reporter")
    assert message.body == "In the afternoon, after lunch." and message.report == report
    attachment = Attachment.objects.get(message=message)
    assert attachment.report == report and attachment.original_name == "chat.jpg"
    after = reporter.get(THREAD).content.decode()
    assert "Your message was sent to the school team." in after
    assert after.index("Was this in the morning") < after.index("In the afternoon, after lunch.")
    assert "1 file attached" in after
    assert ">New<" not in after  # the team's message was read the first time


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda c: c, id="as shown"),
        pytest.param(lambda c: c.lower(), id="lowercase"),
        pytest.param(lambda c: c.replace("-", ""), id="no dashes"),
        pytest.param(lambda c: " " + c.replace("-", " ").lower() + " ", id="spaces"),
        pytest.param(lambda c: c.replace("0", "O").replace("1", "l"), id="look-alike letters"),
    ],
)
def test_the_code_may_be_typed_loosely(client: Client, school: School, transform: Any) -> None:
    _report, code = sent(client, school)
    assert open_thread(client, transform(code))["Location"] == THREAD


def test_opening_the_thread_is_audited_without_an_address_and_renews_the_session(
    client: Client, school: School
) -> None:
    report, code = sent(client, school)
    client.get(FOLLOWUP)
    before = client.session.session_key

    open_thread(client, code)

    assert client.session.session_key != before  # no session fixation
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_type="intake.report", target_id=str(report.pk))
    assert event.ip_address is None and event.actor is None
    stored = dict(client.session[public_views.SESSION_KEY])
    assert stored["report"] == report.pk
    assert code not in str(stored) and code.replace("-", "") not in str(stored)


def test_the_status_is_in_plain_words_and_nothing_of_the_case_is_shown(
    client: Client, school: School, staff: User
) -> None:
    report, code = sent(client, school, reporter_name="Alex Testreporter", person_1_name="Jordan Testperson")
    open_thread(client, code)
    shown = {
        Report.Status.ACKNOWLEDGED: "Being looked at: the team is working on it.",
        Report.Status.CASE_OPENED: "Being looked at: the team is working on it.",
        Report.Status.SCREENED_OUT: "Closed: the team has finished with this report.",
        Report.Status.DUPLICATE: "Closed: the team has finished with this report.",
    }
    for status, words in shown.items():
        Report.objects.filter(pk=report.pk).update(status=status)
        html = client.get(THREAD).content.decode()
        assert words in html
        for private in ("Jordan Testperson", "A student in my class", "R-", "Case opened", "Screened out"):
            assert private not in html


# Wrong codes ------------------------------------------------------------------------------------------------


def error_text(response: Any) -> str:
    match = re.search(r'<div class="usa-error-message" id="id_code_errors">(.*?)</div>', response.content.decode())
    assert match, "no error message for the code"
    return match.group(1)


def test_malformed_and_unknown_codes_get_the_same_single_message(client: Client, school: School) -> None:
    sent(client, school)
    malformed = client.post(FOLLOWUP, {"code": "hello"})
    unknown = client.post(FOLLOWUP, {"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    assert malformed.status_code == unknown.status_code == 400
    assert error_text(malformed) == error_text(unknown) == GENERIC
    assert not has_thread(client)


def test_a_code_in_the_query_string_is_ignored(client: Client, school: School) -> None:
    _report, code = sent(client, school)
    response = client.get(FOLLOWUP, {"code": code})
    assert response.status_code == 200 and not has_thread(client)
    assert client.get(THREAD)["Location"] == FOLLOWUP


def test_no_public_url_takes_anything_that_names_a_report() -> None:
    public = [p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "report"]
    assert len(public) == 1
    arguments: set[str] = set()
    for pattern in public[0].url_patterns:
        assert isinstance(pattern, URLPattern)
        arguments |= set(pattern.pattern.converters)
    assert arguments == {"school_slug", "district_slug"}


def test_ids_guessable_values_and_email_addresses_open_nothing(client: Client, school: School) -> None:
    report, code = sent(client, school, notify_email="alex@example.test", reporter_contact="555-0100")
    guesses = [
        str(report.pk),
        f"R-{report.pk}",
        f"{report.pk:016d}",
        "0000-0000-0000-0001",
        "AAAA-AAAA-AAAA-AAAA",
        "alex@example.test",
        "555-0100",
        report.receipt_hash or "",
        (report.receipt_hash or "")[:16],
        code[:-1] + ("0" if code[-1] != "0" else "1"),  # one character off
    ]
    for guess in guesses:
        response = client.post(FOLLOWUP, {"code": guess})
        assert response.status_code == 400, guess
        assert error_text(response) == GENERIC
        assert not has_thread(client)
    assert client.get(THREAD)["Location"] == FOLLOWUP


def test_without_a_proven_code_the_thread_sends_you_to_the_code_form(client: Client, school: School) -> None:
    sent(client, school)
    assert client.get(THREAD)["Location"] == FOLLOWUP
    response = client.post(THREAD, {"body": "hello"})
    assert response.status_code == 403 and "Your message was not sent" in response.content.decode()
    assert not ReporterMessage.objects.exists()


def test_the_session_of_one_report_never_opens_another(client: Client, school: School, staff: User) -> None:
    first, first_code = sent(client, school)
    second, _second_code = sent(client, school)
    do_post_team_message(actor=staff, report=first, body="Question about the first report.")
    do_post_team_message(actor=staff, report=second, body="Question about the second report.")

    open_thread(client, first_code)
    html = client.get(THREAD).content.decode()
    assert "first report" in html and "second report" not in html

    # Pointing the session at the other report (as if its store were tampered with) opens nothing.
    session = client.session
    session[public_views.SESSION_KEY] = {**session[public_views.SESSION_KEY], "report": second.pk}
    session.save()
    assert client.get(THREAD)["Location"] == FOLLOWUP
    assert not has_thread(client)


@pytest.mark.parametrize("value", ["1", {"report": "1"}, {"report": 1, "binding": 5, "seen": 0}, ["x"]])
def test_a_malformed_session_value_opens_nothing(client: Client, school: School, value: Any) -> None:
    sent(client, school)
    session = client.session
    session[public_views.SESSION_KEY] = value
    session.save()
    assert client.get(THREAD)["Location"] == FOLLOWUP


def test_a_report_without_a_receipt_has_no_thread(client: Client, school: School) -> None:
    report, code = sent(client, school)
    open_thread(client, code)
    Report.objects.filter(pk=report.pk).update(receipt_hash=None)
    assert client.get(THREAD)["Location"] == FOLLOWUP


# The session ------------------------------------------------------------------------------------------------


def test_the_thread_closes_after_thirty_minutes_without_activity(client: Client, school: School, clock: Any) -> None:
    _report, code = sent(client, school)
    open_thread(client, code)
    clock.advance(minutes=20)
    assert client.get(THREAD).status_code == 200  # activity renews it
    clock.advance(minutes=20)
    assert client.get(THREAD).status_code == 200
    clock.advance(minutes=31)

    response = client.get(THREAD)

    assert response["Location"] == FOLLOWUP
    assert "signed out after 30 minutes without activity" in client.get(FOLLOWUP).content.decode()
    assert not has_thread(client)


def test_a_reply_after_the_thread_closed_gives_its_text_back(client: Client, school: School, clock: Any) -> None:
    _report, code = sent(client, school)
    open_thread(client, code)
    clock.advance(minutes=45)

    response = client.post(THREAD, {"body": "Something I forgot: it was near the gym.", "attachments": [jpeg()]})

    assert response.status_code == 403
    html = response.content.decode()
    assert "Your message was not sent" in html and "signed out after 30 minutes" in html
    assert "Something I forgot: it was near the gym." in html and "Choose your files again too." in html
    assert not ReporterMessage.objects.exists()


def test_signing_out_closes_the_thread(client: Client, school: School) -> None:
    _report, code = sent(client, school)
    open_thread(client, code)

    response = client.post(reverse("report:followup_sign_out"))

    assert response["Location"] == FOLLOWUP
    assert not has_thread(client)
    assert client.get(THREAD)["Location"] == FOLLOWUP
    assert "You are signed out of the report." in client.get(FOLLOWUP).content.decode()
    assert client.get(reverse("report:followup_sign_out")).status_code == 405


def test_the_code_form_offers_the_way_back_to_an_open_thread(client: Client, school: School) -> None:
    _report, code = sent(client, school)
    open_thread(client, code)
    assert f'href="{THREAD}"' in client.get(FOLLOWUP).content.decode()


# Replies ----------------------------------------------------------------------------------------------------


@pytest.fixture
def in_thread(client: Client, school: School) -> Report:
    report, code = sent(client, school)
    open_thread(client, code)
    return report


def test_an_empty_reply_is_refused(client: Client, in_thread: Report) -> None:
    response = client.post(THREAD, {"body": "   "})
    assert response.status_code == 400
    assert "Write a message or attach a file." in response.content.decode()
    assert not ReporterMessage.objects.exists()


def test_a_reply_with_only_a_file_is_sent(client: Client, in_thread: Report) -> None:
    assert client.post(THREAD, {"body": "", "attachments": [jpeg()]}).status_code == 302
    message = ReporterMessage.objects.get()
    assert message.body == "" and message.attachments.count() == 1


def test_a_reply_with_a_bad_file_names_it_and_keeps_the_text(client: Client, in_thread: Report) -> None:
    bad = SimpleUploadedFile("evil.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    response = client.post(THREAD, {"body": "See this.", "attachments": [bad]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "&quot;evil.jpg&quot; is not a photo or PDF we can accept." in html and "See this." in html
    assert "the files you chose were not kept" in html
    assert not ReporterMessage.objects.exists() and not Attachment.objects.exists()


def test_a_reply_with_too_many_files_names_the_limit(client: Client, in_thread: Report) -> None:
    response = client.post(THREAD, {"body": "x", "attachments": [jpeg(name=f"{i}.jpg") for i in range(6)]})
    assert response.status_code == 400
    assert "You can attach up to 5 files. You chose 6 files: choose again." in response.content.decode()


def test_a_reply_that_is_too_long_is_refused(client: Client, in_thread: Report) -> None:
    response = client.post(THREAD, {"body": "y" * 10_001})
    assert response.status_code == 400
    assert "at most 10000 characters (you wrote 10001)" in response.content.decode()


def test_the_reply_form_needs_its_csrf_token(school: School) -> None:
    client = Client(enforce_csrf_checks=True)
    _report, code = sent(Client(), school)
    token = csrf_token(client.get(FOLLOWUP).content.decode())
    assert client.post(FOLLOWUP, {"code": code}).status_code == 403
    assert client.post(FOLLOWUP, {"code": code, "csrfmiddlewaretoken": token})["Location"] == THREAD
    assert client.post(THREAD, {"body": "hi"}).status_code == 403
    token = csrf_token(client.get(THREAD).content.decode())
    assert client.post(THREAD, {"body": "hi", "csrfmiddlewaretoken": token}).status_code == 302


def test_the_thread_is_never_cached(client: Client, in_thread: Report) -> None:
    response = client.get(THREAD)
    assert "no-store" in response["Cache-Control"]
