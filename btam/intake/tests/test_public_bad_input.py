"""Bad input on the public pages: a clear message and a 4xx, never a 500, nothing stored half-way,
and everything already typed shown again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from btam.audit.models import AuditEvent
from btam.intake import public_views
from btam.intake.models import Attachment, Report
from btam.intake.tests.public_helpers import (
    form_url,
    isolated,
    jpeg,
    make_school,
    png_claiming,
    report_data,
    submit,
)
from btam.orgs.models import School

pytestmark = pytest.mark.django_db

SVG_WITH_SCRIPT = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Iterator[None]:
    with isolated(tmp_path):
        yield


@pytest.fixture
def school() -> School:
    return make_school()


def nothing_stored() -> bool:
    return not Report.objects.exists() and not Attachment.objects.exists() and not AuditEvent.objects.exists()


def refused(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.status_code
    html: str = response.content.decode()
    assert "Traceback" not in html
    return html


# Text ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("narrative", ["", "   \n\t  "])
def test_an_empty_report_is_refused_with_a_summary_linking_to_the_field(
    client: Client, school: School, narrative: str
) -> None:
    html = refused(submit(client, school, report_data(narrative=narrative, location="The gym")))
    assert "Tell us what happened." in html
    assert 'href="#id_narrative"' in html and 'class="usa-alert usa-alert--error btam-error-summary"' in html
    assert 'aria-describedby="id_narrative_helptext id_narrative_errors"' in html
    assert 'value="The gym"' in html  # what was typed is kept
    assert nothing_stored()


def test_a_megabyte_of_text_is_refused_as_too_long(client: Client, school: School) -> None:
    html = refused(submit(client, school, report_data(narrative="x" * 1_000_000)))
    assert "This is too long: at most 20000 characters (you wrote 1000000). Shorten it." in html
    assert 'maxlength="20000"' in html
    assert nothing_stored()


def test_windows_line_breaks_count_once(client: Client, school: School) -> None:
    text = "line\r\n" * 4000  # 24,000 characters as sent, 20,000 as typed
    response = submit(client, school, report_data(narrative=text))
    assert response.status_code == 200
    assert Report.objects.get().narrative == "line\n" * 3999 + "line"


def test_unanswered_urgency_questions_are_asked_again(client: Client, school: School) -> None:
    html = refused(submit(client, school, report_data(weapon="", self_harm="maybe")))
    assert "Say if there is a weapon: yes, no or I don&#x27;t know." in html
    assert "Select a valid choice. maybe is not one of the available choices." in html
    assert 'href="#id_weapon_0"' in html and 'href="#id_self_harm_0"' in html
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("notify_email", "not-an-email", "Enter an email address like name@example.com, or leave it empty."),
        ("threat_date", "31/31/2024", "Enter a real date, for example 2025-05-14."),
        ("threat_date", "0001-01-01", "Enter a real date, for example 2025-05-14."),
        ("reporter_role", "admin", "Select a valid choice."),
        ("person_1_role", "boss", "Select a valid choice."),
        ("location", "y" * 501, "at most 500 characters"),
        ("narrative", "null\x00byte", "Null characters are not allowed."),
    ],
)
def test_a_bad_answer_gets_its_own_message(
    client: Client, school: School, field: str, value: str, message: str
) -> None:
    html = refused(submit(client, school, report_data(**{field: value})))
    assert message in html
    assert nothing_stored()


def test_raw_bytes_that_are_not_utf8_in_a_urlencoded_body_get_400(client: Client, school: School) -> None:
    body = b"narrative=bad+\xff\xfe+bytes&weapon=no&self_harm=no&location=caf\xc3"
    response = client.post(form_url(school), body, content_type="application/x-www-form-urlencoded")
    assert "We could not read what was sent" in refused(response)
    assert nothing_stored()


def test_percent_encoded_bytes_that_are_not_utf8_are_a_form_error(client: Client, school: School) -> None:
    body = b"narrative=bad+%FF%FE+bytes&weapon=no&self_harm=no&location=The+gym"
    response = client.post(form_url(school), body, content_type="application/x-www-form-urlencoded")
    html = refused(response)
    assert "Some characters of this text could not be read" in html and 'value="The gym"' in html
    assert nothing_stored()


def test_invalid_utf8_in_a_multipart_body_is_a_form_error(client: Client, school: School) -> None:
    boundary = "----btamtestboundary"
    parts = [
        (b"narrative", b"bad \xff\xfe bytes"),
        (b"weapon", b"no"),
        (b"self_harm", b"no"),
    ]
    body = b"".join(
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + name
        + b'"\r\n\r\n'
        + value
        + b"\r\n"
        for name, value in parts
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    response = client.post(form_url(school), body, content_type=f"multipart/form-data; boundary={boundary}")
    assert "Some characters of this text could not be read" in refused(response)
    assert nothing_stored()


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "idna", "latin-1"])
def test_a_multipart_body_in_another_charset_gets_400(client: Client, school: School, charset: str) -> None:
    boundary = "----btamtestboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="narrative"\r\n\r\nHe said Friday.\r\n--{boundary}--\r\n'
    ).encode()
    content_type = f"multipart/form-data; charset={charset}; boundary={boundary}"
    response = client.generic("POST", form_url(school), body, content_type=content_type)  # the bytes as they are
    assert "We could not read what was sent" in refused(response)
    assert nothing_stored()


# Files ---------------------------------------------------------------------------------------------------


def test_fifty_files_are_refused_naming_the_limit(client: Client, school: School) -> None:
    files = [jpeg(name=f"photo{i}.jpg") for i in range(50)]
    html = refused(submit(client, school, report_data(attachments=files)))
    assert "You can attach up to 5 files. You chose 50 files: choose again." in html
    assert "the files you chose were not kept: choose them again" in html
    assert nothing_stored()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("photo.jpg", EXE, "image/jpeg"), '"photo.jpg" is not a photo or PDF we can accept.'),
        (SimpleUploadedFile("cute.svg", SVG_WITH_SCRIPT, "image/svg+xml"), '"cute.svg" is not a photo or PDF'),
        (SimpleUploadedFile("page.png", b"<html><script>x()</script></html>", "image/png"), '"page.png" is not a'),
        (png_claiming(30_000, 30_000, "bomb.png"), '"bomb.png"'),
    ],
    ids=["exe named jpg", "svg with script", "html named png", "decompression bomb"],
)
def test_a_bad_file_is_refused_by_name_and_the_text_kept(
    client: Client, school: School, upload: SimpleUploadedFile, message: str
) -> None:
    html = refused(submit(client, school, report_data(location="The library", attachments=[jpeg(), upload])))
    assert message.replace('"', "&quot;") in html
    assert 'value="The library"' in html and "A student in my class said" in html
    assert nothing_stored()


def test_every_bad_file_is_named(client: Client, school: School) -> None:
    files = [
        SimpleUploadedFile("one.jpg", EXE, "image/jpeg"),
        jpeg(name="fine.jpg"),
        SimpleUploadedFile("two.svg", SVG_WITH_SCRIPT, "image/svg+xml"),
    ]
    html = refused(submit(client, school, report_data(attachments=files)))
    assert "&quot;one.jpg&quot;" in html and "&quot;two.svg&quot;" in html and "&quot;fine.jpg&quot;" not in html
    assert html.count('<a class="usa-link" href="#id_attachments">') == 2


# Bodies too large or malformed ---------------------------------------------------------------------------


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def test_a_body_declared_over_the_limit_gets_413_before_it_is_read(school: School) -> None:
    declared = public_views.MAX_POST_BYTES + 1
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(declared), "wsgi.input": Unreadable()}
    request = RequestFactory().generic(
        "POST", form_url(school), b"", content_type="multipart/form-data; boundary=x", **environ
    )
    request.user = AnonymousUser()
    request.session = SessionStore()

    response = public_views.district_school_form(request, district_slug=school.district.slug, school_slug=school.slug)

    assert isinstance(response, HttpResponse) and response.status_code == 413
    html = response.content.decode()
    assert "Too much to send at once" in html and "up to 5 files, 10 MB each" in html and "Call 911" in html
    assert nothing_stored()


def test_uploads_never_go_to_a_plaintext_temporary_file(
    client: Client, school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_temporary_file(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", no_temporary_file)
    big = SimpleUploadedFile(
        "scan.pdf", b"%PDF-1.4\n" + b"0" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1), "application/pdf"
    )

    response = submit(client, school, report_data(attachments=[big, jpeg()]))

    assert response.status_code == 400  # the "PDF" has no end: refused by name, not a crash
    assert "&quot;scan.pdf&quot;" in response.content.decode()


def test_the_limit_is_five_files_of_ten_megabytes_and_a_megabyte_more() -> None:
    assert public_views.MAX_POST_BYTES == 5 * 10 * 1024 * 1024 + 1024 * 1024


def test_an_oversized_declared_body_gets_413_through_the_whole_stack(client: Client, school: School) -> None:
    response = client.post(
        form_url(school),
        b"--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(public_views.MAX_POST_BYTES + 1),
    )
    refused(response, 413)
    assert nothing_stored()


def test_text_over_djangos_memory_limit_gets_413(client: Client, school: School) -> None:
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(form_url(school), f"narrative={big}", content_type="application/x-www-form-urlencoded")
    assert "Too much to send at once" in refused(response, 413)
    assert nothing_stored()


def test_too_many_fields_get_400(client: Client, school: School) -> None:
    body = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.post(form_url(school), body, content_type="application/x-www-form-urlencoded")
    assert "We could not read what was sent" in refused(response, 400)
    assert nothing_stored()


def test_too_many_files_for_django_get_413(client: Client, school: School) -> None:
    files = [
        SimpleUploadedFile(f"f{i}.jpg", b"x", "image/jpeg") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = submit(client, school, report_data(attachments=files))
    assert "Too much to send at once" in refused(response, 413)
    assert nothing_stored()


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\x00bad"],
)
def test_a_malformed_multipart_body_gets_400(client: Client, school: School, content_type: str) -> None:
    response = client.post(form_url(school), b"garbage", content_type=content_type)
    assert response.status_code == 400
    assert nothing_stored()


def test_a_non_numeric_content_length_is_not_a_500(client: Client, school: School) -> None:
    response = client.post(form_url(school), b"", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="x")
    assert response.status_code == 400  # read as an empty body: the form says what is missing
    assert nothing_stored()


def test_the_follow_up_form_refuses_a_large_body_unread(client: Client) -> None:
    response = client.post(
        reverse("report:followup"),
        "code=" + "A" * (public_views.MAX_SMALL_POST_BYTES + 1),
        content_type="application/x-www-form-urlencoded",
    )
    refused(response, 413)


@pytest.mark.parametrize(
    "code",
    [b"\xff\xfe", "ÄÖÜ-ÅÅÅÅ-ÅÅÅÅ-ÅÅÅÅ", "' OR 1=1 --", "<script>alert(1)</script>", "0" * 5000, "0000-0000-0000-000"],
)
def test_odd_codes_get_the_one_generic_answer(client: Client, code: str | bytes) -> None:
    html = refused(client.post(reverse("report:followup"), {"code": code}))
    assert "We could not find a report with that code. Check the code and try again." in html
    assert "<script>alert(1)</script>" not in html
