"""The Documents tab: uploads (refused before reading when too large), versions, audited downloads,
and the reporters' files through the case's own address."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.cases import document_actions, document_views
from btam.cases.models import Case, Document, DocumentVersion
from btam.cases.tests.documents_timeline_helpers import (
    DOCM_MAIN,
    EXE_BYTES,
    PDF_BYTES,
    close,
    office_zip,
    open_case,
    png_bytes,
    read_only_member,
    report_with_thread,
    school_member,
    stored_files,
    team_member,
    upload,
)
from btam.intake.actions import do_post_reporter_message
from btam.intake.attachments import prepare_upload
from btam.intake.models import Attachment
from btam.intake.tests.triage_helpers import pdf_attachment, png_attachment

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(case: Case) -> str:
    return reverse("cases:documents", args=[case.pk])


def upload_url(case: Case) -> str:
    return reverse("cases:document_upload", args=[case.pk])


def version_url(case: Case, document: Document) -> str:
    return reverse("cases:document_version_upload", args=[case.pk, document.pk])


def download_url(case: Case, version: DocumentVersion) -> str:
    return reverse("cases:document_download", args=[case.pk, version.pk])


def attachment_url(case: Case, attachment: Attachment) -> str:
    return reverse("cases:attachment_download", args=[case.pk, attachment.pk])


def post_file(client: Client, case: Case, data: bytes, name: str, title: str = "") -> Any:
    return client.post(upload_url(case), {"upload-title": title, "upload-file": upload(data, name)})


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def stored(world: Any, case: Case, data: bytes = PDF_BYTES, name: str = "plan.pdf", title: str = "Plan") -> Document:
    return document_actions.do_upload_document(
        actor=team_member(world), case=case, title=title, upload=upload(data, name)
    )


# The tab ------------------------------------------------------------------------------------------


def test_the_tab_lists_documents_with_versions_and_is_audited(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case, title="Safety plan")
    document_actions.do_add_document_version(
        actor=team_member(world), case=case, document=document, upload=upload(b"v2\n", "plan.txt")
    )

    response = client_for(team_member(world)).get(page_url(case))

    assert response.status_code == 200
    html = text_of(response)
    assert "Safety plan" in html and "Download version 2" in html and "Download version 1" in html
    assert "Upload a document" in html and "Upload a new version" in html
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="documents").exists()


def test_the_tab_reads_a_fixed_number_of_queries(world: Any, django_assert_max_num_queries: Any) -> None:
    case = open_case(world)
    for i in range(6):
        document = stored(world, case, title=f"Doc {i}")
        document_actions.do_add_document_version(
            actor=team_member(world), case=case, document=document, upload=upload(PDF_BYTES)
        )
    client = client_for(team_member(world))
    client.get(page_url(case))  # sessions and the like warmed up
    with django_assert_max_num_queries(14):
        assert client.get(page_url(case)).status_code == 200


def test_a_closed_case_shows_no_upload_form(world: Any) -> None:
    case = open_case(world)
    stored(world, case)
    close(case, world)
    html = text_of(client_for(team_member(world)).get(page_url(case)))
    assert "Upload a document" not in html and "Upload a new version" not in html
    assert "cannot be added while the case is closed" in html


# Uploading ----------------------------------------------------------------------------------------


def test_an_upload_stores_the_document_and_returns_to_the_tab(world: Any) -> None:
    case = open_case(world)
    response = post_file(client_for(team_member(world)), case, PDF_BYTES, "minutes.pdf", title="Minutes")
    assert response.status_code == 302 and response["Location"] == page_url(case)
    document = Document.objects.get(case=case)
    assert document.title == "Minutes" and document.current is not None


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def test_a_200_mb_upload_is_refused_with_413_before_the_body_is_read(world: Any) -> None:
    case = open_case(world)
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(200 * MB), "wsgi.input": Unreadable()}
    request = RequestFactory().generic(
        "POST", upload_url(case), b"", content_type="multipart/form-data; boundary=x", **environ
    )
    request.user = team_member(world)
    request.session = SessionStore()

    response = document_views.upload_document(request, pk=case.pk)

    assert isinstance(response, HttpResponse) and response.status_code == 413
    assert "The file is too big: a document can be at most 25 MB. Nothing was stored." in text_of(response)
    assert not Document.objects.exists() and not stored_files()


def test_a_200_mb_upload_gets_413_through_the_whole_stack(world: Any) -> None:
    case = open_case(world)
    response = client_for(team_member(world)).post(
        upload_url(case), b"--x--\r\n", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(200 * MB)
    )
    assert response.status_code == 413
    assert "at most 25 MB" in text_of(response)
    assert not Document.objects.exists() and not stored_files()


def test_a_file_over_the_limit_that_did_not_declare_it_is_cut_off_with_413(world: Any, settings: Any) -> None:
    settings.BTAM_CASE_DOCUMENT_MAX_MB = 1
    case = open_case(world)
    response = post_file(client_for(team_member(world)), case, b"a" * (MB + 10), "big.txt")
    # The body fits the declared limit plus the form's room only just: either way, refused and nothing stored.
    assert response.status_code == 413
    assert not Document.objects.exists() and not stored_files()


def test_uploads_never_go_to_a_plaintext_temporary_file(
    world: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    def no_temporary_file(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", no_temporary_file)
    case = open_case(world)
    big_text = b"line of text\n" * ((settings.FILE_UPLOAD_MAX_MEMORY_SIZE // 13) + 10)
    response = post_file(client_for(team_member(world)), case, big_text, "long.txt")
    assert response.status_code == 302
    assert Document.objects.get(case=case).current.size == len(big_text)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (EXE_BYTES, "grades.pdf", "&quot;grades.pdf&quot; is not really a PDF file"),
        (
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "page.txt",
            "&quot;page.txt&quot; is a web page (HTML)",
        ),
        (office_zip(DOCM_MAIN), "plan.docm", "&quot;plan.docm&quot; holds macros"),
        (b"", "empty.pdf", "&quot;empty.pdf&quot; is empty."),
    ],
)
def test_a_refused_file_gets_400_with_the_reason_and_keeps_the_title(
    world: Any, data: bytes, name: str, expected: str
) -> None:
    case = open_case(world)
    response = post_file(client_for(team_member(world)), case, data, name, title="Typed title")
    assert response.status_code == 400
    html = text_of(response)
    assert expected in html and "The document was not stored." in html
    assert 'value="Typed title"' in html
    assert not Document.objects.exists() and not stored_files()


def test_a_zip_bomb_gets_400_and_stores_nothing(world: Any) -> None:
    bomb = office_zip(extra={"word/media/zeros.bin": b"\x00" * (20 * MB)})
    case = open_case(world)
    response = post_file(client_for(team_member(world)), case, bomb, "plan.docx")
    assert response.status_code == 400
    assert "would unpack to far more than its size" in text_of(response)
    assert not stored_files()


def test_no_file_chosen_gets_a_clear_message(world: Any) -> None:
    case = open_case(world)
    response = client_for(team_member(world)).post(upload_url(case), {"upload-title": "x"})
    assert response.status_code == 400 and "Choose a file to upload." in text_of(response)


def test_an_html_title_is_escaped_on_the_page(world: Any) -> None:
    case = open_case(world)
    client = client_for(team_member(world))
    post_file(client, case, PDF_BYTES, "a.pdf", title="<script>alert(1)</script>")
    html = client.get(page_url(case)).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_closed_case_refuses_an_upload_with_a_message(world: Any) -> None:
    case = open_case(world)
    close(case, world)
    response = post_file(client_for(team_member(world)), case, PDF_BYTES, "a.pdf")
    assert response.status_code == 400
    assert "This case is closed. Reopen it to change it." in text_of(response)
    assert not stored_files()


def test_a_get_of_the_upload_address_is_not_allowed(world: Any) -> None:
    case = open_case(world)
    assert client_for(team_member(world)).get(upload_url(case)).status_code == 405


def test_a_new_version_through_the_page(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case)
    client = client_for(team_member(world))
    response = client.post(version_url(case, document), {f"doc{document.pk}-file": upload(png_bytes(), "scan.png")})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.current is not None and document.current.number == 2
    assert document.current.content_type == "image/png"


def test_a_refused_version_reopens_its_form_with_the_message(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case)
    response = client_for(team_member(world)).post(
        version_url(case, document), {f"doc{document.pk}-file": upload(EXE_BYTES, "scan.pdf")}
    )
    assert response.status_code == 400
    html = text_of(response)
    assert f'<details id="version-{document.pk}" open>' in html and "is not really a PDF file" in html
    assert DocumentVersion.objects.count() == 1


def test_a_version_upload_to_another_cases_document_is_a_404(world: Any) -> None:
    case, other = open_case(world), open_case(world)
    document = stored(world, other)
    client = client_for(team_member(world))
    response = client.post(version_url(case, document), {f"doc{document.pk}-file": upload(PDF_BYTES)})
    assert response.status_code == 404
    assert client.get(version_url(case, document)).status_code == 404
    assert DocumentVersion.objects.count() == 1


# Downloads ----------------------------------------------------------------------------------------


def test_a_download_is_an_audited_attachment_named_from_the_detected_type(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case, data=PDF_BYTES, name="Jane Doe grades.exe.docx")
    version = document.current
    assert version is not None

    response = client_for(team_member(world)).get(download_url(case, version))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="case-{case.number}-document-{document.pk}-v1.pdf"'
    assert "Jane" not in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(verb=Verb.DOWNLOADED)
    assert event.target_type == "cases.documentversion" and event.target_id == str(version.pk)
    assert event.detail["case"] == case.pk and event.detail["version"] == 1


def test_a_text_document_downloads_as_utf8_text(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case, data="Notes — café\n".encode(), name="notes.txt")
    response = client_for(team_member(world)).get(download_url(case, document.current))  # type: ignore[arg-type]
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].endswith('-v1.txt"')


def test_an_old_version_stays_downloadable(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case)
    first = document.current
    document_actions.do_add_document_version(
        actor=team_member(world), case=case, document=document, upload=upload(b"v2\n", "v2.txt")
    )
    response = client_for(team_member(world)).get(download_url(case, first))  # type: ignore[arg-type]
    assert b"".join(response.streaming_content) == PDF_BYTES  # type: ignore[attr-defined]


def test_a_version_of_another_cases_document_is_a_404(world: Any) -> None:
    case, other = open_case(world), open_case(world)
    document = stored(world, other)
    response = client_for(team_member(world)).get(download_url(case, document.current))  # type: ignore[arg-type]
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


def test_a_reporters_file_downloads_through_the_case_audited(world: Any) -> None:
    report = report_with_thread(world.school, files=(pdf_attachment("scan of note.pdf"),))
    case = open_case(world, reports=(report,))
    attachment = Attachment.objects.get(report=report)

    client = client_for(team_member(world))
    html = text_of(client.get(page_url(case)))
    assert "Download scan of note.pdf" in html and attachment_url(case, attachment) in html

    response = client.get(attachment_url(case, attachment))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="case-{case.number}-{report.reference}-file-{attachment.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(verb=Verb.DOWNLOADED)
    assert event.target_type == "intake.attachment" and event.detail["case"] == case.pk


def test_a_reply_attachment_is_listed_too(world: Any) -> None:
    report = report_with_thread(world.school)
    case = open_case(world, reports=(report,))
    prepared = prepare_upload(upload(png_bytes(), "reply.png"))
    do_post_reporter_message(report=report, body="Here is a picture.", attachments=[prepared])
    html = text_of(client_for(team_member(world)).get(page_url(case)))
    assert "Download reply.png" in html


def test_an_attachment_of_a_report_not_on_the_case_is_a_404(world: Any) -> None:
    on_case = report_with_thread(world.school)
    elsewhere = report_with_thread(world.school, files=(png_attachment(),))
    case = open_case(world, reports=(on_case,))
    open_case(world, reports=(elsewhere,))
    attachment = Attachment.objects.get(report=elsewhere)

    response = client_for(team_member(world)).get(attachment_url(case, attachment))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


# Who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_school", "outsider"])
def test_people_who_cannot_see_the_case_get_404_whatever_the_method(world: Any, who: str) -> None:
    report = report_with_thread(world.school, files=(png_attachment(),))
    case = open_case(world, reports=(report,))
    document = stored(world, case)
    attachment = Attachment.objects.get(report=report)
    user = school_member(world, world.other_school) if who == "other_school" else world.outsider
    client = client_for(user)

    assert client.get(page_url(case)).status_code == 404
    assert post_file(client, case, PDF_BYTES, "a.pdf").status_code == 404
    assert client.post(version_url(case, document), {}).status_code == 404
    assert client.get(download_url(case, document.current)).status_code == 404  # type: ignore[arg-type]
    assert client.get(attachment_url(case, attachment)).status_code == 404
    assert Document.objects.count() == 1 and not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


def test_a_read_only_school_sees_and_downloads_but_gets_403_on_uploads(world: Any) -> None:
    case = open_case(world)
    document = stored(world, case)
    client = client_for(read_only_member(world, case))

    html = text_of(client.get(page_url(case)))
    assert "Read only" in html and "Upload a document" not in html
    assert client.get(download_url(case, document.current)).status_code == 200  # type: ignore[arg-type]
    assert post_file(client, case, PDF_BYTES, "a.pdf").status_code == 403
    assert client.post(version_url(case, document), {}).status_code == 403
    assert Document.objects.count() == 1


def test_roles_without_case_access_are_refused(world: Any) -> None:
    case = open_case(world)
    for role in (Role.AUDITOR, Role.DISTRICT_VIEWER, Role.REFERRING_STAFF):
        assert client_for(world.users[role.value]).get(page_url(case)).status_code == 403
    anonymous = Client().get(page_url(case))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
