"""The public report pages: choosing the school, the form, the receipt, the receipt download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake import receipt
from btam.intake.actions import find_report_by_code
from btam.intake.models import Attachment, InvolvedPerson, Report, ReporterRole, Urgency
from btam.intake.tests.public_helpers import (
    NARRATIVE,
    csrf_token,
    form_url,
    isolated,
    jpeg,
    make_school,
    receipt_code,
    report_data,
    submit,
)
from btam.orgs.models import School
from btam.testing import DistrictFactory, SchoolFactory, make_member
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Iterator[None]:
    with isolated(tmp_path):
        yield


@pytest.fixture
def school() -> School:
    return make_school()


def main(response: Any) -> str:
    html: str = response.content.decode()
    return html[html.index('<main id="main-content"') :]


# Choosing the school ----------------------------------------------------------------------------------


def test_the_chooser_lists_active_schools_by_district_after_the_emergency_box(client: Client) -> None:
    cedar = DistrictFactory.create(name="Cedar Test District (fictitious)")
    SchoolFactory.create(district=cedar, name="North Test High")
    SchoolFactory.create(district=cedar, name="Closed Test Middle", is_active=False)
    other = DistrictFactory.create(name="Other Test District (fictitious)")
    SchoolFactory.create(district=other, name="Elsewhere High")

    response = client.get(reverse("report:choose_school"))

    assert response.status_code == 200
    html = main(response)
    assert html.index("Call 911") < html.index("Choose your school")
    assert "North Test High" in html and "Elsewhere High" in html
    assert "Closed Test Middle" not in html
    assert html.index("Cedar Test District") < html.index("North Test High") < html.index("Other Test District")


def test_the_chooser_narrows_the_list_without_javascript(client: Client) -> None:
    district = DistrictFactory.create()
    SchoolFactory.create(district=district, name="North Test High")
    SchoolFactory.create(district=district, name="South Test Middle")

    html = main(client.get(reverse("report:choose_school"), {"q": "north"}))

    assert "North Test High" in html and "South Test Middle" not in html
    assert "No school matches" in main(client.get(reverse("report:choose_school"), {"q": "zzz"}))


def test_a_short_school_link_opens_the_form_when_one_active_school_has_it(client: Client) -> None:
    school = make_school(slug="north-high")
    SchoolFactory.create(slug="north-high", is_active=False)  # an inactive namesake does not count

    response = client.get(reverse("report:school", args=["north-high"]))

    assert response.status_code == 200
    assert "Report a safety concern" in response.content.decode()
    # The form posts to the district's own address, which stays right if a namesake appears later.
    assert f'action="{form_url(school)}"' in response.content.decode()


def test_a_short_link_shared_by_two_districts_offers_a_choice(client: Client) -> None:
    first = make_school(slug="lincoln")
    second = SchoolFactory.create(slug="lincoln", name="Lincoln Test Elementary")

    response = client.get(reverse("report:school", args=["lincoln"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "More than one school uses this link" in html
    assert f'href="{form_url(first)}"' in html and f'href="{form_url(second)}"' in html
    assert "Call 911" in html


@pytest.mark.parametrize("path", ["/report/no-such-school/", "/report/no-such-district/no-such-school/"])
def test_an_unknown_school_gets_a_helpful_404(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find this school" in html and "Call 911" in html
    assert reverse("report:choose_school") in html


def test_an_inactive_school_takes_no_reports(client: Client) -> None:
    school = make_school(is_active=False)
    assert client.get(form_url(school)).status_code == 404
    assert submit(client, school).status_code == 404
    assert not Report.objects.exists()


# The form -------------------------------------------------------------------------------------------


def test_the_form_starts_with_911_and_the_districts_crisis_line_as_tel_links(client: Client) -> None:
    school = make_school(crisis_line="1-800-555-0199 (call or text)")

    html = main(client.get(form_url(school)))

    assert html.index('href="tel:911"') < html.index("<form")
    assert 'href="tel:18005550199"' in html and "1-800-555-0199 (call or text)" in html
    assert html.index("Is someone in danger right now?") < html.index("What happened?")


@override_settings(BTAM_CRISIS_LINE="988")
def test_without_a_district_crisis_line_the_sites_is_shown(client: Client) -> None:
    school = make_school(crisis_line="")
    html = main(client.get(form_url(school)))
    assert 'href="tel:988"' in html


def test_anonymous_is_the_default_and_the_page_says_what_it_means(client: Client, school: School) -> None:
    html = main(client.get(form_url(school)))
    assert "You can stay anonymous" in html
    assert "the school team will not know who sent it" in html
    assert re.search(r'value="unsaid"\s+checked', html)  # "Prefer not to say" is chosen
    assert re.search(r'name="reporter_name"[^>]*>', html) and 'name="reporter_name" value' not in html


def test_the_form_has_labels_fieldsets_and_limits_in_the_markup(client: Client, school: School) -> None:
    html = main(client.get(form_url(school)))
    assert 'maxlength="20000"' in html and 'enctype="multipart/form-data"' in html
    assert re.search(r'<input type="file" name="attachments" multiple accept="image/jpeg,[^"]*application/pdf', html)
    for field in ("narrative", "location", "occurred", "threat_date", "person_1_name", "notify_email"):
        assert f'for="id_{field}"' in html
    assert html.count('<fieldset class="usa-fieldset btam-person">') == 3
    assert "<legend" in html
    # The honeypot is out of sight, out of the tab order and hidden from screen readers.
    assert re.search(r'<div class="btam-hp" aria-hidden="true">', html)
    assert re.search(r'<input type="text" name="website" tabindex="-1" autocomplete="off"', html)


def test_a_report_with_a_photo_is_stored_and_the_receipt_shown_once(client: Client, school: School) -> None:
    data = report_data(
        location="The cafeteria",
        occurred="Yesterday at lunch",
        how_known="heard",
        danger_now="on",
        self_harm="unknown",
        threat_date="2030-05-14",
        person_1_name="Jordan Testperson",
        person_1_role=InvolvedPerson.Role.SUBJECT,
        person_1_description="Grade 9",
        person_2_name="",
        person_3_description="The new kid on bus 12",
        attachments=[jpeg()],
    )

    response = submit(client, school, data)

    assert response.status_code == 200
    code = receipt_code(response)
    report = Report.objects.get()
    assert find_report_by_code(code) == report and report.receipt_hash == receipt.hash_code(code)
    assert report.school == school and report.narrative == NARRATIVE
    assert report.location == "The cafeteria" and report.occurred == "Yesterday at lunch"
    assert report.how_known == "heard" and report.danger_now and report.weapon == "yes"
    assert report.self_harm == "unknown" and str(report.threat_date) == "2030-05-14"
    assert report.urgency == Urgency.EMERGENCY
    assert report.reporter_role == ReporterRole.UNSAID and report.reporter_name == "" and report.notify_email == ""
    assert not report.is_abuse and report.submitted_by is None
    people = list(report.involved.order_by("pk"))
    assert [(p.name, p.role, p.description) for p in people] == [
        ("Jordan Testperson", "subject", "Grade 9"),
        ("", "unknown", "The new kid on bus 12"),
    ]
    attachment = Attachment.objects.get()
    assert attachment.report == report and attachment.content_type == "image/jpeg"
    assert attachment.original_name == "photo.jpg"
    # The anonymous reporter's address is nowhere.
    assert not AuditEvent.objects.filter(ip_address__isnull=False).exists()
    html = response.content.decode()
    assert "Write this code down now." in html and "It is shown only once" in html
    assert "nobody at school can look it up" in html
    assert f"{settings.BTAM_PUBLIC_BASE_URL}/report/follow-up/" in html


def test_the_receipt_is_in_no_url_header_or_cookie_and_is_not_cached(client: Client, school: School) -> None:
    response = submit(client, school)

    code = receipt_code(response)
    assert response.status_code == 200 and "Location" not in response
    assert "no-store" in response["Cache-Control"]
    for header, value in response.items():
        assert code not in value and code.replace("-", "") not in value, header
    for morsel in client.cookies.values():
        assert code not in morsel.value and code.replace("-", "") not in morsel.value
    # Links on the page lead to the follow-up form, never to something carrying the code.
    assert not re.search(rf'(href|action)="[^"]*{code}', response.content.decode())


def test_identity_and_notice_email_are_stored_when_given(client: Client, school: School) -> None:
    submit(
        client,
        school,
        report_data(
            reporter_role="parent",
            reporter_name="Alex Testparent",
            reporter_contact="555-0100",
            notify_email="alex@example.test",
        ),
    )
    report = Report.objects.get()
    assert report.reporter_role == "parent" and report.reporter_name == "Alex Testparent"
    assert report.reporter_contact == "555-0100" and report.notify_email == "alex@example.test"


def test_a_signed_in_user_sending_the_public_form_is_still_an_anonymous_reporter(school: School) -> None:
    client = Client()
    client.force_login(make_member(Role.TEAM_MEMBER, school.district))
    submit(client, school)
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="intake.report")
    assert Report.objects.get().submitted_by is None
    assert event.actor is None and event.ip_address is None


def test_a_double_submission_makes_one_report_and_says_so(client: Client, school: School) -> None:
    data = report_data()
    first = submit(client, school, data)
    second = submit(client, school, data)

    assert Report.objects.count() == 1
    assert second.status_code == 200
    html = second.content.decode()
    assert "We already have this report. Your receipt code was shown when you first sent it." in html
    assert receipt_code(first) not in html and 'data-testid="receipt-code"' not in html


def test_a_fresh_form_carries_a_new_one_time_token(client: Client, school: School) -> None:
    def token() -> str:
        match = re.search(r'name="submission_token" value="([^"]+)"', client.get(form_url(school)).content.decode())
        assert match
        return match.group(1)

    tokens = {token(), token()}
    assert len(tokens) == 2 and all(len(t) == 32 for t in tokens)


def test_a_tampered_token_still_takes_the_report(client: Client, school: School) -> None:
    response = submit(client, school, report_data(submission_token="<not a token>"))
    assert response.status_code == 200 and receipt_code(response)
    assert Report.objects.get().submission_key is None


def test_a_filled_honeypot_keeps_the_report_marked_as_abuse_behind_a_normal_receipt(
    client: Client, school: School
) -> None:
    response = submit(client, school, report_data(website="http://spam.example.test", weapon="no"))

    assert response.status_code == 200
    code = receipt_code(response)
    report = Report.objects.get()
    assert report.is_abuse and find_report_by_code(code) == report
    assert not OutboxMessage.objects.filter(kind="intake.report_received").exists()  # nobody is paged
    normal = submit(client, school)
    assert normal.content.decode().count("Write this code down now.") == 1
    assert OutboxMessage.objects.filter(kind="intake.report_received").count() == 1


def test_the_pages_render_in_spanish(client: Client, school: School) -> None:
    for url in (reverse("report:choose_school"), form_url(school), reverse("report:followup")):
        response = client.get(url, headers={"Accept-Language": "es"})
        assert response.status_code == 200
        assert '<html lang="es">' in response.content.decode()
        assert response["Content-Language"] == "es"


def test_the_form_needs_its_csrf_token(school: School) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(form_url(school)).content.decode()

    refused = client.post(form_url(school), report_data())
    assert refused.status_code == 403 and not Report.objects.exists()

    accepted = client.post(form_url(school), report_data(csrfmiddlewaretoken=csrf_token(page)))
    assert accepted.status_code == 200 and receipt_code(accepted)
    assert Report.objects.count() == 1


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


def test_the_pages_need_no_inline_script_or_style(client: Client, school: School) -> None:
    pages = [
        client.get(reverse("report:choose_school")),
        client.get(form_url(school)),
        submit(client, school),
        submit(client, school, report_data(narrative="")),
        client.get(reverse("report:followup")),
        client.post(reverse("report:followup"), {"code": "nope"}),
    ]
    for response in pages:
        html = response.content.decode()
        assert not _INLINE_SCRIPT.search(html), _INLINE_SCRIPT.search(html)
        assert not _INLINE_STYLE.search(html), _INLINE_STYLE.search(html)
        assert "/static/btam/js/report.js" in html


# The receipt as a text file ------------------------------------------------------------------------------


@override_settings(BTAM_PUBLIC_BASE_URL="https://btam.example.test")
def test_the_receipt_downloads_as_a_text_file_from_a_post(client: Client, school: School) -> None:
    code = receipt_code(submit(client, school))

    response = client.post(reverse("report:receipt_download"), {"code": code.lower().replace("-", "")})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report-receipt.txt"'
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert code in text and "https://btam.example.test/report/follow-up/" in text and "911" in text
    assert client.get(reverse("report:receipt_download")).status_code == 405


@pytest.mark.parametrize("code", ["", "not-a-code", "AAAA-AAAA-AAAA-AAAA", "1", "x" * 5000])
def test_the_receipt_download_answers_nothing_for_a_code_of_no_report(
    client: Client, school: School, code: str
) -> None:
    submit(client, school)
    response = client.post(reverse("report:receipt_download"), {"code": code})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
